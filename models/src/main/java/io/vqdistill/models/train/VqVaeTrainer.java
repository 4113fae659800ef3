package io.vqdistill.models.train;

import io.vqdistill.api.Capability;
import io.vqdistill.models.data.DataSplit;
import java.nio.file.Path;

/**
 * The capability of training a VQ-VAE, declared by a backend whose engine has automatic
 * differentiation. Runs write a checkpoint folder ({@link io.vqdistill.models.checkpoint.Checkpoint})
 * plus, beside it, the state to resume from ({@code resume/}) and one CSV row per epoch
 * ({@code metrics.csv}); see {@link ModelTrainer} for resuming and errors. A backend that also
 * trains the prior declares {@link ModelTrainer}, which extends this.
 */
public interface VqVaeTrainer extends Capability {

    @Override
    default String capabilityName() {
        return "train-vqvae";
    }

    /**
     * Trains a VQ-VAE with {@code spec} on {@code data.train()}, stops early on
     * {@code data.validation()}, keeps the best epoch, and measures it on {@code data.test()}
     * (reconstruction NLL in nats and bits per dimension, codebook usage), recording those in the
     * checkpoint. Per-epoch metrics: {@code train_loss}, {@code val_loss} (per image),
     * {@code val_nll} (nats per image), {@code val_bpd}, {@code codes_used}, {@code perplexity}.
     *
     * @param dir the checkpoint folder, created if missing
     */
    TrainingReport trainVqVae(VqVaeSpec spec, TrainingSpec training, DataSplit data, Path dir,
            TrainingListener listener);
}
