package io.vqdistill.backend.djl.nn;

import ai.djl.ndarray.NDManager;
import io.vqdistill.api.Backend;
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
 * Trains the VQ-VAE, the prior and the image classifier with DJL's eager autograd on the PyTorch
 * engine. One run at a time per JVM: the engine's gradient recording is global.
 */
public final class DjlModelTrainer implements ModelTrainer, ClassifierTrainer {
    private final Backend backend;

    /** A trainer that records {@code backend}'s name and version in the checkpoints it writes. */
    public DjlModelTrainer(Backend backend) {
        this.backend = backend;
    }

    /** One capability, shown as {@code train}: it trains every network. */
    @Override
    public String capabilityName() {
        return ModelTrainer.super.capabilityName();
    }

    @Override
    public synchronized TrainingReport trainVqVae(VqVaeSpec spec, TrainingSpec training, DataSplit data, Path dir,
            TrainingListener listener) {
        try (NDManager root = Networks.rootManager(backend)) {
            return new VqVaeTraining(spec, training, data, backend, root, dir, listener).run();
        }
    }

    @Override
    public synchronized TrainingReport trainPrior(PriorSpec spec, TrainingSpec training, Path vqVaeDir, DataSplit data,
            Path dir, TrainingListener listener) {
        try (NDManager root = Networks.rootManager(backend)) {
            return new PriorTraining(spec, training, vqVaeDir, data, backend, root, dir, listener).run();
        }
    }

    @Override
    public synchronized TrainingReport trainClassifier(ClassifierSpec spec, TrainingSpec training, DataSplit data,
            Path dir, TrainingListener listener) {
        try (NDManager root = Networks.rootManager(backend)) {
            return new ClassifierTraining(spec, training, data, backend, root, dir, listener).run();
        }
    }
}
