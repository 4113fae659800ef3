package io.vqdistill.backend.djl;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.convolutional.Conv2d;
import io.vqdistill.api.DType;
import io.vqdistill.api.Shapes;
import io.vqdistill.api.Tensor;
import io.vqdistill.api.TensorException;
import io.vqdistill.api.nn.Activation;
import io.vqdistill.api.nn.ConvWeights;
import io.vqdistill.api.nn.NetworkOps;
import io.vqdistill.backend.djl.nn.Layers;
import java.util.Arrays;
import java.util.function.Supplier;

/**
 * {@link NetworkOps} on DJL's PyTorch engine, declared by {@link DjlBackend}. PyTorch computes in
 * NCHW with PyTorch's weight layouts, so weights are only copied, never converted. A convolution is
 * DJL's {@link Conv2d#conv2d}; DJL has no transposed convolution, which is therefore computed
 * exactly by {@link Layers#convTranspose2d}, the polyphase algorithm the VQ-VAE decoder trains with.
 *
 * <p>Each call works on fresh handles of its input and weights owned by a manager of its own, so
 * its intermediate arrays are freed when it returns and calls may run on several threads at once.
 */
public final class DjlNetworkOps implements NetworkOps {
    private static final Shape NO_DILATION = new Shape(1, 1);

    private final DjlBackend backend;

    DjlNetworkOps(DjlBackend backend) {
        this.backend = backend;
    }

    /** A copy of one convolution's weight and bias in a manager of its own. */
    private final class Weights implements ConvWeights {
        private final NDManager manager;
        private final NDArray weight;
        private final NDArray bias;
        private final long[] shape;
        private final boolean transposed;
        private volatile boolean closed;

        Weights(NDManager manager, NDArray weight, NDArray bias, boolean transposed) {
            this.manager = manager;
            this.weight = weight;
            this.bias = bias;
            this.shape = weight.getShape().getShape();
            this.transposed = transposed;
        }

        /** The capability that made these weights. */
        DjlNetworkOps owner() {
            return DjlNetworkOps.this;
        }

        @Override
        public int inChannels() {
            return (int) shape[transposed ? 0 : 1];
        }

        @Override
        public int outChannels() {
            return (int) shape[transposed ? 1 : 0];
        }

        @Override
        public int kernelHeight() {
            return (int) shape[2];
        }

        @Override
        public int kernelWidth() {
            return (int) shape[3];
        }

        @Override
        public boolean transposed() {
            return transposed;
        }

        /** Frees the copies; idempotent. */
        @Override
        public synchronized void close() {
            if (!closed) {
                closed = true;
                manager.close();
            }
        }

        @Override
        public String toString() {
            return (transposed ? "transposed conv weights " : "conv weights ") + Shapes.format(shape)
                    + (bias == null ? " without bias" : " with bias") + (closed ? " (closed)" : "");
        }
    }

    @Override
    public ConvWeights convWeights(Tensor weight, Tensor bias) {
        return weights("convWeights", weight, bias, false);
    }

    @Override
    public ConvWeights transposedConvWeights(Tensor weight, Tensor bias) {
        return weights("transposedConvWeights", weight, bias, true);
    }

    private ConvWeights weights(String op, Tensor weight, Tensor bias, boolean transposed) {
        NDArray w = array(op, "weight", weight);
        if (weight.rank() != 4 || weight.dtype() != DType.FLOAT32) {
            throw new TensorException(op + " (backend " + backend.name() + "): weight must be float32 "
                    + (transposed ? "[in, out, kH, kW]" : "[out, in, kH, kW]") + ", found " + describe(weight));
        }
        long out = weight.shape(transposed ? 1 : 0);
        NDArray b = null;
        if (bias != null) {
            b = array(op, "bias", bias);
            if (bias.rank() != 1 || bias.shape(0) != out || bias.dtype() != DType.FLOAT32) {
                throw new TensorException(op + " (backend " + backend.name() + "): bias of weight "
                        + Shapes.format(weight.shape()) + " must be float32 [" + out + "], found " + describe(bias));
            }
        }
        NDArray wSource = w;
        NDArray bSource = b;
        return engine(op, "weight " + describe(weight), () -> {
            NDManager manager = backend.manager().newSubManager();
            try {
                return new Weights(manager, copy(wSource, manager), bSource == null ? null : copy(bSource, manager),
                        transposed);
            } catch (RuntimeException e) {
                manager.close();
                throw e;
            }
        });
    }

