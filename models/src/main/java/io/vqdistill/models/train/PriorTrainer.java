package io.vqdistill.models.train;

import io.vqdistill.api.Capability;
import io.vqdistill.models.data.DataSplit;
import java.nio.file.Path;

/**
 * The capability of training the class-conditional prior over a VQ-VAE's code grids, declared by
 * a backend whose engine has automatic differentiation; see {@link ModelTrainer} for the folder
 * layout, resuming and errors. A backend that also trains the VQ-VAE declares {@link ModelTrainer},
 * which extends this.
 */
public interface PriorTrainer extends Capability {

    @Override
    default String capabilityName() {
        return "train-prior";
    }

    /**
     * Trains the class-conditional prior {@code spec} on the grids the VQ-VAE of {@code vqVaeDir}
     * assigns to {@code data.train()} (with their labels), stops early on the validation grids, and
     * measures the test grids' NLL. The class prior log p(c) is the label frequency of
     * {@code data.train()}. Per-epoch metrics: {@code train_nll}, {@code val_nll} (nats per grid).
     *
     * @param vqVaeDir a VQ-VAE checkpoint whose latent shape equals {@code spec.latent()}
     * @param dir      the prior's checkpoint folder, created if missing
     */
    TrainingReport trainPrior(PriorSpec spec, TrainingSpec training, Path vqVaeDir, DataSplit data, Path dir,
            TrainingListener listener);
}
