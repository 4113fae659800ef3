package io.vqdistill.backend.tensorflow;

import io.vqdistill.api.Backend;
import io.vqdistill.api.spi.BackendOptions;
import io.vqdistill.models.nn.NetworkOpsContractTest;

/** The api's network contract (convolutions, transposed convolutions, activations), run on TensorFlow on the CPU. */
class TfNetworkOpsContractTest extends NetworkOpsContractTest {
    @Override
    protected Backend createBackend() {
        return new TfBackendProvider().create(new BackendOptions("cpu", 2));
    }
}
