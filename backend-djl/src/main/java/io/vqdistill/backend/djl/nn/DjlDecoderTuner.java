package io.vqdistill.backend.djl.nn;

import ai.djl.ndarray.NDManager;
import io.vqdistill.api.Backend;
import io.vqdistill.models.data.DataSplit;
import io.vqdistill.models.train.DecoderTuner;
import io.vqdistill.models.train.DecoderTuning;
import io.vqdistill.models.train.TrainingListener;
import io.vqdistill.models.train.TrainingReport;
import io.vqdistill.models.train.TrainingSpec;
import java.nio.file.Path;

/**
 * Tunes VQ-VAE decoders as the decoders of distilled mixtures with DJL's eager autograd on the
 * PyTorch engine ({@link DjlDecoderTuning}). One run at a time per tuner: the engine's gradient
 * recording is global.
 */
public final class DjlDecoderTuner implements DecoderTuner {
    private final Backend backend;

    /** A tuner that records {@code backend}'s name and version in the checkpoints it writes. */
    public DjlDecoderTuner(Backend backend) {
        this.backend = backend;
    }

    @Override
    public synchronized TrainingReport tuneDecoder(DecoderTuning tuning, TrainingSpec training, DataSplit data,
            Path dir, TrainingListener listener) {
        try (NDManager root = Networks.rootManager(backend)) {
            return new DjlDecoderTuning(tuning, training, data, backend, root, dir, listener).run();
        }
    }

    @Override
    public String toString() {
        return capabilityName() + " (backend " + backend.name() + ")";
    }
}
