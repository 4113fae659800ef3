package io.vqdistill.backend.nd4j;

import static io.vqdistill.models.nn.NetworkOpsChecks.describe;

import io.vqdistill.api.DType;
import io.vqdistill.api.Shapes;
import io.vqdistill.api.Tensor;
import io.vqdistill.api.TensorException;
import io.vqdistill.models.nn.Activation;
import io.vqdistill.models.nn.ConvWeights;
import io.vqdistill.models.nn.NetworkOps;
import io.vqdistill.models.nn.NetworkOpsChecks;
import java.util.Arrays;
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
 * <p>Every argument is checked by {@link NetworkOpsChecks} before the engine runs; a wrong shape,
 * dtype or setting, weights from another {@link NetworkOps} or of the other kind are a
 * {@link TensorException} naming the operation and the input, and engine failures are wrapped into
 * one.
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
        NetworkOpsChecks.weights(op, backend, weight, bias, transposed);
        return engine(op, "weight " + describe(weight), () -> {
            try (Scratch s = new Scratch()) {
                // OIHW -> [kH, kW, in, out]; (in, out, kH, kW) -> [kH, kW, out, in]: the same permutation
                INDArray w = s.add(array(weight).permute(2, 3, 1, 0).dup('c'));
                INDArray b = bias == null ? null : s.add(array(bias).dup('c'));
                s.keep(w);
                s.keep(b);
                return new Nd4jConvWeights(this, w, b, weight.shape(), transposed);
            }
        });
    }

    // ---- convolutions -------------------------------------------------------------------------

    @Override
    public Tensor conv2d(Tensor x, ConvWeights weights, int stride, int padH, int padW) {
        String op = "conv2d";
        backend.checkOpen(op);
        long[] shape = NetworkOpsChecks.conv2d(backend, this, x, weights, stride, padH, padW);
        Nd4jConvWeights w = (Nd4jConvWeights) weights;
        if (shape[0] == 0) {
            return backend.zeros(DType.FLOAT32, shape);
        }
        INDArray in = array(x);
        return result(op, "input " + describe(x), shape, () -> {
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
        backend.checkOpen(op);
        long[] shape = NetworkOpsChecks.convTranspose2d(backend, this, x, weights, stride, pad, outputPadding);
        Nd4jConvWeights w = (Nd4jConvWeights) weights;
        if (shape[0] == 0) {
            return backend.zeros(DType.FLOAT32, shape);
        }
        INDArray in = array(x);
        return result(op, "input " + describe(x), shape, () -> transposed(in, w, stride, pad, outputPadding, shape),
                in);
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
        NetworkOpsChecks.activation(backend, a, x);
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
            throw NetworkOpsChecks.error(op, backend, "the engine returned " + got + " for " + operand
                    + ", expected float32 " + Shapes.format(shape));
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
}
