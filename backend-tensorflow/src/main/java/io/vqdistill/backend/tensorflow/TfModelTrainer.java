package io.vqdistill.backend.tensorflow;

import io.vqdistill.models.data.DataSplit;
import io.vqdistill.models.train.ClassifierSpec;
import io.vqdistill.models.train.ClassifierTrainer;
import io.vqdistill.models.train.ModelTrainer;
import io.vqdistill.models.train.PriorSpec;
import io.vqdistill.models.train.TrainingListener;
import io.vqdistill.models.train.TrainingReport;
import io.vqdistill.models.train.TrainingSpec;
import io.vqdistill.models.train.VqVaeSpec;
import java.nio.file.Path;

/**
 * Trains the VQ-VAE, the prior and the image classifier on TensorFlow: each run builds its network,
 * gradients and Adam updates as one graph with a session of its own ({@link TfVqVaeNet},
 * {@link TfPixelCnnNet}, {@link TfClassifierNet}); the
 * epoch loop, resume and early stopping are the engine-independent
 * {@link io.vqdistill.models.train.EpochRunner}'s, and checkpoints are in PyTorch's names and
 * layouts, readable by every backend. Runs are independent: several may run at once.
 */
final class TfModelTrainer implements ModelTrainer, ClassifierTrainer {
    private final TfBackend backend;

    TfModelTrainer(TfBackend backend) {
        this.backend = backend;
    }

    /** One capability, shown as {@code train}: it trains every network. */
    @Override
    public String capabilityName() {
        return ModelTrainer.super.capabilityName();
    }

    @Override
    public TrainingReport trainClassifier(ClassifierSpec spec, TrainingSpec training, DataSplit data, Path dir,
            TrainingListener listener) {
        return new TfClassifierTraining(spec, training, data, backend, dir, listener).run();
    }

    @Override
    public TrainingReport trainVqVae(VqVaeSpec spec, TrainingSpec training, DataSplit data, Path dir,
            TrainingListener listener) {
        return new TfVqVaeTraining(spec, training, data, backend, dir, listener).run();
    }

    @Override
    public TrainingReport trainPrior(PriorSpec spec, TrainingSpec training, Path vqVaeDir, DataSplit data, Path dir,
            TrainingListener listener) {
        return new TfPriorTraining(spec, training, vqVaeDir, data, backend, dir, listener).run();
    }

    @Override
    public String toString() {
        return capabilityName() + " (backend " + backend.name() + ")";
    }
}
