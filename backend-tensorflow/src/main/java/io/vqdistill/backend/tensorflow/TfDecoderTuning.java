package io.vqdistill.backend.tensorflow;

import io.vqdistill.models.data.DataSplit;
import io.vqdistill.models.train.DecoderTuning;
import io.vqdistill.models.train.DecoderTuningRunner;
import io.vqdistill.models.train.EpochRunner;
import io.vqdistill.models.train.TrainingListener;
import io.vqdistill.models.train.TrainingSpec;
import java.nio.file.Path;

/** Tunes the decoder of a {@link TfVqVaeNet} (the run's engine); the epoch loop is {@link DecoderTuningRunner}'s. */
final class TfDecoderTuning extends DecoderTuningRunner {
    private final TfBackend tfBackend;
    private TfVqVaeNet net;

    TfDecoderTuning(DecoderTuning tuning, TrainingSpec training, DataSplit data, TfBackend backend, Path dir,
            TrainingListener listener) {
        super(tuning, training, data, backend, dir, listener);
        this.tfBackend = backend;
    }

    @Override
    protected EpochRunner.Engine engine() {
        net = new TfVqVaeNet(tuning, tfBackend.sessionConfig(), tfBackend.pinnedDevice());
        return net;
    }

    @Override
    protected void cacheComponents() {
        net.cacheComponents();
    }

    @Override
    protected double tuneStep(float[] pixels, int b) {
        return net.tuneStep(pixels, b, training.learningRate());
    }

    @Override
    protected double[] logLikelihoods(float[] pixels, int b) {
        return net.mixtureLogLikelihoods(pixels, b);
    }
}
