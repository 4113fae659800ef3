package io.vqdistill.backend.tensorflow;

import io.vqdistill.api.DType;
import io.vqdistill.api.Shapes;
import io.vqdistill.api.Tensor;
import io.vqdistill.api.TensorException;
import io.vqdistill.api.TensorScope;
import io.vqdistill.api.nn.Activation;
import io.vqdistill.api.nn.ConvWeights;
import io.vqdistill.api.nn.NetworkOps;
import io.vqdistill.backend.tensorflow.TfEngine.Kernel;
import io.vqdistill.backend.tensorflow.TfEngine.KernelBuilder;
import io.vqdistill.backend.tensorflow.TfTensor.Feeds;
import java.util.Arrays;
import java.util.function.Supplier;
import org.tensorflow.Output;
import org.tensorflow.proto.DataType;

/**
 * The {@link NetworkOps} capability of the TensorFlow backend: convolutions, transposed
 * convolutions and activations run as cached kernels of the backend's {@link TfEngine}, like every
 * tensor operation.
 *
 * <p>Layout: activations stay NCHW for callers, and each convolution kernel transposes its input to
 * NHWC, runs TensorFlow's NHWC {@code Conv2D} (or {@code Conv2DBackpropInput}) with the bias added
 * by {@code BiasAdd}, and transposes the result back, all within one session run. On the CPU this
 * was faster than {@code Conv2D} with {@code data_format=NCHW} for every convolution with a kernel
 * larger than 1x1, and NCHW convolutions were 20 to 500 times slower with one input or output
 * channel or a batch of one; TensorFlow's CPU {@code Conv2DBackpropInput} runs NHWC only. Filters
 * are transposed once, in {@link #convWeights} and {@link #transposedConvWeights}, from PyTorch's
 * OIHW to HWIO and from PyTorch's (in, out, kH, kW) to (kH, kW, out, in).
 *
 * <p>Padding is TensorFlow's {@code EXPLICIT} padding attribute; a transposed convolution is the
 * gradient of the convolution it transposes, so {@code Conv2DBackpropInput} receives PyTorch's
 * output size as its {@code input_sizes} (the output padding being the rows and columns that size
 * adds at the bottom and right) and PyTorch's padding as its explicit padding. Stride and padding
 * are attributes, hence part of a kernel's cache key; a network uses a handful of combinations.
 */
final class TfNetworkOps implements NetworkOps {
    private static final int[] TO_NHWC = {0, 2, 3, 1};
    private static final int[] TO_NCHW = {0, 3, 1, 2};
    /** From OIHW, or from PyTorch's transposed (in, out, kH, kW), to TensorFlow's filter layout. */
    private static final int[] TO_FILTER = {2, 3, 1, 0};

    private final TfBackend backend;

    TfNetworkOps(TfBackend backend) {
        this.backend = backend;
    }

    @Override
    public ConvWeights convWeights(Tensor weight, Tensor bias) {
        return prepare("convWeights", weight, bias, false);
    }

    @Override
    public ConvWeights transposedConvWeights(Tensor weight, Tensor bias) {
        return prepare("transposedConvWeights", weight, bias, true);
    }

