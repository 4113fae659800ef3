package io.vqdistill.backend.djl;

import io.vqdistill.api.Backend;
import io.vqdistill.api.TensorContractTest;
import io.vqdistill.api.spi.BackendOptions;

/** Runs the api's tensor contract against the DJL backend on the CPU. */
class DjlTensorContractTest extends TensorContractTest {
    @Override
    protected Backend createBackend() {
        return new DjlBackendProvider().create(new BackendOptions("cpu", 0));
    }
}
