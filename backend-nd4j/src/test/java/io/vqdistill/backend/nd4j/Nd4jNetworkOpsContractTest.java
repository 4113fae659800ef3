package io.vqdistill.backend.nd4j;

import io.vqdistill.api.Backend;
import io.vqdistill.api.spi.BackendOptions;
import io.vqdistill.models.nn.NetworkOpsContractTest;

/** The api's network-operations contract, run against the ND4J backend. */
class Nd4jNetworkOpsContractTest extends NetworkOpsContractTest {
    @Override
    protected Backend createBackend() {
        return new Nd4jBackendProvider().create(new BackendOptions("cpu", 0));
    }
}
