package io.vqdistill.models.train;

/**
 * The capability of training both networks, the VQ-VAE ({@link VqVaeTrainer}) and the prior
 * ({@link PriorTrainer}), declared by a backend whose engine has automatic differentiation. A
 * backend that trains only one of them declares that capability alone, so callers ask for the one
 * they need and a missing one is known before any work. Runs write a checkpoint folder
 * ({@link io.vqdistill.models.checkpoint.Checkpoint}) plus, beside it, the state to resume from
 * ({@code resume/}) and one CSV row per epoch ({@code metrics.csv}). Starting a run on a folder
 * with an unfinished run of the same configuration resumes it after its last completed epoch; a
 * finished run is not repeated, its report is returned. A folder holding a run of another
 * configuration is an error.
 *
 * <p>Errors: invalid arguments are {@link io.vqdistill.api.InvalidArgumentException}s naming the value; engine
 * failures are {@link io.vqdistill.api.BackendException}s; unreadable checkpoints are
 * {@link io.vqdistill.api.FormatException}s.
 */
public interface ModelTrainer extends VqVaeTrainer, PriorTrainer {

    @Override
    default String capabilityName() {
        return "train";
    }
}
