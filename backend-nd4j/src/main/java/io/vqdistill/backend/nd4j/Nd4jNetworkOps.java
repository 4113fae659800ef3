package io.vqdistill.backend.nd4j;

import io.vqdistill.api.Backend;
import io.vqdistill.api.DType;
import io.vqdistill.api.Shapes;
import io.vqdistill.api.Tensor;
import io.vqdistill.api.TensorException;
import io.vqdistill.api.nn.Activation;
import io.vqdistill.api.nn.ConvWeights;
import io.vqdistill.api.nn.NetworkOps;
import java.util.Arrays;
import java.util.Locale;
import java.util.function.Supplier;
import org.nd4j.enums.WeightsFormat;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.api.ops.impl.layers.convolution.Conv2D;
import org.nd4j.linalg.api.ops.impl.layers.convolution.DeConv2D;
import org.nd4j.linalg.api.ops.impl.layers.convolution.config.Conv2DConfig;
import org.nd4j.linalg.api.ops.impl.layers.convolution.config.DeConv2DConfig;
import org.nd4j.linalg.api.ops.impl.layers.convolution.config.PaddingMode;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;
import org.nd4j.linalg.ops.transforms.Transforms;

/**
 * {@link NetworkOps} on ND4J, with libnd4j's native ops on NCHW arrays: {@code conv2d} (im2col and
 * one OpenBLAS gemm) with explicit padding, {@code deconv2d} (gemm and col2im), and the
 * {@code relu}, {@code sigmoid} and {@code tanh} transforms. Weights are copied once into the
 * layouts those ops read without a per-call copy: [kH, kW, in, out] for conv2d and
 * [kH, kW, out, in] for deconv2d (libnd4j's default weight formats).
 *
 * <p>libnd4j's {@code deconv2d} has no output padding: it produces (H - 1) stride - 2 pad + kH
 * rows. PyTorch's transposed convolution is the uncropped result (pad 0) cut to rows
 * [pad, pad + (H - 1) stride - 2 pad + kH + outputPadding), where rows past the uncropped result
 * hold the bias alone. So for outputPadding &lt;= pad the op runs with pad - outputPadding and the
 * first outputPadding rows and columns are dropped; for outputPadding &gt; pad it runs unpadded and
 * the result is placed into a zero array that gets the bias afterwards.
 *
 * <p>Every argument is checked before the engine runs; a wrong shape, dtype or setting, weights from
 * another {@link NetworkOps} or of the other kind are a {@link TensorException} naming the
 * operation and the input, and engine failures are wrapped into one.
 */
final class Nd4jNetworkOps implements NetworkOps {
    private final Nd4jBackend backend;

    Nd4jNetworkOps(Nd4jBackend backend) {
        this.backend = backend;
    }

    // ---- weights ------------------------------------------------------------------------------

    /** Copies an OIHW weight into [kH, kW, in, out] and the bias into an array of its own. */
    @Override
    public ConvWeights convWeights(Tensor weight, Tensor bias) {
        return prepare("convWeights", weight, bias, false);
    }

    /** Copies an (in, out, kH, kW) weight into [kH, kW, out, in] and the bias into an array of its own. */
    @Override
    public ConvWeights transposedConvWeights(Tensor weight, Tensor bias) {
        return prepare("transposedConvWeights", weight, bias, true);
    }

    private ConvWeights prepare(String op, Tensor weight, Tensor bias, boolean transposed) {
        backend.checkOpen(op);
        String layout = transposed ? "[in, out, kH, kW]" : "[out, in, kH, kW]";
        checkOperand(op, "weight", weight);
        long[] ws = weight.shape();
        if (weight.dtype() != DType.FLOAT32 || ws.length != 4) {
            throw error(op, "weight must be float32 " + layout + ", found " + describe(weight));
        }
        for (long length : ws) {
            if (length < 1 || length > Integer.MAX_VALUE) {
                throw error(op, "weight " + describe(weight) + " must have lengths in [1, " + Integer.MAX_VALUE
                        + "] on every axis");
            }
        }
        int out = (int) ws[transposed ? 1 : 0];
        int in = (int) ws[transposed ? 0 : 1];
        if (bias != null) {
            checkOperand(op, "bias", bias);
            long[] bs = bias.shape();
            if (bias.dtype() != DType.FLOAT32 || bs.length != 1 || bs[0] != out) {
                throw error(op, "bias must be float32 [" + out + "], one value per output channel of weight "
                        + layout + " = " + Shapes.format(ws) + ", found " + describe(bias));
            }
        }
        return engine(op, "weight " + describe(weight), () -> {
            try (Scratch s = new Scratch()) {
                // OIHW -> [kH, kW, in, out]; (in, out, kH, kW) -> [kH, kW, out, in]: the same permutation
                INDArray w = s.add(array(weight).permute(2, 3, 1, 0).dup('c'));
                INDArray b = bias == null ? null : s.add(array(bias).dup('c'));
                s.keep(w);
                s.keep(b);
                return new Nd4jConvWeights(this, w, b, in, out, (int) ws[2], (int) ws[3], transposed);
            }
        });
    }

