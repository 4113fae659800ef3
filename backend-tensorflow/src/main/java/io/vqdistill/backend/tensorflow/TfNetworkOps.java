package io.vqdistill.backend.tensorflow;

import static io.vqdistill.models.nn.NetworkOpsChecks.describe;

import io.vqdistill.api.DType;
import io.vqdistill.api.Shapes;
import io.vqdistill.api.Tensor;
import io.vqdistill.api.TensorException;
import io.vqdistill.api.TensorScope;
import io.vqdistill.backend.tensorflow.TfEngine.Kernel;
import io.vqdistill.backend.tensorflow.TfEngine.KernelBuilder;
import io.vqdistill.backend.tensorflow.TfTensor.Feeds;
import io.vqdistill.models.nn.AbstractConvWeights;
import io.vqdistill.models.nn.Activation;
import io.vqdistill.models.nn.ConvWeights;
import io.vqdistill.models.nn.NetworkOps;
import io.vqdistill.models.nn.NetworkOpsChecks;
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
        long[] outShape = NetworkOpsChecks.conv2d(backend, this, x, weights, stride, padH, padW);
        TfConvWeights w = (TfConvWeights) weights;
        if (outShape[0] == 0) {
            return emptyBatch(outShape);
        }
        boolean hasBias = w.bias() != null;
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
        long[] outShape = NetworkOpsChecks.convTranspose2d(backend, this, x, weights, stride, pad, outputPadding);
        TfConvWeights w = (TfConvWeights) weights;
        if (outShape[0] > Integer.MAX_VALUE || outShape[2] > Integer.MAX_VALUE || outShape[3] > Integer.MAX_VALUE) {
            throw NetworkOpsChecks.error(op, backend, x, "the output " + Shapes.format(outShape) + " is too large");
        }
        if (outShape[0] == 0) {
            return emptyBatch(outShape);
        }
        boolean hasBias = w.bias() != null;
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
                .own(TfTypes.ints((int) outShape[0], (int) outShape[2], (int) outShape[3], w.outChannels()));
        if (hasBias) {
            feeds.add(w.bias());
        }
        return run(op, x, k, feeds, outShape);
    }

    @Override
    public Tensor activation(Activation a, Tensor x) {
        String op = "activation";
        NetworkOpsChecks.activation(backend, a, x);
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
        NetworkOpsChecks.weights(op, backend, weight, bias, transposed);
        long[] ws = weight.shape();
        Tensor filter = null;
        Tensor biasCopy = null;
        try {
            filter = TensorScope.detach(weight.transpose(TO_FILTER));
            if (bias != null) {
                // a tensor of its own, so that the caller may close the bias it passed
                biasCopy = TensorScope.detach(bias.reshape(ws[transposed ? 1 : 0]));
            }
            return new TfConvWeights(this, filter, biasCopy, ws, transposed);
        } catch (RuntimeException | Error e) {
            if (filter != null) {
                filter.close();
            }
            throw e;
        }
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
            String got = describe(out);
            out.close();
            throw NetworkOpsChecks.error(op, backend, "engine returned " + got + ", expected float32 "
                    + Shapes.format(shape));
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
                    + describe(operand) + ": " + e, e);
        }
    }

    /**
     * The filter (HWIO, or (kH, kW, out, in) when transposed) and bias [out] of one convolution, as
     * tensors of the backend detached from every {@link TensorScope}; closing releases both.
     */
    static final class TfConvWeights extends AbstractConvWeights {
        private final Tensor filter;
        private final Tensor bias;

        private TfConvWeights(TfNetworkOps owner, Tensor filter, Tensor bias, long[] weightShape, boolean transposed) {
            super(owner, weightShape, transposed, bias != null);
            this.filter = filter;
            this.bias = bias;
        }

        /** The filter in TensorFlow's layout. */
        Tensor filter() {
            return filter;
        }

        /** The bias [out], or null. */
        Tensor bias() {
            return bias;
        }

        /** Releases the filter and bias. */
        @Override
        protected void release() {
            try {
                filter.close();
            } finally {
                if (bias != null) {
                    bias.close();
                }
            }
        }
    }
}
