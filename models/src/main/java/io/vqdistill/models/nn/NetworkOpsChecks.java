package io.vqdistill.models.nn;

import io.vqdistill.api.Backend;
import io.vqdistill.api.DType;
import io.vqdistill.api.Shapes;
import io.vqdistill.api.Tensor;
import io.vqdistill.api.TensorException;

/**
 * The argument checks every {@link NetworkOps} implementation applies before its engine runs, with
 * the same messages on every backend. Each failure is a {@link TensorException} starting
 * {@code op (backend name): } and naming the operand, its dtype and shape; the checks of a
 * convolution also name the input and the weights, whose class must extend
 * {@link AbstractConvWeights}.
 */
public final class NetworkOpsChecks {
    private NetworkOpsChecks() {
    }

    /**
     * Checks the arguments of {@link NetworkOps#convWeights} ({@code transposed} false) or
     * {@link NetworkOps#transposedConvWeights}: an open FLOAT32 weight of {@code backend}, rank 4 with
     * every length in [1, 2^31), and a null bias or an open FLOAT32 bias [out].
     */
    public static void weights(String op, Backend backend, Tensor weight, Tensor bias, boolean transposed) {
        String layout = transposed ? "[in, out, kH, kW]" : "[out, in, kH, kW]";
        operand(op, backend, "weight", weight);
        long[] ws = weight.shape();
        if (weight.dtype() != DType.FLOAT32 || ws.length != 4) {
            throw error(op, backend, "weight must be float32 " + layout + ", found " + describe(weight));
        }
        for (long length : ws) {
            if (length < 1 || length > Integer.MAX_VALUE) {
                throw error(op, backend, "weight " + describe(weight) + " must have lengths in [1, "
                        + Integer.MAX_VALUE + "] on every axis");
            }
        }
        long out = ws[transposed ? 1 : 0];
        if (bias != null) {
            operand(op, backend, "bias", bias);
            long[] bs = bias.shape();
            if (bias.dtype() != DType.FLOAT32 || bs.length != 1 || bs[0] != out) {
                throw error(op, backend, "bias must be float32 [" + out + "], one value per output channel of weight "
                        + layout + " = " + Shapes.format(ws) + ", found " + describe(bias));
            }
        }
    }

    /**
     * Checks the arguments of {@link NetworkOps#conv2d} on {@code backend}, whose capability is
     * {@code ops}, and returns the shape of the result.
     *
     * @return [B, out, (H + 2 padH - kH) / stride + 1, (W + 2 padW - kW) / stride + 1]
     */
    public static long[] conv2d(Backend backend, NetworkOps ops, Tensor x, ConvWeights weights, int stride, int padH,
            int padW) {
        String op = "conv2d";
        AbstractConvWeights w = convolution(op, backend, ops, x, weights, false);
        long[] xs = x.shape();
        if (stride < 1) {
            throw error(op, backend, x, "stride must be >= 1, found " + stride);
        }
        if (padH < 0 || padW < 0) {
            throw error(op, backend, x, "padding must be >= 0, found " + padH + "/" + padW + " (height/width)");
        }
        long paddedH = xs[2] + 2L * padH;
        long paddedW = xs[3] + 2L * padW;
        if (paddedH < w.kernelHeight() || paddedW < w.kernelWidth()) {
            throw error(op, backend, x, "kernel " + w.kernelHeight() + "x" + w.kernelWidth()
                    + " is larger than the input padded by " + padH + "/" + padW + " (" + paddedH + "x" + paddedW
                    + ")");
        }
        return new long[] {xs[0], w.outChannels(), (paddedH - w.kernelHeight()) / stride + 1,
            (paddedW - w.kernelWidth()) / stride + 1};
    }

    /**
     * Checks the arguments of {@link NetworkOps#convTranspose2d} on {@code backend}, whose capability
     * is {@code ops}, and returns the shape of the result.
     *
     * @return [B, out, (H - 1) stride - 2 pad + kH + outputPadding, likewise for W]
     */
    public static long[] convTranspose2d(Backend backend, NetworkOps ops, Tensor x, ConvWeights weights, int stride,
            int pad, int outputPadding) {
        String op = "convTranspose2d";
        AbstractConvWeights w = convolution(op, backend, ops, x, weights, true);
        long[] xs = x.shape();
        if (stride < 1) {
            throw error(op, backend, x, "stride must be >= 1, found " + stride);
        }
        if (pad < 0) {
            throw error(op, backend, x, "padding must be >= 0, found " + pad);
        }
        if (outputPadding < 0 || outputPadding >= stride) {
            throw error(op, backend, x, "output padding must be in [0, stride) = [0, " + stride + "), found "
                    + outputPadding);
        }
        int kH = w.kernelHeight();
        int kW = w.kernelWidth();
        long outH = (xs[2] - 1) * stride - 2L * pad + kH + outputPadding;
        long outW = (xs[3] - 1) * stride - 2L * pad + kW + outputPadding;
        if (outH < 1 || outW < 1) {
            throw error(op, backend, x, "the output would be empty: (H - 1) stride - 2 pad + k + output padding = "
                    + outH + " x " + outW + " for kernel " + kH + "x" + kW + ", stride " + stride + ", padding " + pad
                    + ", output padding " + outputPadding);
        }
        return new long[] {xs[0], w.outChannels(), outH, outW};
    }

