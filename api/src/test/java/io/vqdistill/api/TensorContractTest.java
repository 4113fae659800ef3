package io.vqdistill.api;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.TestInstance;

/**
 * The contract every backend's {@link Tensor} honours. A backend's test module extends this class
 * and returns its own backend from {@link #createBackend()}; the api runs it against the in-memory
 * fake backend.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
public abstract class TensorContractTest {
    protected Backend backend;

    /** Creates the backend under test; called once per test class. */
    protected abstract Backend createBackend();

    @BeforeAll
    void startBackend() {
        backend = createBackend();
    }

    @AfterAll
    void stopBackend() throws Exception {
        backend.close();
    }
}
