package io.vqdistill.backend.nd4j;

import io.vqdistill.models.nn.AbstractConvWeights;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * The weight and optional bias of one convolution, held as ND4J arrays in the layouts libnd4j's
 * ops read without a copy: [kH, kW, in, out] for {@code conv2d}, [kH, kW, out, in] for
 * {@code deconv2d}; the bias is a rank-1 array of length out. Both arrays are owned here and freed
 * by {@link #close()}. Made by {@link Nd4jNetworkOps}, which alone accepts it.
 */
final class Nd4jConvWeights extends AbstractConvWeights {
    private final INDArray weight;
    private final INDArray bias;

    /** Weights of {@code owner} for a PyTorch-layout weight of shape {@code weightShape}. */
    Nd4jConvWeights(Nd4jNetworkOps owner, INDArray weight, INDArray bias, long[] weightShape, boolean transposed) {
        super(owner, weightShape, transposed, bias != null);
        this.weight = weight;
        this.bias = bias;
    }

    /** The weight in libnd4j's layout; callers must not close or modify it. */
    INDArray weight() {
        return weight;
    }

    /** The bias [out], or null for none; callers must not close or modify it. */
    INDArray bias() {
        return bias;
    }

    /** Frees both arrays. */
    @Override
    protected void release() {
        free(weight);
        if (bias != null) {
            free(bias);
        }
    }

    private static void free(INDArray a) {
        if (!a.wasClosed() && a.closeable()) {
            a.close();
        }
    }
}
