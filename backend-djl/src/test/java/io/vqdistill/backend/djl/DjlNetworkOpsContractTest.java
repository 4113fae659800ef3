package io.vqdistill.backend.djl;

import io.vqdistill.api.Backend;
import io.vqdistill.api.spi.BackendOptions;
import io.vqdistill.models.nn.NetworkOpsContractTest;

/** Runs the api's network contract against the DJL backend on the CPU. */
class DjlNetworkOpsContractTest extends NetworkOpsContractTest {
    @Override
    protected Backend createBackend() {
        return new DjlBackendProvider().create(new BackendOptions("cpu", 0));
    }
}
