package io.vqdistill.backend.djl.nn;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.convolutional.Conv2d;
import ai.djl.nn.norm.BatchNorm;
import io.vqdistill.models.layout.BatchNormLayer;
import io.vqdistill.models.layout.ConvLayer;
import io.vqdistill.models.layout.ConvTransposeLayer;
import io.vqdistill.models.layout.ResidualLayer;
import java.util.function.BiFunction;

/**
 * The layers of the networks on DJL's PyTorch engine, each bound to the arrays of its
 * {@link io.vqdistill.models.layout.NetworkLayout} layer (names, shapes, initialisation, stride and
 * padding come from there). Public only for
 * {@link #convTranspose2d}, which the backend's {@link io.vqdistill.models.nn.NetworkOps} shares.
 */
public final class Layers {
    private Layers() {
    }

    /** A 2-D convolution of a {@link ConvLayer}: its weight (times its mask, if any), bias, stride and padding. */
    static final class Conv {
        private final NDArray weight;
        private final NDArray bias;
        private final NDArray mask;
        private final int stride;
        private final int padH;
        private final int padW;

        /** The convolution {@code c} on the arrays of {@code p}; a mask becomes a constant of {@code constants}. */
        Conv(Params p, ConvLayer c, NDManager constants) {
            this.weight = p.array(c.weight());
            this.bias = p.array(c.bias());
            float[] m = c.mask();
            this.mask = m == null ? null : constants.create(m, new Shape(1, 1, c.kernelHeight(), c.kernelWidth()));
            this.stride = c.stride();
            this.padH = c.paddingHeight();
            this.padW = c.paddingWidth();
        }

        /** The unmasked convolution {@code c} on the arrays of {@code p}. */
        Conv(Params p, ConvLayer c) {
            this(p, c, null);
        }

        /** [B, in, H, W] to [B, out, H', W']. */
        NDArray forward(NDArray x) {
            NDArray w = mask == null ? weight : weight.mul(mask);
            return Conv2d.conv2d(x, w, bias, new Shape(stride, stride), new Shape(padH, padW), new Shape(1, 1))
                    .singletonOrThrow();
        }
    }

    /**
     * A transposed convolution of a {@link ConvTransposeLayer} with PyTorch's {@code ConvTranspose2d}
     * semantics, computed by {@link Layers#convTranspose2d}.
     */
    static final class ConvTranspose {
        private final NDArray weight;
        private final NDArray bias;
        private final int stride;
        private final int pad;
        private final int outputPadding;

        ConvTranspose(Params p, ConvTransposeLayer c) {
            this.weight = p.array(c.weight());
            this.bias = p.array(c.bias());
            this.stride = c.stride();
            this.pad = c.padding();
            this.outputPadding = c.outputPadding();
        }

        /** [B, in, H, W] to [B, out, H', W']. */
        NDArray forward(NDArray x) {
            return convTranspose2d(x, weight, bias, stride, pad, outputPadding);
        }
    }

    /**
     * PyTorch's {@code conv_transpose2d} with equal stride, padding and output padding along both
     * axes and no dilation. DJL's PyTorch engine has no transposed convolution, so it is computed
     * exactly as one ordinary convolution with the {@code stride * stride} polyphase sub-kernels:
     * the kernel, zero-padded to a multiple of the stride, split by row and column phase and
     * flipped. Phase (ry, rx) of the convolution's output is the transposed convolution's output at
     * rows {@code ry (mod stride)} and columns {@code rx (mod stride)}; the phases are interleaved
     * and the padding cropped. It costs the same arithmetic as the transposed convolution itself and
     * is differentiable. Intermediate arrays are attached to the managers of {@code x},
     * {@code weight} and {@code bias}; the caller scopes them. Arguments are not checked.
     *
     * @param x      FLOAT32 [B, in, H, W]
     * @param weight FLOAT32 [in, out, kH, kW] (PyTorch's {@code ConvTranspose2d.weight})
     * @param bias   FLOAT32 [out], or null for none
     * @param stride at least 1
     * @param pad    at least 0
     * @param outputPadding in [0, stride)
     * @return a new array [B, out, (H - 1) stride - 2 pad + kH + outputPadding, likewise for W]
     */
    public static NDArray convTranspose2d(NDArray x, NDArray weight, NDArray bias, int stride, int pad,
            int outputPadding) {
        Shape s = x.getShape();
        long b = s.get(0);
        long h = s.get(2);
        long w = s.get(3);
        Shape ks = weight.getShape();
        long out = ks.get(1);
        int kh = (int) ks.get(2);
        int kw = (int) ks.get(3);
        // each phase sub-kernel has q = ceil(k / stride) taps along an axis
        int qh = (kh + stride - 1) / stride;
        int qw = (kw + stride - 1) / stride;
        // zero rows (columns) added around the phase outputs when the output padding reaches past them
        int eh = Math.max(0, Math.floorDiv(kh + outputPadding - pad - qh * stride + stride - 1, stride));
        int ew = Math.max(0, Math.floorDiv(kw + outputPadding - pad - qw * stride + stride - 1, stride));
        // (out, in, kH', kW') with kH', kW' multiples of the stride: zero taps change nothing
        NDArray kernel = weight.transpose(1, 0, 2, 3);
        if (qh * stride > kh || qw * stride > kw) {
            kernel = kernel.pad(new Shape(0, qw * stride - kw, 0, qh * stride - kh), 0);
        }
        NDList phases = new NDList(stride * stride);
        for (int ry = 0; ry < stride; ry++) {
            for (int rx = 0; rx < stride; rx++) {
                NDIndex taps = new NDIndex().addAllDim(2).addSliceDim(ry, (long) qh * stride, stride)
                        .addSliceDim(rx, (long) qw * stride, stride);
                phases.add(kernel.get(taps).flip(2, 3));
            }
        }
        NDArray stacked = stride == 1 ? phases.singletonOrThrow() : NDArrays.concat(phases, 0);
        NDArray y = Conv2d.conv2d(x, stacked, null, new Shape(1, 1), new Shape(qh - 1 + eh, qw - 1 + ew),
                new Shape(1, 1)).singletonOrThrow();
        long fh = h + qh - 1 + 2L * eh;
        long fw = w + qw - 1 + 2L * ew;
        // y[b, (ry * stride + rx) * out + c, m, n] is the output at row m * stride + ry, column n * stride + rx
        // of the uncropped result, shifted by eh * stride rows and ew * stride columns
        NDArray full = y.reshape(b, stride, stride, out, fh, fw).transpose(0, 3, 4, 1, 5, 2)
                .reshape(b, out, stride * fh, stride * fw);
        long oh = (h - 1) * stride - 2L * pad + kh + outputPadding;
        long ow = (w - 1) * stride - 2L * pad + kw + outputPadding;
        long top = pad + (long) eh * stride;
        long left = pad + (long) ew * stride;
        NDArray cropped = full.get(new NDIndex(":, :, {}:{}, {}:{}", top, top + oh, left, left + ow));
        // a crop is a view of the whole uncropped result: the bias, or else a copy, makes a compact array
        return bias == null ? cropped.duplicate() : cropped.add(bias.reshape(1, out, 1, 1));
    }

