package io.vqdistill.backend.djl;

import static io.vqdistill.models.nn.NetworkOpsChecks.describe;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.convolutional.Conv2d;
import io.vqdistill.api.DType;
import io.vqdistill.api.Shapes;
import io.vqdistill.api.Tensor;
import io.vqdistill.api.TensorException;
import io.vqdistill.backend.djl.nn.Layers;
import io.vqdistill.models.nn.AbstractConvWeights;
import io.vqdistill.models.nn.Activation;
import io.vqdistill.models.nn.ConvWeights;
import io.vqdistill.models.nn.NetworkOps;
import io.vqdistill.models.nn.NetworkOpsChecks;
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
    private static final class Weights extends AbstractConvWeights {
        private final NDManager manager;
        private final NDArray weight;
        private final NDArray bias;

        Weights(DjlNetworkOps owner, NDManager manager, NDArray weight, NDArray bias, boolean transposed) {
            super(owner, weight.getShape().getShape(), transposed, bias != null);
            this.manager = manager;
            this.weight = weight;
            this.bias = bias;
        }

        /** Frees the copies. */
        @Override
        protected void release() {
            manager.close();
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
        NetworkOpsChecks.weights(op, backend, weight, bias, transposed);
        NDArray w = array(weight);
        NDArray b = bias == null ? null : array(bias);
        return engine(op, "weight " + describe(weight), () -> {
            NDManager manager = backend.manager().newSubManager();
            try {
                return new Weights(this, manager, copy(w, manager), b == null ? null : copy(b, manager), transposed);
            } catch (RuntimeException e) {
                manager.close();
                throw e;
            }
        });
    }

    @Override
    public Tensor conv2d(Tensor x, ConvWeights weights, int stride, int padH, int padW) {
        long[] ys = NetworkOpsChecks.conv2d(backend, this, x, weights, stride, padH, padW);
        Weights w = (Weights) weights;
        String call = "conv2d (backend " + backend.name() + ") of input " + describe(x) + " with " + w;
        return run(call, x, w, ys, (in, weight, bias) -> Conv2d.conv2d(in, weight, bias, new Shape(stride, stride),
                new Shape(padH, padW), NO_DILATION).singletonOrThrow());
    }

    @Override
    public Tensor convTranspose2d(Tensor x, ConvWeights weights, int stride, int pad, int outputPadding) {
        long[] ys = NetworkOpsChecks.convTranspose2d(backend, this, x, weights, stride, pad, outputPadding);
        Weights w = (Weights) weights;
        String call = "convTranspose2d (backend " + backend.name() + ") of input " + describe(x) + " with " + w;
        return run(call, x, w, ys, (in, weight, bias) -> Layers.convTranspose2d(in, weight, bias, stride, pad,
                outputPadding));
    }

    @Override
    public Tensor activation(Activation a, Tensor x) {
        NetworkOpsChecks.activation(backend, a, x);
        String op = "activation " + a;
        NDArray in = array(x);
        // one engine operation, so no intermediates: the result is attached to the backend's manager
        NDArray out = engine(op, "input " + describe(x), () -> switch (a) {
            case RELU -> ai.djl.nn.Activation.relu(in);
            case SIGMOID -> ai.djl.nn.Activation.sigmoid(in);
            case TANH -> ai.djl.nn.Activation.tanh(in);
        });
        return checked(op, DjlTensor.wrap(backend, out), x.shape());
    }

    // ---- scoping and engine calls --------------------------------------------------------------

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
        NDArray input = array(x);
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

    /** The array of a tensor of this backend, checked by {@link NetworkOpsChecks}. */
    private static NDArray array(Tensor t) {
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
}
