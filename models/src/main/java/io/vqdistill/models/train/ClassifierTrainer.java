package io.vqdistill.models.train;

import io.vqdistill.api.Capability;
import io.vqdistill.models.data.DataSplit;
import java.nio.file.Path;

/**
 * The capability of training an image classifier ({@link ClassifierSpec}), declared by a backend
 * whose engine has automatic differentiation. Runs write a checkpoint folder of kind
 * {@link io.vqdistill.models.checkpoint.Checkpoint#KIND_CLASSIFIER} with {@code metrics.csv} and a
 * resume state, and resume and refuse as {@link ModelTrainer}'s runs do.
 */
public interface ClassifierTrainer extends Capability {

    @Override
    default String capabilityName() {
        return "train-classifier";
    }

    /**
     * Trains a classifier with {@code spec} on {@code data.train()} (pixels dequantised with fresh
     * noise every epoch), stops early on {@code data.validation()}, keeps the best epoch, and
     * measures it on {@code data.test()}. Per-epoch metrics: {@code train_loss}, {@code val_loss}
     * (mean cross-entropy, nats), {@code val_accuracy}; final: {@code test_loss},
     * {@code test_accuracy}.
     *
     * @param dir the checkpoint folder, created if missing
     */
    TrainingReport trainClassifier(ClassifierSpec spec, TrainingSpec training, DataSplit data, Path dir,
            TrainingListener listener);
}