    /** BatchNorm of a {@link BatchNormLayer} over the channels of [B, C, H, W], running statistics as buffers. */
    static final class Norm {
        /** DJL's momentum is the weight of the old running value: PyTorch's momentum is that of the batch. */
        private static final float KEEP = (float) (1 - BatchNormLayer.MOMENTUM);
        private static final float EPS = (float) BatchNormLayer.EPS;

        private final NDArray gamma;
        private final NDArray beta;
        private final NDArray runningMean;
        private final NDArray runningVar;
        private final NDArray batches;

        Norm(Params p, BatchNormLayer n) {
            this.gamma = p.array(n.weight());
            this.beta = p.array(n.bias());
            this.runningMean = p.array(n.runningMean());
            this.runningVar = p.array(n.runningVar());
            this.batches = p.array(n.batchesSeen());
        }

        /**
         * Normalises by the batch statistics and updates the running ones when {@code training},
         * else by the running ones.
         */
        NDArray forward(NDArray x, boolean training) {
            NDArray y = BatchNorm.batchNorm(x, runningMean, runningVar, gamma, beta, 1, KEEP, EPS, training)
                    .singletonOrThrow();
            if (training) {
                batches.addi(1);
            }
            return y;
        }

        /**
         * Normalises by the batch statistics (the biased variance, as in training) and leaves the
         * running statistics and the batch counter as they are.
         */
        NDArray forwardOnBatch(NDArray x) {
            NDArray centred = x.sub(channelMeans(x));
            NDArray scale = channelMeans(centred.square()).add(EPS).sqrt();
            return centred.div(scale).mul(gamma.reshape(1, -1, 1, 1)).add(beta.reshape(1, -1, 1, 1));
        }

        /** The mean of each channel of [B, C, H, W] over B, H and W, as [1, C, 1, 1] (PyTorch's mean keeps one axis at a time). */
        private static NDArray channelMeans(NDArray x) {
            return x.mean(new int[] {0}, true).mean(new int[] {2}, true).mean(new int[] {3}, true);
        }
    }

    /** x + BN(conv1x1(ReLU(BN(conv3x3(ReLU(x)))))). */
    static final class Residual {
        private final Layers.Conv conv1;
        private final Layers.Norm bn1;
        private final Layers.Conv conv2;
        private final Layers.Norm bn2;

        Residual(Params p, ResidualLayer r) {
            conv1 = new Layers.Conv(p, r.conv1());
            bn1 = new Layers.Norm(p, r.norm1());
            conv2 = new Layers.Conv(p, r.conv2());
            bn2 = new Layers.Norm(p, r.norm2());
        }

        NDArray forward(NDArray x, BiFunction<Layers.Norm, NDArray, NDArray> norm) {
            NDArray h = norm.apply(bn1, conv1.forward(Layers.relu(x)));
            return x.add(norm.apply(bn2, conv2.forward(Layers.relu(h))));
        }
    }

    /** ReLU. */
    static NDArray relu(NDArray x) {
        return x.getNDArrayInternal().relu();
    }

    /** The logistic sigmoid. */
    static NDArray sigmoid(NDArray x) {
        return x.getNDArrayInternal().sigmoid();
    }

    /** Rows of {@code table} [N, D] picked by the INT64 {@code indices} (any shape S): [S..., D]. */
    static NDArray lookup(NDArray table, NDArray indices) {
        Shape s = indices.getShape();
        NDArray rows = table.get(indices.flatten());
        long[] out = new long[s.dimension() + 1];
        System.arraycopy(s.getShape(), 0, out, 0, s.dimension());
        out[s.dimension()] = table.getShape().get(1);
        return rows.reshape(out);
    }
}
