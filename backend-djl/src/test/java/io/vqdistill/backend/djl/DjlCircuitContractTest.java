package io.vqdistill.backend.djl;

import io.vqdistill.api.Backend;
import io.vqdistill.api.spi.BackendOptions;
import io.vqdistill.circuits.CircuitContractTest;

/** Runs the circuits module's query contract (likelihoods, marginals, conditionals, MPE, sampling) on this engine. */
class DjlCircuitContractTest extends CircuitContractTest {
    @Override
    protected Backend createBackend() {
        return new DjlBackendProvider().create(new BackendOptions("cpu", 0));
    }
}