    // ---- convolutions -------------------------------------------------------------------------

    @Override
    public Tensor conv2d(Tensor x, ConvWeights weights, int stride, int padH, int padW) {
        String op = "conv2d";
        String input = checkInput(op, x);
        Nd4jConvWeights w = checkWeights(op, input, weights, false);
        long[] xs = x.shape();
        checkChannels(op, input, xs, w);
        if (stride < 1) {
            throw error(op, input + ": stride must be >= 1, found " + stride);
        }
        if (padH < 0 || padW < 0) {
            throw error(op, input + ": padding must be >= 0, found " + padH + "/" + padW + " (height/width)");
        }
        long paddedH = xs[2] + 2L * padH;
        long paddedW = xs[3] + 2L * padW;
        if (paddedH < w.kernelHeight() || paddedW < w.kernelWidth()) {
            throw error(op, input + ": kernel " + w.kernelHeight() + "x" + w.kernelWidth()
                    + " is larger than the input padded by " + padH + "/" + padW + " (" + paddedH + "x" + paddedW
                    + ")");
        }
        long[] shape = {xs[0], w.outChannels(), (paddedH - w.kernelHeight()) / stride + 1,
            (paddedW - w.kernelWidth()) / stride + 1};
        if (xs[0] == 0) {
            return backend.zeros(DType.FLOAT32, shape);
        }
        INDArray in = array(x);
        return result(op, input, shape, () -> {
            try (Scratch s = new Scratch()) {
                INDArray out = s.add(Nd4jOps.alloc(DataType.FLOAT, shape));
                Conv2DConfig config = Conv2DConfig.builder().kH(w.kernelHeight()).kW(w.kernelWidth())
                        .sH(stride).sW(stride).pH(padH).pW(padW).dH(1).dW(1)
                        // VALID: the explicit pH/pW, no padding of libnd4j's own
                        .paddingMode(PaddingMode.VALID).dataFormat(Conv2DConfig.NCHW)
                        .weightsFormat(WeightsFormat.YXIO).build();
                Nd4j.exec(new Conv2D(operands(in, w.weight(), w.bias()), new INDArray[] {out}, config));
                return s.keep(out);
            }
        }, in);
    }

    @Override
    public Tensor convTranspose2d(Tensor x, ConvWeights weights, int stride, int pad, int outputPadding) {
        String op = "convTranspose2d";
        String input = checkInput(op, x);
        Nd4jConvWeights w = checkWeights(op, input, weights, true);
        long[] xs = x.shape();
        checkChannels(op, input, xs, w);
        if (stride < 1) {
            throw error(op, input + ": stride must be >= 1, found " + stride);
        }
        if (pad < 0) {
            throw error(op, input + ": padding must be >= 0, found " + pad);
        }
        if (outputPadding < 0 || outputPadding >= stride) {
            throw error(op, input + ": output padding must be in [0, stride) = [0, " + stride + "), found "
                    + outputPadding);
        }
        int kH = w.kernelHeight();
        int kW = w.kernelWidth();
        long outH = (xs[2] - 1) * stride - 2L * pad + kH + outputPadding;
        long outW = (xs[3] - 1) * stride - 2L * pad + kW + outputPadding;
        if (outH < 1 || outW < 1) {
            throw error(op, input + ": the output would be empty: (H - 1) stride - 2 pad + k + output padding = "
                    + outH + " x " + outW + " for kernel " + kH + "x" + kW + ", stride " + stride + ", padding " + pad
                    + ", output padding " + outputPadding);
        }
        long[] shape = {xs[0], w.outChannels(), outH, outW};
        if (xs[0] == 0) {
            return backend.zeros(DType.FLOAT32, shape);
        }
        INDArray in = array(x);
        return result(op, input, shape, () -> transposed(in, w, stride, pad, outputPadding, shape), in);
    }