    @Override
    public Tensor conv2d(Tensor x, ConvWeights weights, int stride, int padH, int padW) {
        String op = "conv2d";
        long[] s = input(op, x);
        TfConvWeights w = weights(op, s, weights, false);
        if (stride < 1 || padH < 0 || padW < 0) {
            throw error(op, s, "stride must be >= 1 and padding >= 0, found stride " + stride + ", padding ("
                    + padH + ", " + padW + ")");
        }
        if (s[2] + 2L * padH < w.kernelHeight() || s[3] + 2L * padW < w.kernelWidth()) {
            throw error(op, s, "the " + w.kernelHeight() + "x" + w.kernelWidth() + " kernel is larger than the"
                    + " input padded by (" + padH + ", " + padW + ")");
        }
        long outH = (s[2] + 2L * padH - w.kernelHeight()) / stride + 1;
        long outW = (s[3] + 2L * padW - w.kernelWidth()) / stride + 1;
        long[] outShape = {s[0], w.outChannels(), outH, outW};
        if (s[0] == 0) {
            return emptyBatch(outShape);
        }
        boolean hasBias = w.bias != null;
        Kernel k = backend.engine().kernel(TfTensor.key(op, stride, padH, padW, hasBias), b -> {
            Output<?> in = b.input(DataType.DT_FLOAT);
            Output<?> filter = b.input(DataType.DT_FLOAT);
            Output<?> y = b.op("Conv2D", o -> o
                    .setAttr("strides", new long[] {1, stride, stride, 1})
                    .setAttr("padding", "EXPLICIT")
                    .setAttr("explicit_paddings", new long[] {0, 0, padH, padH, padW, padW, 0, 0})
                    .setAttr("data_format", "NHWC"), b.op("Transpose", in, b.constant(TO_NHWC)), filter);
            b.output(toNchw(b, y, hasBias));
        });
        Feeds feeds = new Feeds().add(x).add(w.filter());
        if (hasBias) {
            feeds.add(w.bias());
        }
        return run(op, x, k, feeds, outShape);
    }

    @Override
    public Tensor convTranspose2d(Tensor x, ConvWeights weights, int stride, int pad, int outputPadding) {
        String op = "convTranspose2d";
        long[] s = input(op, x);
        TfConvWeights w = weights(op, s, weights, true);
        if (stride < 1 || pad < 0 || outputPadding < 0 || outputPadding >= stride) {
            throw error(op, s, "stride must be >= 1, padding >= 0 and 0 <= output padding < stride, found stride "
                    + stride + ", padding " + pad + ", output padding " + outputPadding);
        }
        long outH = (s[2] - 1) * stride - 2L * pad + w.kernelHeight() + outputPadding;
        long outW = (s[3] - 1) * stride - 2L * pad + w.kernelWidth() + outputPadding;
        if (outH < 1 || outW < 1) {
            throw error(op, s, "padding " + pad + " leaves no output: with the " + w.kernelHeight() + "x"
                    + w.kernelWidth() + " kernel, stride " + stride + " and output padding " + outputPadding
                    + " the output would be " + outH + "x" + outW);
        }
        long[] outShape = {s[0], w.outChannels(), outH, outW};
        if (outShape[0] > Integer.MAX_VALUE || outH > Integer.MAX_VALUE || outW > Integer.MAX_VALUE) {
            throw error(op, s, "the output " + Shapes.format(outShape) + " is too large");
        }
        if (s[0] == 0) {
            return emptyBatch(outShape);
        }
        boolean hasBias = w.bias != null;
        Kernel k = backend.engine().kernel(TfTensor.key(op, stride, pad, hasBias), b -> {
            Output<?> in = b.input(DataType.DT_FLOAT);
            Output<?> filter = b.input(DataType.DT_FLOAT);
            Output<?> sizes = b.input(DataType.DT_INT32);
            Output<?> y = b.op("Conv2DBackpropInput", o -> o
                    .setAttr("strides", new long[] {1, stride, stride, 1})
                    .setAttr("padding", "EXPLICIT")
                    .setAttr("explicit_paddings", new long[] {0, 0, pad, pad, pad, pad, 0, 0})
                    .setAttr("data_format", "NHWC"), sizes, filter, b.op("Transpose", in, b.constant(TO_NHWC)));
            b.output(toNchw(b, y, hasBias));
        });
        // input_sizes: the NHWC shape of the output, that of the input of the convolution transposed here
        Feeds feeds = new Feeds().add(x).add(w.filter())
                .own(TfTypes.ints((int) outShape[0], (int) outH, (int) outW, w.outChannels()));
        if (hasBias) {
            feeds.add(w.bias());
        }
        return run(op, x, k, feeds, outShape);
    }

    @Override
    public Tensor activation(Activation a, Tensor x) {
        String op = "activation";
        if (a == null) {
            throw error(op, "activation is null");
        }
        operand(op + " " + a, "x", x);
        String name = switch (a) {
            case RELU -> "Relu";
            case SIGMOID -> "Sigmoid";
            case TANH -> "Tanh";
        };
        Kernel k = backend.engine().kernel(TfTensor.key(op, name), b -> b.output(b.op(name, b.input(DataType.DT_FLOAT))));
        return run(op + " " + a, x, k, new Feeds().add(x), x.shape());
    }

