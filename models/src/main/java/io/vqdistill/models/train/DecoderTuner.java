package io.vqdistill.models.train;

import io.vqdistill.api.Capability;
import io.vqdistill.models.data.DataSplit;
import java.nio.file.Path;

/**
 * The capability of tuning a VQ-VAE's decoder as the decoder of a distilled mixture
 * ({@link DecoderTuning}), declared by a backend whose engine has automatic differentiation. A run
 * writes a checkpoint folder of kind {@link io.vqdistill.models.checkpoint.Checkpoint#KIND_VQVAE},
 * an ordinary VQ-VAE checkpoint with the tuned decoder and codebook, plus the resume state and
 * {@code metrics.csv} beside it, and resumes as {@link ModelTrainer} describes.
 */
public interface DecoderTuner extends Capability {

    @Override
    default String capabilityName() {
        return "tune-decoder";
    }

    /**
     * Tunes the decoder of {@code tuning} on {@code data.train()}; stops early on the mixture's
     * negative log-likelihood of {@code data.validation()}; keeps the best epoch and measures it on
     * {@code data.test()} (see {@link DecoderTuningRunner}). Per-epoch metrics: {@code train_loss}
     * (the loss per image over the candidates, nats), {@code val_loss} (the mixture's NLL per image,
     * nats), {@code val_bpd}.
     *
     * @param dir the checkpoint folder, created if missing
     */
    TrainingReport tuneDecoder(DecoderTuning tuning, TrainingSpec training, DataSplit data, Path dir,
            TrainingListener listener);
}
