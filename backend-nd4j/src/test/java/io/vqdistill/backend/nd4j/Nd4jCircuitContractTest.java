package io.vqdistill.backend.nd4j;

import io.vqdistill.api.Backend;
import io.vqdistill.api.spi.BackendOptions;
import io.vqdistill.circuits.CircuitContractTest;

/** Runs the circuits module's query contract (likelihoods, marginals, conditionals, MPE, sampling) on this engine. */
class Nd4jCircuitContractTest extends CircuitContractTest {
    @Override
    protected Backend createBackend() {
        return new Nd4jBackendProvider().create(new BackendOptions("cpu", 0));
    }
}
