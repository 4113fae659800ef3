package io.vqdistill.backend.tensorflow;

import io.vqdistill.api.Backend;
import io.vqdistill.api.spi.BackendOptions;
import io.vqdistill.models.train.DecoderTunerContractTest;
import org.junit.jupiter.api.AfterAll;

/** The {@link DecoderTunerContractTest} on TensorFlow. */
class TfDecoderTuningTest extends DecoderTunerContractTest {
    private final Backend backend = new TfBackendProvider().create(new BackendOptions("cpu", 2));

    @Override
    protected Backend backend() {
        return backend;
    }

    @AfterAll
    void close() {
        backend.close();
    }
}