    @Override
    public String toString() {
        return capabilityName() + " (backend " + backend.name() + ")";
    }

    // ---- weights ------------------------------------------------------------------------------

    private ConvWeights prepare(String op, Tensor weight, Tensor bias, boolean transposed) {
        long[] ws = operand(op, "weight", weight);
        String layout = transposed ? "[in, out, kH, kW]" : "[out, in, kH, kW]";
        if (ws.length != 4 || Arrays.stream(ws).anyMatch(d -> d < 1 || d > Integer.MAX_VALUE)) {
            throw error(op, "weight must be " + layout + " with every length >= 1, found " + Shapes.format(ws));
        }
        int in = (int) (transposed ? ws[0] : ws[1]);
        int out = (int) (transposed ? ws[1] : ws[0]);
        if (bias != null) {
            long[] bs = operand(op, "bias", bias);
            if (bs.length != 1 || bs[0] != out) {
                throw error(op, "bias must be [" + out + "] for weight " + layout + " " + Shapes.format(ws) + ", found "
                        + Shapes.format(bs));
            }
        }
        Tensor filter = null;
        Tensor biasCopy = null;
        try {
            filter = TensorScope.detach(weight.transpose(TO_FILTER));
            if (bias != null) {
                // a tensor of its own, so that the caller may close the bias it passed
                biasCopy = TensorScope.detach(bias.reshape(out));
            }
            return new TfConvWeights(this, filter, biasCopy, in, out, (int) ws[2], (int) ws[3], transposed);
        } catch (RuntimeException | Error e) {
            if (filter != null) {
                filter.close();
            }
            throw e;
        }
    }

    /** Checks an input x: an open FLOAT32 [B, C, H, W] tensor of this backend, H, W >= 1; returns its shape. */
    private long[] input(String op, Tensor x) {
        long[] s = operand(op, "x", x);
        if (s.length != 4 || s[2] < 1 || s[3] < 1) {
            throw error(op, s, "x must be [B, C, H, W] with H, W >= 1");
        }
        return s;
    }

    /** Checks that {@code weights} are open weights of the right kind, made here, for the input of shape s. */
    private TfConvWeights weights(String op, long[] s, ConvWeights weights, boolean transposed) {
        if (weights == null) {
            throw error(op, s, "weights are null");
        }
        if (!(weights instanceof TfConvWeights w) || w.owner != this) {
            throw error(op, s, "weights " + weights + " were not made by this backend's NetworkOps (" + this + ")");
        }
        if (w.transposed != transposed) {
            throw error(op, s, "weights " + w + " are for a " + (w.transposed ? "transposed convolution"
                    : "convolution") + "; make them with " + (transposed ? "transposedConvWeights" : "convWeights"));
        }
        if (w.closed) {
            throw error(op, s, "weights " + w + " are closed");
        }
        if (s[1] != w.inChannels()) {
            throw error(op, s, "x has " + s[1] + " channels, the weights " + w + " take " + w.inChannels());
        }
        return w;
    }

    /** Checks an open FLOAT32 tensor of this backend; returns its shape. */
    private long[] operand(String op, String role, Tensor t) {
        if (t == null) {
            throw error(op, role + " is null");
        }
        if (t.backend() != backend) {
            throw error(op, role + " belongs to another backend (" + t.backend().name() + "@"
                    + Integer.toHexString(System.identityHashCode(t.backend())) + ", expected " + backend.name() + "@"
                    + Integer.toHexString(System.identityHashCode(backend))
                    + "); move data between backends through Java arrays");
        }
        if (t.isClosed()) {
            throw error(op, role + " " + t.dtype().label() + " " + Shapes.format(t.shape()) + " is closed");
        }
        if (t.dtype() != DType.FLOAT32) {
            throw error(op, role + " must be float32, found " + t.dtype().label() + " " + Shapes.format(t.shape())
                    + " (convert with toType)");
        }
        return t.shape();
    }

