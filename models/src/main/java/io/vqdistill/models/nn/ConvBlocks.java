package io.vqdistill.models.nn;

import io.vqdistill.api.Tensor;
import io.vqdistill.models.layout.BatchNormLayer;
import io.vqdistill.models.layout.ConvLayer;
import io.vqdistill.models.layout.ConvTransposeLayer;
import io.vqdistill.models.layout.ResidualLayer;

/**
 * The convolutional building blocks of the portable networks in inference mode, each read from
 * its layout's tensors in a {@link NetworkWeights} and applied to NCHW tensors through a backend's
 * {@link NetworkOps}.
 */
final class ConvBlocks {
    private ConvBlocks() {
    }

    /** A convolution's prepared weights with its stride and padding. */
    record Conv(ConvLayer layer, ConvWeights weights) {
        static Conv read(NetworkWeights w, ConvLayer layer) {
            return new Conv(layer, w.conv(layer));
        }

        Tensor apply(NetworkOps ops, Tensor x) {
            return ops.conv2d(x, weights, layer.stride(), layer.paddingHeight(), layer.paddingWidth());
        }
    }

    /** A transposed convolution's prepared weights with its stride and padding. */
    record UpConv(ConvTransposeLayer layer, ConvWeights weights) {
        static UpConv read(NetworkWeights w, ConvTransposeLayer layer) {
            return new UpConv(layer, w.transposedConv(layer));
        }

        Tensor apply(NetworkOps ops, Tensor x) {
            return ops.convTranspose2d(x, weights, layer.stride(), layer.padding(), layer.outputPadding());
        }
    }

    /** BatchNorm with running statistics: x * scale + shift per channel, [1, C, 1, 1] each. */
    record Norm(Tensor scale, Tensor shift) {
        static Norm read(NetworkWeights w, BatchNormLayer layer) {
            int c = layer.channels();
            float[] gamma = w.floats(layer.weight());
            float[] beta = w.floats(layer.bias());
            float[] mean = w.floats(layer.runningMean());
            float[] var = w.floats(layer.runningVar());
            w.counter(layer.batchesSeen());
            float[] scale = new float[c];
            float[] shift = new float[c];
            for (int i = 0; i < c; i++) {
                double s = gamma[i] / Math.sqrt(var[i] + BatchNormLayer.EPS);
                scale[i] = (float) s;
                shift[i] = (float) (beta[i] - mean[i] * s);
            }
            return new Norm(w.constant(scale, 1, c, 1, 1), w.constant(shift, 1, c, 1, 1));
        }

        Tensor apply(Tensor x) {
            return x.mul(scale).add(shift);
        }
    }

    /** x + BN(conv1x1(ReLU(BN(conv3x3(ReLU(x)))))). */
    record Residual(Conv conv1, Norm bn1, Conv conv2, Norm bn2) {
        static Residual read(NetworkWeights w, ResidualLayer layer) {
            return new Residual(Conv.read(w, layer.conv1()), Norm.read(w, layer.norm1()),
                    Conv.read(w, layer.conv2()), Norm.read(w, layer.norm2()));
        }

        Tensor apply(NetworkOps ops, Tensor x) {
            Tensor h = bn1.apply(conv1.apply(ops, ops.activation(Activation.RELU, x)));
            return x.add(bn2.apply(conv2.apply(ops, ops.activation(Activation.RELU, h))));
        }
    }
}
