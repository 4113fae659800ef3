package io.vqdistill.backend.tensorflow;

import io.vqdistill.api.Backend;
import io.vqdistill.api.TensorContractTest;
import io.vqdistill.api.spi.BackendOptions;

/** The api's tensor contract, run on the TensorFlow backend on the CPU. */
class TfTensorContractTest extends TensorContractTest {
    @Override
    protected Backend createBackend() {
        return new TfBackendProvider().create(new BackendOptions("cpu", 2));
    }
}
