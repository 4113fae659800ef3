package io.vqdistill.models.train;

import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.vqdistill.api.InvalidArgumentException;

/**
 * How a network is fitted: Adam with a fixed learning rate on shuffled minibatches, early stopping
 * on the validation loss, the weights of the best epoch kept.
 *
 * @param learningRate Adam's step size, > 0
 * @param batchSize    images (or grids) per step, >= 1
 * @param maxEpochs    the most epochs to train, >= 1
 * @param patience     stop after this many epochs without a better validation loss, >= 1
 * @param seed         seeds initialisation, shuffling and dequantisation noise
 */
public record TrainingSpec(double learningRate, int batchSize, int maxEpochs, int patience, long seed) {

    /** Validates the settings. */
    public TrainingSpec {
        if (!(learningRate > 0) || Double.isInfinite(learningRate)) {
            throw new InvalidArgumentException("learningRate must be positive and finite, found " + learningRate);
        }
        if (batchSize < 1 || maxEpochs < 1 || patience < 1) {
            throw new InvalidArgumentException("batchSize, maxEpochs and patience must be >= 1, found " + batchSize
                    + ", " + maxEpochs + ", " + patience);
        }
    }

    /** These settings as JSON, for checkpoints and resume checks. */
    ObjectNode toJson() {
        ObjectNode n = JsonNodeFactory.instance.objectNode();
        n.put("optimizer", "adam");
        n.put("learning_rate", learningRate);
        n.put("batch_size", batchSize);
        n.put("max_epochs", maxEpochs);
        n.put("patience", patience);
        n.put("seed", seed);
        return n;
    }
}