    /**
     * Checks the arguments of {@link NetworkOps#activation}: a non-null activation and an open FLOAT32
     * tensor of {@code backend}. The operation is named {@code activation RELU} and so on.
     */
    public static void activation(Backend backend, Activation a, Tensor x) {
        if (a == null) {
            throw error("activation", backend, "the activation is null");
        }
        String op = "activation " + a;
        operand(op, backend, "input", x);
        if (x.dtype() != DType.FLOAT32) {
            throw error(op, backend, "input must be float32, found " + describe(x));
        }
    }

    /** The failure {@code op (backend name): problem}, for the checks a backend adds of its own. */
    public static TensorException error(String op, Backend backend, String problem) {
        return new TensorException(op + " (backend " + backend.name() + "): " + problem);
    }

    /** The failure {@code op (backend name): input float32 [B, C, H, W]: problem} of a convolution of {@code x}. */
    public static TensorException error(String op, Backend backend, Tensor x, String problem) {
        return error(op, backend, "input " + describe(x) + ": " + problem);
    }

    /** E.g. {@code float32 [2, 3, 8, 8]}, for messages. */
    public static String describe(Tensor t) {
        return t.dtype().label() + " " + Shapes.format(t.shape());
    }

    /**
     * Checks the input (an open FLOAT32 [B, C, H, W] tensor of {@code backend}, H and W at least 1)
     * and the weights (open, made by {@code ops}, of the right kind, taking C channels) of a
     * convolution.
     */
    private static AbstractConvWeights convolution(String op, Backend backend, NetworkOps ops, Tensor x,
            ConvWeights weights, boolean transposed) {
        operand(op, backend, "input", x);
        long[] xs = x.shape();
        if (x.dtype() != DType.FLOAT32 || xs.length != 4) {
            throw error(op, backend, x, "the input must be float32 [B, C, H, W]");
        }
        if (xs[2] == 0 || xs[3] == 0) {
            throw error(op, backend, x, "height and width must be >= 1");
        }
        if (weights == null) {
            throw error(op, backend, x, "weights are null");
        }
        if (!(weights instanceof AbstractConvWeights w) || !w.madeBy(ops)) {
            throw error(op, backend, x, "the weights (" + weights + ") were not made by this backend's NetworkOps ("
                    + instance(backend) + "); prepare them with its "
                    + (transposed ? "transposedConvWeights" : "convWeights"));
        }
        if (w.isClosed()) {
            throw error(op, backend, x, "the " + w.describe() + " are closed (used after close)");
        }
        if (w.transposed() != transposed) {
            throw error(op, backend, x, transposed
                    ? "needs transposed-convolution weights (from transposedConvWeights), found " + w.describe()
                    : "needs convolution weights (from convWeights), found " + w.describe()
                            + "; use convTranspose2d for those");
        }
        if (xs[1] != w.inChannels()) {
            throw error(op, backend, x, xs[1] + " channels, but the " + w.describe() + " take " + w.inChannels());
        }
        return w;
    }

    /** Checks that {@code t} is an open tensor of {@code backend}; {@code role} names it in messages. */
    private static void operand(String op, Backend backend, String role, Tensor t) {
        if (t == null) {
            throw error(op, backend, role + " is null");
        }
        if (t.backend() != backend) {
            throw error(op, backend, role + " belongs to another backend instance (" + instance(t.backend())
                    + ", expected " + instance(backend) + "); move data between backends through Java arrays");
        }
        if (t.isClosed()) {
            throw error(op, backend, role + " " + describe(t) + " is closed (used after close)");
        }
    }

    /** Names a backend instance: its name and identity, e.g. {@code djl@1b6d3586}. */
    private static String instance(Backend b) {
        return b.name() + "@" + Integer.toHexString(System.identityHashCode(b));
    }
}
