package io.vqdistill.api.train;

import io.vqdistill.api.Capability;
import io.vqdistill.api.data.DataSplit;
import java.nio.file.Path;

/**
 * The capability of training the networks, declared by a backend whose engine has automatic
 * differentiation. Runs write a checkpoint folder ({@link io.vqdistill.api.checkpoint.Checkpoint})
 * plus, beside it, the state to resume from ({@code resume/}) and one CSV row per epoch
 * ({@code metrics.csv}). Starting a run on a folder with an unfinished run of the same
 * configuration resumes it after its last completed epoch; a finished run is not repeated, its
 * report is returned. A folder holding a run of another configuration is an error.
 *
 * <p>Errors: invalid arguments are {@link IllegalArgumentException}s naming the value; engine
 * failures are {@link io.vqdistill.api.BackendException}s; unreadable checkpoints are
 * {@link io.vqdistill.api.FormatException}s.
 */
public interface ModelTrainer extends Capability {

    @Override
    default String capabilityName() {
        return "train";
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
