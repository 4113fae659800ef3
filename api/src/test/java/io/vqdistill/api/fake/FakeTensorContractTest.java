package io.vqdistill.api.fake;

import io.vqdistill.api.Backend;
import io.vqdistill.api.TensorContractTest;
import io.vqdistill.api.spi.BackendOptions;

/** Runs the tensor contract against the in-memory fake backend. */
class FakeTensorContractTest extends TensorContractTest {
    @Override
    protected Backend createBackend() {
        return new FakeBackendProvider().create(BackendOptions.defaults());
    }
}
