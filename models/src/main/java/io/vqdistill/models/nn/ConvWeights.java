package io.vqdistill.models.nn;

/**
 * The weight and bias of one convolution, converted once (at load time) into the layout its engine
 * computes in, e.g. HWIO for TensorFlow. Made by {@link NetworkOps#convWeights} or
 * {@link NetworkOps#transposedConvWeights}; only the {@link NetworkOps} that made it accepts it.
 */
public interface ConvWeights extends AutoCloseable {

    /** Input channels. */
    int inChannels();

    /** Output channels. */
    int outChannels();

    /** Kernel height. */
    int kernelHeight();

    /** Kernel width. */
    int kernelWidth();

    /** True for the weights of a transposed convolution. */
    boolean transposed();

    /** Releases the engine memory. */
    @Override
    void close();
}
