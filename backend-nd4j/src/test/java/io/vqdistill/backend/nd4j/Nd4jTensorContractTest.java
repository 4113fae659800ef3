package io.vqdistill.backend.nd4j;

import io.vqdistill.api.Backend;
import io.vqdistill.api.TensorContractTest;
import io.vqdistill.api.spi.BackendOptions;

/** The api's tensor contract, run against the ND4J backend. */
class Nd4jTensorContractTest extends TensorContractTest {
    @Override
    protected Backend createBackend() {
        return new Nd4jBackendProvider().create(new BackendOptions("cpu", 0));
    }
}