    @Override
    public Tensor conv2d(Tensor x, ConvWeights weights, int stride, int padH, int padW) {
        Weights w = weights("conv2d", x, weights, false);
        String call = "conv2d (backend " + backend.name() + ") of input " + describe(x) + " with " + w;
        if (stride < 1 || padH < 0 || padW < 0) {
            throw new TensorException(call + ": stride must be >= 1 and padding >= 0, found stride " + stride
                    + ", padding " + padH + "/" + padW);
        }
        long[] xs = x.shape();
        if (xs[2] + 2L * padH < w.kernelHeight() || xs[3] + 2L * padW < w.kernelWidth()) {
            throw new TensorException(call + ": the kernel is larger than the padded input (padding " + padH + "/"
                    + padW + ")");
        }
        long[] ys = {xs[0], w.outChannels(), (xs[2] + 2L * padH - w.kernelHeight()) / stride + 1,
            (xs[3] + 2L * padW - w.kernelWidth()) / stride + 1};
        return run(call, x, w, ys, (in, weight, bias) -> Conv2d.conv2d(in, weight, bias, new Shape(stride, stride),
                new Shape(padH, padW), NO_DILATION).singletonOrThrow());
    }

    @Override
    public Tensor convTranspose2d(Tensor x, ConvWeights weights, int stride, int pad, int outputPadding) {
        Weights w = weights("convTranspose2d", x, weights, true);
        String call = "convTranspose2d (backend " + backend.name() + ") of input " + describe(x) + " with " + w;
        if (stride < 1 || pad < 0) {
            throw new TensorException(call + ": stride must be >= 1 and padding >= 0, found stride " + stride
                    + ", padding " + pad);
        }
        if (outputPadding < 0 || outputPadding >= stride) {
            throw new TensorException(call + ": output padding must lie in [0, stride " + stride + "), found "
                    + outputPadding);
        }
        long[] xs = x.shape();
        long[] ys = {xs[0], w.outChannels(), (xs[2] - 1) * stride - 2L * pad + w.kernelHeight() + outputPadding,
            (xs[3] - 1) * stride - 2L * pad + w.kernelWidth() + outputPadding};
        if (ys[2] < 1 || ys[3] < 1) {
            throw new TensorException(call + ": stride " + stride + ", padding " + pad + " and output padding "
                    + outputPadding + " leave an output of " + ys[2] + "x" + ys[3]);
        }
        return run(call, x, w, ys, (in, weight, bias) -> Layers.convTranspose2d(in, weight, bias, stride, pad,
                outputPadding));
    }

    @Override
    public Tensor activation(Activation a, Tensor x) {
        String op = "activation " + a;
        NDArray in = array(op, "input", x);
        if (x.dtype() != DType.FLOAT32) {
            throw new TensorException(op + " (backend " + backend.name() + "): input must be float32, found "
                    + describe(x));
        }
        // one engine operation, so no intermediates: the result is attached to the backend's manager
        NDArray out = engine(op, "input " + describe(x), () -> switch (a) {
            case RELU -> ai.djl.nn.Activation.relu(in);
            case SIGMOID -> ai.djl.nn.Activation.sigmoid(in);
            case TANH -> ai.djl.nn.Activation.tanh(in);
        });
        return checked(op, DjlTensor.wrap(backend, out), x.shape());
    }

    // ---- checks and scoping ---------------------------------------------------------------------

    /** An engine operation on an input and weights that stay owned by their callers. */
    @FunctionalInterface
    private interface Kernel {
        NDArray apply(NDArray input, NDArray weight, NDArray bias);
    }

