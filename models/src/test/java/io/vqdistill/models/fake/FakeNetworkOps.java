package io.vqdistill.models.fake;

import io.vqdistill.api.Tensor;
import io.vqdistill.api.fake.FakeBackend;
import io.vqdistill.models.nn.AbstractConvWeights;
import io.vqdistill.models.nn.Activation;
import io.vqdistill.models.nn.ConvWeights;
import io.vqdistill.models.nn.NetworkOps;
import io.vqdistill.models.nn.NetworkOpsChecks;
import io.vqdistill.models.nn.PortableModels;
import io.vqdistill.models.nn.ReferenceConv;
import java.util.List;

/**
 * {@link NetworkOps} of the fake backend: {@link ReferenceConv} in double precision, results rounded
 * to float32. Declared only by a backend made with {@link #backend()}, so the default fake
 * keeps declaring no capability. It accepts tensors of the fake backend that declares
 * it and weights it made itself.
 */
public final class FakeNetworkOps implements NetworkOps {
    private final FakeBackend backend;

    /**
     * A new fake backend declaring these network operations and the {@link PortableModels} that run
     * checkpoints with them.
     */
    public static FakeBackend backend() {
        return FakeBackend.withCapabilities(b -> {
            FakeNetworkOps ops = new FakeNetworkOps(b);
            return List.of(ops, new PortableModels(b, ops));
        });
    }

    /** Creates the capability of {@code backend}. */
    public FakeNetworkOps(FakeBackend backend) {
        this.backend = backend;
    }

    /** Weights kept as double copies in PyTorch's layout. */
    private static final class Weights extends AbstractConvWeights {
        private final double[] weight;
        private final long[] shape;
        private final double[] bias;

        Weights(FakeNetworkOps owner, double[] weight, long[] shape, double[] bias, boolean transposed) {
            super(owner, shape, transposed, bias != null);
            this.weight = weight;
            this.shape = shape;
            this.bias = bias;
        }

        /** Nothing to release: the arrays belong to the Java heap. */
        @Override
        protected void release() {
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
        return new Weights(this, weight.toDoubleArray(), weight.shape(), bias == null ? null : bias.toDoubleArray(),
                transposed);
    }

    @Override
    public Tensor conv2d(Tensor x, ConvWeights weights, int stride, int padH, int padW) {
        long[] ys = NetworkOpsChecks.conv2d(backend, this, x, weights, stride, padH, padW);
        Weights w = (Weights) weights;
        return result(ReferenceConv.conv2d(x.toDoubleArray(), x.shape(), w.weight, w.shape, w.bias, stride, padH,
                padW), ys);
    }

    @Override
    public Tensor convTranspose2d(Tensor x, ConvWeights weights, int stride, int pad, int outputPadding) {
        long[] ys = NetworkOpsChecks.convTranspose2d(backend, this, x, weights, stride, pad, outputPadding);
        Weights w = (Weights) weights;
        return result(ReferenceConv.convTranspose2d(x.toDoubleArray(), x.shape(), w.weight, w.shape, w.bias, stride,
                pad, outputPadding), ys);
    }

    @Override
    public Tensor activation(Activation a, Tensor x) {
        NetworkOpsChecks.activation(backend, a, x);
        return result(ReferenceConv.activation(a, x.toDoubleArray()), x.shape());
    }

    private Tensor result(double[] values, long[] shape) {
        float[] f = new float[values.length];
        for (int i = 0; i < f.length; i++) {
            f[i] = (float) values[i];
        }
        return backend.of(f, shape);
    }
}
