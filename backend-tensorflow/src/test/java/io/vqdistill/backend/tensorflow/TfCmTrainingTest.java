package io.vqdistill.backend.tensorflow;

import io.vqdistill.api.Backend;
import io.vqdistill.api.spi.BackendOptions;
import io.vqdistill.models.train.CmTrainerContractTest;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;

class TfCmTrainingTest extends CmTrainerContractTest {
    private Backend backend;

    @BeforeAll
    void start() {
        backend = new TfBackendProvider().create(new BackendOptions("cpu", 2));
    }

    @AfterAll
    void stop() {
        backend.close();
    }

    @Override
    protected Backend backend() {
        return backend;
    }
}
