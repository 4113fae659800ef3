package io.vqdistill.api.fake;

import io.vqdistill.api.Backend;
import io.vqdistill.api.nn.ModelContractTest;

/** Runs the model contract against the fake backend's portable networks. */
class FakeModelContractTest extends ModelContractTest {
    @Override
    protected Backend createBackend() {
        return FakeBackend.withNetworkOps();
    }
}
