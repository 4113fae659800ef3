package io.vqdistill.backend.nd4j;

import io.vqdistill.api.nn.ConvWeights;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * The weight and optional bias of one convolution, held as ND4J arrays in the layouts libnd4j's
 * ops read without a copy: [kH, kW, in, out] for {@code conv2d}, [kH, kW, out, in] for
 * {@code deconv2d}; the bias is a rank-1 array of length out. Both arrays are owned here and freed
 * by {@link #close()}. Made by {@link Nd4jNetworkOps}, which alone accepts it.
 */
final class Nd4jConvWeights implements ConvWeights {
    private final Nd4jNetworkOps owner;
    private final INDArray weight;
    private final INDArray bias;
    private final int inChannels;
    private final int outChannels;
    private final int kernelHeight;
    private final int kernelWidth;
    private final boolean transposed;
    private volatile boolean closed;

    Nd4jConvWeights(Nd4jNetworkOps owner, INDArray weight, INDArray bias, int inChannels, int outChannels,
            int kernelHeight, int kernelWidth, boolean transposed) {
        this.owner = owner;
        this.weight = weight;
        this.bias = bias;
        this.inChannels = inChannels;
        this.outChannels = outChannels;
        this.kernelHeight = kernelHeight;
        this.kernelWidth = kernelWidth;
        this.transposed = transposed;
    }

    @Override
    public int inChannels() {
        return inChannels;
    }

    @Override
    public int outChannels() {
        return outChannels;
    }

    @Override
    public int kernelHeight() {
        return kernelHeight;
    }

    @Override
    public int kernelWidth() {
        return kernelWidth;
    }

    @Override
    public boolean transposed() {
        return transposed;
    }

    /** The {@link Nd4jNetworkOps} that made these weights. */
    Nd4jNetworkOps owner() {
        return owner;
    }

    /** The weight in libnd4j's layout; callers must not close or modify it. */
    INDArray weight() {
        return weight;
    }

    /** The bias [out], or null for none; callers must not close or modify it. */
    INDArray bias() {
        return bias;
    }

    /** True once {@link #close()} has run. */
    boolean isClosed() {
        return closed;
    }

    /** Frees both arrays; later calls do nothing. */
    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        free(weight);
        if (bias != null) {
            free(bias);
        }
    }

    private static void free(INDArray a) {
        if (!a.wasClosed() && a.closeable()) {
            a.close();
        }
    }

    /** E.g. {@code convolution weights [out 4, in 3, 3x3] with bias}, for messages. */
    String describe() {
        return (transposed ? "transposed-convolution weights [in " + inChannels + ", out " + outChannels
                : "convolution weights [out " + outChannels + ", in " + inChannels) + ", " + kernelHeight + "x"
                + kernelWidth + "] " + (bias != null ? "with bias" : "without bias");
    }

    /** {@link #describe()}, followed by {@code (closed)} once closed. */
    @Override
    public String toString() {
        return describe() + (closed ? " (closed)" : "");
    }
}
