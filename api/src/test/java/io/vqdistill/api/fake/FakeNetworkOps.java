package io.vqdistill.api.fake;

import io.vqdistill.api.Backend;
import io.vqdistill.api.DType;
import io.vqdistill.api.Shapes;
import io.vqdistill.api.Tensor;
import io.vqdistill.api.TensorException;
import io.vqdistill.api.nn.Activation;
import io.vqdistill.api.nn.ConvWeights;
import io.vqdistill.api.nn.NetworkOps;
import io.vqdistill.api.nn.ReferenceConv;

/**
 * {@link NetworkOps} of the fake backend: {@link ReferenceConv} in double precision, results rounded
 * to float32. Declared only by a backend made with {@link FakeBackend#withNetworkOps()}, so the
 * default fake keeps declaring no capability. It accepts tensors of the fake backend that declares
 * it and weights it made itself.
 */
public final class FakeNetworkOps implements NetworkOps {

    /** Creates the capability; the backend declaring it is given by its tensors. */
    public FakeNetworkOps() {
    }

    /** Weights kept as double copies in PyTorch's layout. */
    private final class Weights implements ConvWeights {
        private final double[] weight;
        private final long[] shape;
        private final double[] bias;
        private final boolean transposed;

        Weights(double[] weight, long[] shape, double[] bias, boolean transposed) {
            this.weight = weight;
            this.shape = shape;
            this.bias = bias;
            this.transposed = transposed;
        }

        /** The capability that made these weights. */
        FakeNetworkOps owner() {
            return FakeNetworkOps.this;
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

        /** Nothing to release: the arrays belong to the Java heap. */
        @Override
        public void close() {
        }

        @Override
        public String toString() {
            return (transposed ? "transposed " : "") + "conv weights " + Shapes.format(shape);
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
        String layout = transposed ? "[in, out, kH, kW]" : "[out, in, kH, kW]";
        checkTensor(op, "weight", weight);
        if (weight.rank() != 4 || weight.dtype() != DType.FLOAT32) {
            throw new TensorException(op + " (backend fake): weight must be float32 " + layout + ", found "
                    + describe(weight));
        }
        long out = weight.shape(transposed ? 1 : 0);
        if (bias != null) {
            checkTensor(op, "bias", bias);
            if (bias.rank() != 1 || bias.shape(0) != out || bias.dtype() != DType.FLOAT32) {
                throw new TensorException(op + " (backend fake): bias of weight " + Shapes.format(weight.shape())
                        + " must be float32 [" + out + "], found " + describe(bias));
            }
        }
        return new Weights(weight.toDoubleArray(), weight.shape(), bias == null ? null : bias.toDoubleArray(),
                transposed);
    }

    @Override
    public Tensor conv2d(Tensor x, ConvWeights weights, int stride, int padH, int padW) {
        Weights w = checkCall("conv2d", x, weights, false);
        String call = "conv2d (backend fake) of input " + Shapes.format(x.shape()) + " with " + w;
        if (stride < 1 || padH < 0 || padW < 0) {
            throw new TensorException(call + ": stride must be >= 1 and padding >= 0, found stride " + stride
                    + ", padding " + padH + "/" + padW);
        }
        long[] xs = x.shape();
        if (xs[2] + 2L * padH < w.kernelHeight() || xs[3] + 2L * padW < w.kernelWidth()) {
            throw new TensorException(call + ": the kernel is larger than the padded input (padding " + padH + "/"
                    + padW + ")");
        }
        long[] ys = ReferenceConv.conv2dShape(xs, w.shape, stride, padH, padW);
        return result(x, ReferenceConv.conv2d(x.toDoubleArray(), xs, w.weight, w.shape, w.bias, stride, padH, padW),
                ys);
    }

    @Override
    public Tensor convTranspose2d(Tensor x, ConvWeights weights, int stride, int pad, int outputPadding) {
        Weights w = checkCall("convTranspose2d", x, weights, true);
        String call = "convTranspose2d (backend fake) of input " + Shapes.format(x.shape()) + " with " + w;
        if (stride < 1 || pad < 0) {
            throw new TensorException(call + ": stride must be >= 1 and padding >= 0, found stride " + stride
                    + ", padding " + pad);
        }
        if (outputPadding < 0 || outputPadding >= stride) {
            throw new TensorException(call + ": output padding must lie in [0, stride " + stride + "), found "
                    + outputPadding);
        }
        long[] xs = x.shape();
        long[] ys = ReferenceConv.convTranspose2dShape(xs, w.shape, stride, pad, outputPadding);
        if (ys[2] < 1 || ys[3] < 1) {
            throw new TensorException(call + ": stride " + stride + ", padding " + pad + " and output padding "
                    + outputPadding + " leave an output of " + ys[2] + "x" + ys[3]);
        }
        return result(x, ReferenceConv.convTranspose2d(x.toDoubleArray(), xs, w.weight, w.shape, w.bias, stride, pad,
                outputPadding), ys);
    }

    @Override
    public Tensor activation(Activation a, Tensor x) {
        checkTensor("activation", "input", x);
        if (x.dtype() != DType.FLOAT32) {
            throw new TensorException("activation " + a + " (backend fake): input must be float32, found "
                    + describe(x));
        }
        return result(x, ReferenceConv.activation(a, x.toDoubleArray()), x.shape());
    }

    /** Checks input and weights of a convolution; returns the weights as this class's own. */
    private Weights checkCall(String op, Tensor x, ConvWeights weights, boolean transposed) {
        checkTensor(op, "input", x);
        String call = op + " (backend fake) of input " + describe(x);
        if (!(weights instanceof Weights w) || w.owner() != this) {
            throw new TensorException(call + ": the weights were not made by this backend's NetworkOps: " + weights);
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

    /** Checks that {@code t} is an open tensor of the fake backend declaring this capability. */
    private void checkTensor(String op, String role, Tensor t) {
        if (t == null) {
            throw new TensorException(op + " (backend fake): " + role + " is null");
        }
        Backend b = t.backend();
        if (!(b instanceof FakeBackend) || b.capability(NetworkOps.class).orElse(null) != this) {
            throw new TensorException(op + " (backend fake): " + role + " " + describe(t)
                    + " belongs to a backend that does not declare these NetworkOps (" + b.name() + ")");
        }
        if (t.isClosed()) {
            throw new TensorException(op + " (backend fake): " + role + " " + describe(t) + " was closed");
        }
    }

    private static Tensor result(Tensor like, double[] values, long[] shape) {
        float[] f = new float[values.length];
        for (int i = 0; i < f.length; i++) {
            f[i] = (float) values[i];
        }
        return like.backend().of(f, shape);
    }

    private static String describe(Tensor t) {
        return t.dtype().label() + " " + Shapes.format(t.shape());
    }
}