    /**
     * Runs {@code kernel} on new handles of the input and the weights attached to a manager of this
     * call, which frees every intermediate array when it closes; the result moves to the backend's
     * manager. An empty batch gives zeros of the result shape without calling the engine.
     */
    private Tensor run(String call, Tensor x, Weights w, long[] resultShape, Kernel kernel) {
        if (Shapes.size(resultShape) == 0) {
            return backend.zeros(DType.FLOAT32, resultShape);
        }
        NDArray input = ((DjlTensor) x).array();
        NDArray out = engine(call, "", () -> {
            try (NDManager scope = backend.manager().newSubManager()) {
                NDArray y = kernel.apply(handle(input, scope), handle(w.weight, scope),
                        w.bias == null ? null : handle(w.bias, scope));
                y.attach(backend.manager());
                return y;
            }
        });
        return checked(call, DjlTensor.wrap(backend, out), resultShape);
    }

    /** A new handle on the storage of {@code a} (no copy), owned by {@code scope}, so results of operations on it land there. */
    private static NDArray handle(NDArray a, NDManager scope) {
        NDArray view = a.reshape(a.getShape());
        view.attach(scope);
        return view;
    }

    /** A copy of {@code a} owned by {@code manager}. */
    private static NDArray copy(NDArray a, NDManager manager) {
        NDArray c = a.duplicate();
        c.attach(manager);
        return c;
    }

    /** Checks the input and the weights of a convolution; returns the weights as this class's own. */
    private Weights weights(String op, Tensor x, ConvWeights weights, boolean transposed) {
        array(op, "input", x);
        String call = op + " (backend " + backend.name() + ") of input " + describe(x);
        if (!(weights instanceof Weights w) || w.owner() != this) {
            throw new TensorException(call + ": the weights were not made by this backend's NetworkOps: " + weights);
        }
        if (w.closed) {
            throw new TensorException(call + ": " + w + " were closed");
        }
        if (w.transposed != transposed) {
            throw new TensorException(call + ": " + w + (transposed
                    ? " are for a plain convolution, not a transposed one (use transposedConvWeights)"
                    : " are for a transposed convolution (use convTranspose2d)"));
        }
        if (x.rank() != 4 || x.dtype() != DType.FLOAT32 || x.shape(1) != w.inChannels()) {
            throw new TensorException(call + ": input must be float32 [B, " + w.inChannels() + ", H, W] for " + w);
        }
        return w;
    }

    /** The array of an open tensor of this backend. */
    private NDArray array(String op, String role, Tensor t) {
        if (t == null) {
            throw new TensorException(op + " (backend " + backend.name() + "): " + role + " is null");
        }
        if (t.backend() != backend) {
            throw new TensorException(op + " (backend " + backend.name() + "): " + role + " " + describe(t)
                    + " belongs to another backend instance (" + t.backend() + ")");
        }
        if (t.isClosed()) {
            throw new TensorException(op + " (backend " + backend.name() + "): " + role + " " + describe(t)
                    + " was closed");
        }
        return ((DjlTensor) t).array();
    }

    /** Runs engine code; an engine exception becomes a TensorException naming the call. */
    private <R> R engine(String call, String operand, Supplier<R> body) {
        try {
            return body.get();
        } catch (TensorException e) {
            throw e;
        } catch (RuntimeException | LinkageError e) {
            String on = operand.isEmpty() ? "" : " on " + operand;
            throw new TensorException(call + " failed in the engine" + on + ": " + e, e);
        }
    }

    /** Returns {@code t} if it has {@code shape} and is FLOAT32; otherwise closes it and throws. */
    private static Tensor checked(String call, Tensor t, long[] shape) {
        if (t.dtype() != DType.FLOAT32 || !Arrays.equals(t.shape(), shape)) {
            String got = describe(t);
            t.close();
            throw new TensorException(call + ": the engine returned " + got + ", expected float32 "
                    + Shapes.format(shape));
        }
        return t;
    }

    private static String describe(Tensor t) {
        return t.dtype().label() + " " + Shapes.format(t.shape());
    }
}
