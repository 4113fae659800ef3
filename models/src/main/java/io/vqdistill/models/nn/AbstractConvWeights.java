package io.vqdistill.models.nn;

/**
 * The base of every backend's {@link ConvWeights}: it keeps the channel counts and kernel size read
 * from the PyTorch-layout weight, the kind (plain or transposed), the {@link NetworkOps} that made
 * the weights and the closed state, which {@link NetworkOpsChecks#conv2d} and
 * {@link NetworkOpsChecks#convTranspose2d} check. A backend adds its engine arrays and implements
 * {@link #release()}; closing twice is harmless.
 */
public abstract class AbstractConvWeights implements ConvWeights {
    private final NetworkOps owner;
    private final int inChannels;
    private final int outChannels;
    private final int kernelHeight;
    private final int kernelWidth;
    private final boolean transposed;
    private final boolean bias;
    private volatile boolean closed;

    /**
     * Weights made by {@code owner} from a weight checked by {@link NetworkOpsChecks#weights}.
     *
     * @param weightShape the PyTorch shape: [out, in, kH, kW], or [in, out, kH, kW] when transposed
     * @param bias        whether the weights include a bias
     */
    protected AbstractConvWeights(NetworkOps owner, long[] weightShape, boolean transposed, boolean bias) {
        this.owner = owner;
        this.inChannels = (int) weightShape[transposed ? 0 : 1];
        this.outChannels = (int) weightShape[transposed ? 1 : 0];
        this.kernelHeight = (int) weightShape[2];
        this.kernelWidth = (int) weightShape[3];
        this.transposed = transposed;
        this.bias = bias;
    }

    /** Frees the engine memory; called once, by the first {@link #close()}. */
    protected abstract void release();

    @Override
    public final int inChannels() {
        return inChannels;
    }

    @Override
    public final int outChannels() {
        return outChannels;
    }

    @Override
    public final int kernelHeight() {
        return kernelHeight;
    }

    @Override
    public final int kernelWidth() {
        return kernelWidth;
    }

    @Override
    public final boolean transposed() {
        return transposed;
    }

    /** True if {@code ops} made these weights. */
    final boolean madeBy(NetworkOps ops) {
        return owner == ops;
    }

    /** True once {@link #close()} has run. */
    public final boolean isClosed() {
        return closed;
    }

    /** Releases the engine memory; later calls do nothing. */
    @Override
    public final synchronized void close() {
        if (!closed) {
            closed = true;
            release();
        }
    }

    /** E.g. {@code convolution weights [out 4, in 3, 3x3] with bias}, for messages. */
    public final String describe() {
        return (transposed ? "transposed-convolution weights [in " + inChannels + ", out " + outChannels
                : "convolution weights [out " + outChannels + ", in " + inChannels) + ", " + kernelHeight + "x"
                + kernelWidth + "] " + (bias ? "with bias" : "without bias");
    }

    /** {@link #describe()}, followed by {@code (closed)} once closed. */
    @Override
    public String toString() {
        return describe() + (closed ? " (closed)" : "");
    }
}