    /** The transposed convolution into a new array of {@code shape}; see the class comment. */
    private static INDArray transposed(INDArray in, Nd4jConvWeights w, int stride, int pad, int outputPadding,
            long[] shape) {
        int kH = w.kernelHeight();
        int kW = w.kernelWidth();
        long h = in.size(2);
        long wd = in.size(3);
        try (Scratch s = new Scratch()) {
            if (outputPadding == 0) {
                INDArray out = s.add(Nd4jOps.alloc(DataType.FLOAT, shape));
                deconv2d(in, w.weight(), w.bias(), kH, kW, stride, pad, out);
                return s.keep(out);
            }
            if (outputPadding <= pad) {
                // rows [pad - op, ...) of the uncropped result, then the first op rows and columns dropped
                int p = pad - outputPadding;
                INDArray computed = s.add(Nd4jOps.alloc(DataType.FLOAT, shape[0], shape[1],
                        (h - 1) * stride - 2L * p + kH, (wd - 1) * stride - 2L * p + kW));
                deconv2d(in, w.weight(), w.bias(), kH, kW, stride, p, computed);
                return computed.get(NDArrayIndex.all(), NDArrayIndex.all(),
                        NDArrayIndex.interval(outputPadding, outputPadding + shape[2]),
                        NDArrayIndex.interval(outputPadding, outputPadding + shape[3])).dup('c');
            }
            // the uncropped result from row and column pad on, then outputPadding - pad rows and columns of bias
            long fullH = (h - 1) * stride + kH;
            long fullW = (wd - 1) * stride + kW;
            INDArray full = s.add(Nd4jOps.alloc(DataType.FLOAT, shape[0], shape[1], fullH, fullW));
            deconv2d(in, w.weight(), null, kH, kW, stride, 0, full);
            INDArray out = s.add(Nd4j.zeros(DataType.FLOAT, shape.clone()));
            out.get(NDArrayIndex.all(), NDArrayIndex.all(), NDArrayIndex.interval(0, fullH - pad),
                    NDArrayIndex.interval(0, fullW - pad))
                    .assign(full.get(NDArrayIndex.all(), NDArrayIndex.all(), NDArrayIndex.interval(pad, fullH),
                            NDArrayIndex.interval(pad, fullW)));
            if (w.bias() != null) {
                Nd4jOps.exec("add", out, out, Nd4jOps.view(w.bias(), 1, shape[1], 1, 1));
            }
            return s.keep(out);
        }
    }

    /** libnd4j's deconv2d of NCHW {@code in} with [kH, kW, out, in] weights into {@code out}. */
    private static void deconv2d(INDArray in, INDArray weight, INDArray bias, int kH, int kW, int stride, int pad,
            INDArray out) {
        DeConv2DConfig config = DeConv2DConfig.builder().kH(kH).kW(kW).sH(stride).sW(stride).pH(pad).pW(pad)
                .dH(1).dW(1).isSameMode(false).dataFormat(DeConv2DConfig.NCHW).build();
        Nd4j.exec(new DeConv2D(operands(in, weight, bias), new INDArray[] {out}, config));
    }

    private static INDArray[] operands(INDArray in, INDArray weight, INDArray bias) {
        return bias == null ? new INDArray[] {in, weight} : new INDArray[] {in, weight, bias};
    }

    // ---- activations --------------------------------------------------------------------------

    /**
     * libnd4j's transforms, on a copy: relu keeps NaN; sigmoid and tanh saturate to exactly 0, 1 and
     * +-1 without NaN.
     */
    @Override
    public Tensor activation(Activation a, Tensor x) {
        String op = "activation";
        backend.checkOpen(op);
        if (a == null) {
            throw error(op, "the activation is null");
        }
        checkOperand(op, "input", x);
        if (x.dtype() != DType.FLOAT32) {
            throw error(op, a.name().toLowerCase(Locale.ROOT) + " needs a float32 tensor, found "
                    + describe(x));
        }
        long[] shape = x.shape();
        if (x.size() == 0) {
            return backend.zeros(DType.FLOAT32, shape);
        }
        INDArray in = array(x);
        return result(op, "input " + describe(x), shape, () -> switch (a) {
            case RELU -> Transforms.relu(in, true);
            case SIGMOID -> Transforms.sigmoid(in, true);
            case TANH -> Transforms.tanh(in, true);
        }, in);
    }

