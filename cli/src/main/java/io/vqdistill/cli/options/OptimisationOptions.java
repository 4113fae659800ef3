package io.vqdistill.cli.options;

import io.vqdistill.models.train.TrainingSpec;
import picocli.CommandLine.Option;

/** Optimisation options shared by both networks; defaults differ, so they are filled in per command. */
public final class OptimisationOptions {
    /** The default batch size. */
    public static final int DEFAULT_BATCH = 128;
    /** The default epochs without a better validation loss before training stops. */
    public static final int DEFAULT_PATIENCE = 15;
    /** The default seed of initialisation, shuffling and dequantisation noise. */
    public static final long DEFAULT_SEED = 1;

    @Option(names = "--lr", paramLabel = "RATE", description = "Adam's learning rate (default: 3e-4 for the"
            + " prior, 1e-3 for every other network)")
    Double learningRate;

    @Option(names = "--batch", paramLabel = "N", defaultValue = "" + DEFAULT_BATCH, description = "batch size"
            + " (default: ${DEFAULT-VALUE})")
    int batch;

    @Option(names = "--epochs", paramLabel = "N", defaultValue = "100", description = "at most this many epochs"
            + " (default: ${DEFAULT-VALUE})")
    int epochs;

    @Option(names = "--patience", paramLabel = "N", defaultValue = "" + DEFAULT_PATIENCE, description = "stop after"
            + " N epochs without a better validation loss (default: ${DEFAULT-VALUE})")
    int patience;

    @Option(names = "--seed", paramLabel = "N", defaultValue = "" + DEFAULT_SEED, description = "seeds"
            + " initialisation, shuffling and dequantisation noise (default: ${DEFAULT-VALUE})")
    long seed;

    /**
     * The training these options describe, with {@code defaultLearningRate} unless {@code --lr} is given.
     *
     * @throws io.vqdistill.api.InvalidArgumentException naming {@code --lr}, {@code --batch},
     *                                                  {@code --epochs} or {@code --patience} when out of range
     */
    public TrainingSpec spec(double defaultLearningRate) {
        if (learningRate != null) {
            Flags.positive("--lr", learningRate);
        }
        Flags.atLeastOne("--batch", batch);
        Flags.atLeastOne("--epochs", epochs);
        Flags.atLeastOne("--patience", patience);
        return new TrainingSpec(learningRate == null ? defaultLearningRate : learningRate, batch, epochs, patience,
                seed);
    }
}
