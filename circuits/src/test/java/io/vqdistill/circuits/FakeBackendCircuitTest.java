package io.vqdistill.circuits;

import io.vqdistill.api.Backend;
import io.vqdistill.api.fake.FakeBackendProvider;
import io.vqdistill.api.spi.BackendOptions;

/** The circuit contract on the api's in-memory fake backend. */
class FakeBackendCircuitTest extends CircuitContractTest {
    @Override
    protected Backend createBackend() {
        return new FakeBackendProvider().create(BackendOptions.defaults());
    }
}