    // ---- checks -------------------------------------------------------------------------------

    /** Checks a [B, C, H, W] float32 input of this backend and returns its description for messages. */
    private String checkInput(String op, Tensor x) {
        backend.checkOpen(op);
        checkOperand(op, "input", x);
        String input = "input " + describe(x);
        long[] xs = x.shape();
        if (x.dtype() != DType.FLOAT32 || xs.length != 4) {
            throw error(op, input + ": the input must be float32 [B, C, H, W]");
        }
        if (xs[2] == 0 || xs[3] == 0) {
            throw error(op, input + ": height and width must be >= 1");
        }
        return input;
    }

    private void checkOperand(String op, String role, Tensor t) {
        if (t == null) {
            throw error(op, role + " is null");
        }
        if (t.backend() != backend) {
            throw error(op, role + " " + t.dtype().label() + " " + Shapes.format(t.shape())
                    + " belongs to another backend instance (" + instance(t.backend()) + ", expected "
                    + instance(backend) + "); move data between backends through Java arrays");
        }
        if (t.isClosed()) {
            throw error(op, role + " " + describe(t) + " is closed (used after close)");
        }
    }

    private Nd4jConvWeights checkWeights(String op, String input, ConvWeights weights, boolean transposed) {
        if (weights == null) {
            throw error(op, input + ": weights are null");
        }
        if (!(weights instanceof Nd4jConvWeights w) || w.owner() != this) {
            String what = weights instanceof Nd4jConvWeights other
                    ? other.describe() + " of another ND4J backend instance" : weights.getClass().getName();
            throw error(op, input + ": the weights (" + what + ") were not made by the NetworkOps of this backend"
                    + " instance (" + instance(backend) + "); prepare them with its "
                    + (transposed ? "transposedConvWeights" : "convWeights"));
        }
        if (w.isClosed()) {
            throw error(op, input + ": the " + w.describe() + " were used after close");
        }
        if (w.transposed() != transposed) {
            throw error(op, input + (transposed
                    ? ": needs transposed-convolution weights (from transposedConvWeights), found " + w.describe()
                    : ": needs convolution weights (from convWeights), found " + w.describe()
                            + "; use convTranspose2d for those"));
        }
        return w;
    }

    private void checkChannels(String op, String input, long[] xs, Nd4jConvWeights w) {
        if (xs[1] != w.inChannels()) {
            throw error(op, input + " has " + xs[1] + " channels, but the " + w.describe() + " take "
                    + w.inChannels());
        }
    }

    // ---- engine calls -------------------------------------------------------------------------

    /**
     * Runs {@code body}, which returns a new array that may be {@code input} itself, and wraps it as a
     * tensor of this backend; it must be float32 of {@code shape}.
     */
    private Tensor result(String op, String operand, long[] shape, Supplier<INDArray> body, INDArray input) {
        Tensor t = engine(op, operand, () -> Nd4jTensor.wrap(backend, body.get(), input));
        if (t.dtype() != DType.FLOAT32 || !Arrays.equals(t.shape(), shape)) {
            String got = describe(t);
            t.close();
            throw error(op, "the engine returned " + got + " for " + operand + ", expected float32 "
                    + Shapes.format(shape));
        }
        return t;
    }

    /** Runs engine code; an engine exception becomes a TensorException naming the op and the operand. */
    private static <R> R engine(String op, String operand, Supplier<R> body) {
        try {
            return body.get();
        } catch (TensorException e) {
            throw e;
        } catch (RuntimeException | LinkageError e) {
            throw new TensorException(op + " (backend " + Nd4jBackend.NAME + ") failed in the engine on " + operand
                    + ": " + e, e);
        }
    }

    private static INDArray array(Tensor t) {
        return ((Nd4jTensor) t).array();
    }

    private static String describe(Tensor t) {
        return t.dtype().label() + " " + Shapes.format(t.shape());
    }

    private static String instance(Backend b) {
        return b.name() + "@" + Integer.toHexString(System.identityHashCode(b));
    }

    private static TensorException error(String op, String problem) {
        return new TensorException(op + " (backend " + Nd4jBackend.NAME + "): " + problem);
    }
}
