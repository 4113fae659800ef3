package io.vqdistill.backend.tensorflow;

import io.vqdistill.api.Backend;
import io.vqdistill.api.spi.BackendOptions;
import io.vqdistill.models.nn.ModelContractTest;

/** The api's model contract (encoder codes, decoder parameters, prior log-probabilities against a double-precision reference), run on this backend on the CPU. */
class TfModelContractTest extends ModelContractTest {
    @Override
    protected Backend createBackend() {
        return new TfBackendProvider().create(new BackendOptions("cpu", 2));
    }
}
