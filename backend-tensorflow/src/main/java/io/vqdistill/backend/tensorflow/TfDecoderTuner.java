package io.vqdistill.backend.tensorflow;

import io.vqdistill.models.data.DataSplit;
import io.vqdistill.models.train.DecoderTuner;
import io.vqdistill.models.train.DecoderTuning;
import io.vqdistill.models.train.TrainingListener;
import io.vqdistill.models.train.TrainingReport;
import io.vqdistill.models.train.TrainingSpec;
import java.nio.file.Path;

/**
 * Tunes VQ-VAE decoders as the decoders of distilled mixtures on TensorFlow: each run builds the
 * decoder, the cached components' scores, the candidates' loss, its gradients and Adam updates as
 * one graph ({@link TfVqVaeNet} in its tuning form); the epoch loop is
 * {@link io.vqdistill.models.train.DecoderTuningRunner}'s. Runs are independent: several may run at once.
 */
final class TfDecoderTuner implements DecoderTuner {
    private final TfBackend backend;

    TfDecoderTuner(TfBackend backend) {
        this.backend = backend;
    }

    @Override
    public TrainingReport tuneDecoder(DecoderTuning tuning, TrainingSpec training, DataSplit data, Path dir,
            TrainingListener listener) {
        return new TfDecoderTuning(tuning, training, data, backend, dir, listener).run();
    }

    @Override
    public String toString() {
        return capabilityName() + " (backend " + backend.name() + ")";
    }
}
