package io.vqdistill.backend.djl;

import io.vqdistill.api.Backend;
import io.vqdistill.api.spi.BackendOptions;
import io.vqdistill.models.train.DecoderTunerContractTest;
import org.junit.jupiter.api.AfterAll;

/** The {@link DecoderTunerContractTest} on DJL's PyTorch engine on the CPU. */
class DjlDecoderTuningTest extends DecoderTunerContractTest {
    private final Backend backend = new DjlBackendProvider().create(new BackendOptions("cpu", 0));

    @Override
    protected Backend backend() {
        return backend;
    }

    @AfterAll
    void close() {
        backend.close();
    }
}
