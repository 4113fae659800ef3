package io.vqdistill.api.model;

import io.vqdistill.api.Tensor;

/**
 * An image classifier: images to the log-probabilities of their classes. Used to label the
 * samples of a model (the class histogram of its samples). Implementations are backend-specific
 * and loaded from a portable checkpoint.
 */
public interface Classifier extends AutoCloseable {

    /** The shape of the images accepted. */
    ImageShape imageShape();

    /** The number of classes. */
    int numClasses();

    /**
     * Classifies a batch of images.
     *
     * @param images FLOAT32 [B, C, H, W] with pixel values in [0, 1]
     * @return FLOAT32 [B, numClasses] log-probabilities (each row's exponentials sum to 1)
     */
    Tensor logProbs(Tensor images);

    /** Releases the network's engine memory. */
    @Override
    void close();
}
