package io.vqdistill.backend.djl.nn;

import io.vqdistill.api.Backend;
import io.vqdistill.api.spi.BackendOptions;
import io.vqdistill.backend.djl.DjlBackendProvider;
import io.vqdistill.models.train.CmTrainerContractTest;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;

class CmTrainingTest extends CmTrainerContractTest {
    private Backend backend;

    @BeforeAll
    void start() {
        backend = new DjlBackendProvider().create(BackendOptions.defaults());
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
