package io.vqdistill.models.train;

/**
 * Receives a training run's progress, on the training thread; a command line shows it as a progress
 * bar. Every method has an empty default.
 */
public interface TrainingListener {
    /** A listener that ignores everything. */
    TrainingListener NONE = new TrainingListener() {
    };

    /**
     * Training (re)starts.
     *
     * @param what            e.g. {@code vqvae} or {@code prior}
     * @param firstEpoch      the epoch about to run, 1-based (greater than 1 after a resume)
     * @param maxEpochs       the most epochs the run may take
     * @param batchesPerEpoch optimisation steps per epoch
     */
    default void started(String what, int firstEpoch, int maxEpochs, int batchesPerEpoch) {
    }

    /** One optimisation step finished; {@code loss} is the batch's mean loss per image (or grid), in nats. */
    default void batchDone(int epoch, int batch, double loss) {
    }

    /** One epoch finished, with its metrics. */
    default void epochDone(EpochMetrics metrics) {
    }

    /** A notable event: resumed, stopped early, evaluating the test set. */
    default void message(String text) {
    }
}
