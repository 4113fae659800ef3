package io.vqdistill.backend.tensorflow;

import io.vqdistill.models.data.DataSplit;
import io.vqdistill.models.train.CmSpec;
import io.vqdistill.models.train.CmTrainer;
import io.vqdistill.models.train.TrainingListener;
import io.vqdistill.models.train.TrainingReport;
import io.vqdistill.models.train.TrainingSpec;
import java.nio.file.Path;

/**
 * Trains continuous mixtures on TensorFlow: each run builds its decoder, scores, gradients and Adam
 * updates as one graph ({@link TfCmNet}); the epoch loop is {@link io.vqdistill.models.train.CmRunner}'s.
 * Runs are independent: several may run at once.
 */
final class TfCmTrainer implements CmTrainer {
    private final TfBackend backend;

    TfCmTrainer(TfBackend backend) {
        this.backend = backend;
    }

    @Override
    public TrainingReport trainCm(CmSpec spec, TrainingSpec training, DataSplit data, Path dir,
            TrainingListener listener) {
        return new TfCmTraining(spec, training, data, backend, dir, listener).run();
    }

    @Override
    public String toString() {
        return capabilityName() + " (backend " + backend.name() + ")";
    }
}