    // ---- running ------------------------------------------------------------------------------

    /** The NHWC result {@code y}, plus the kernel's next input as bias if it has one, back in NCHW. */
    private static Output<?> toNchw(KernelBuilder b, Output<?> y, boolean hasBias) {
        Output<?> biased = hasBias ? b.op("BiasAdd", y, b.input(DataType.DT_FLOAT)) : y;
        return b.op("Transpose", biased, b.constant(TO_NCHW));
    }

    /**
     * The result of a convolution of an empty batch. Not left to TensorFlow: on an empty input its CPU
     * Conv2D returns a tensor of the input's shape, not of the output's.
     */
    private Tensor emptyBatch(long[] outShape) {
        return backend.zeros(DType.FLOAT32, outShape);
    }

    /** Runs a kernel on {@code x} and checks that the result is FLOAT32 of {@code shape}. */
    private Tensor run(String op, Tensor x, Kernel k, Feeds feeds, long[] shape) {
        Tensor out = engine(op, x, () -> TfTensor.run1(backend, k, feeds));
        if (!Arrays.equals(out.shape(), shape) || out.dtype() != DType.FLOAT32) {
            String got = out.dtype().label() + " " + Shapes.format(out.shape());
            out.close();
            throw error(op, "engine returned " + got + ", expected float32 " + Shapes.format(shape));
        }
        return out;
    }

    /** Runs engine code; an engine failure becomes a TensorException naming op, backend and operand. */
    private <R> R engine(String op, Tensor operand, Supplier<R> body) {
        try {
            return body.get();
        } catch (TensorException e) {
            throw e;
        } catch (RuntimeException | LinkageError e) {
            throw new TensorException(op + " (backend " + backend.name() + ") failed in the engine on "
                    + operand.dtype().label() + " " + Shapes.format(operand.shape()) + ": " + e, e);
        }
    }

    private TensorException error(String op, String problem) {
        return new TensorException(op + " (backend " + backend.name() + "): " + problem);
    }

    /** An error of a convolution, naming its input's shape. */
    private TensorException error(String op, long[] inputShape, String problem) {
        return error(op, "x " + Shapes.format(inputShape) + ": " + problem);
    }

    /**
     * The filter (HWIO, or (kH, kW, out, in) when transposed) and bias [out] of one convolution, as
     * tensors of the backend detached from every {@link TensorScope}; closing releases both.
     */
    static final class TfConvWeights implements ConvWeights {
        private final TfNetworkOps owner;
        private final Tensor filter;
        private final Tensor bias;
        private final int in;
        private final int out;
        private final int kH;
        private final int kW;
        private final boolean transposed;
        private volatile boolean closed;

        private TfConvWeights(TfNetworkOps owner, Tensor filter, Tensor bias, int in, int out, int kH, int kW,
                boolean transposed) {
            this.owner = owner;
            this.filter = filter;
            this.bias = bias;
            this.in = in;
            this.out = out;
            this.kH = kH;
            this.kW = kW;
            this.transposed = transposed;
        }

        /** The filter in TensorFlow's layout. */
        Tensor filter() {
            return filter;
        }

        /** The bias [out], or null. */
        Tensor bias() {
            return bias;
        }

        @Override
        public int inChannels() {
            return in;
        }

        @Override
        public int outChannels() {
            return out;
        }

        @Override
        public int kernelHeight() {
            return kH;
        }

        @Override
        public int kernelWidth() {
            return kW;
        }

        @Override
        public boolean transposed() {
            return transposed;
        }

        /** Releases the filter and bias; further calls do nothing. */
        @Override
        public synchronized void close() {
            if (!closed) {
                closed = true;
                try {
                    filter.close();
                } finally {
                    if (bias != null) {
                        bias.close();
                    }
                }
            }
        }

        @Override
        public String toString() {
            return (transposed ? "transposed conv " : "conv ") + in + "->" + out + " " + kH + "x" + kW
                    + (bias == null ? " without bias" : "");
        }
    }
}
