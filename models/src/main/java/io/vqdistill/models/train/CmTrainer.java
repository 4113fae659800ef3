package io.vqdistill.models.train;

import io.vqdistill.api.Capability;
import io.vqdistill.models.data.DataSplit;
import java.nio.file.Path;

/**
 * The capability of training a continuous mixture ({@link CmSpec}), declared by a backend whose
 * engine has automatic differentiation. Runs write a checkpoint folder of kind
 * {@link io.vqdistill.models.checkpoint.Checkpoint#KIND_CM} with the decoder's weights, plus the
 * resume state and {@code metrics.csv} beside it, and resume as {@link ModelTrainer} describes.
 */
public interface CmTrainer extends Capability {

    @Override
    default String capabilityName() {
        return "train-cm";
    }

    /**
     * Trains the decoder of {@code spec} on {@code data.train()}, each step on the points of a
     * freshly shifted lattice; stops early on the mixture's negative log-likelihood of
     * {@code data.validation()} at fixed points; keeps the best epoch and measures it on
     * {@code data.test()} (see {@link CmRunner}). Per-epoch metrics: {@code train_loss} (the rule's
     * loss per image, nats), {@code val_loss} (the mixture's NLL per image, nats), {@code val_bpd}.
     *
     * @param dir the checkpoint folder, created if missing
     */
    TrainingReport trainCm(CmSpec spec, TrainingSpec training, DataSplit data, Path dir, TrainingListener listener);
}
