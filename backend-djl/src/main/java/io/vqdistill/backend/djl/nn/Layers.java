package io.vqdistill.backend.djl.nn;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.convolutional.Conv2d;
import ai.djl.nn.norm.BatchNorm;

/**
 * The layers of the networks, with PyTorch's parameter names, layouts and default initialisation
 * (weights and biases U(-1/sqrt(fan_in), 1/sqrt(fan_in))), on DJL's PyTorch engine. Public only for
 * {@link #convTranspose2d}, which the backend's {@link io.vqdistill.models.nn.NetworkOps} shares.
 */
public final class Layers {
    private Layers() {
    }

    /** A 2-D convolution: weight (out, in, kH, kW), bias (out); symmetric zero padding; an optional constant mask on the weight. */
    static final class Conv {
        private final NDArray weight;
        private final NDArray bias;
        private final NDArray mask;
        private final int stride;
        private final int padH;
        private final int padW;

        Conv(Params p, String name, int in, int out, int kH, int kW, int stride, int padH, int padW, NDArray mask) {
            double bound = 1 / Math.sqrt((double) in * kH * kW);
            this.weight = p.uniform(name + ".weight", new Shape(out, in, kH, kW), bound);
            this.bias = p.uniform(name + ".bias", new Shape(out), bound);
            this.mask = mask;
            this.stride = stride;
            this.padH = padH;
            this.padW = padW;
        }

        /** A square kernel {@code k} with padding {@code pad} and no mask. */
        Conv(Params p, String name, int in, int out, int k, int stride, int pad) {
            this(p, name, in, out, k, k, stride, pad, pad, null);
        }

        /** [B, in, H, W] to [B, out, H', W']. */
        NDArray forward(NDArray x) {
            NDArray w = mask == null ? weight : weight.mul(mask);
            return Conv2d.conv2d(x, w, bias, new Shape(stride, stride), new Shape(padH, padW), new Shape(1, 1))
                    .singletonOrThrow();
        }
    }

    /**
     * A stride-2 transposed convolution with PyTorch's {@code ConvTranspose2d} semantics: weight
     * (in, out, k, k), output side (side - 1) * 2 - 2 * pad + k + outputPadding, computed by
     * {@link Layers#convTranspose2d}.
     */
    static final class ConvTranspose {
        private final NDArray weight;
        private final NDArray bias;
        private final int k;
        private final int pad;
        private final int outputPadding;

        ConvTranspose(Params p, String name, int in, int out, int k, int pad, int outputPadding) {
            if (pad < 0 || outputPadding < 0 || outputPadding >= 2 || pad >= k) {
                throw new IllegalArgumentException(name + ": padding " + pad + " and output padding " + outputPadding
                        + " do not fit kernel " + k + " and stride 2");
            }
            double bound = 1 / Math.sqrt((double) out * k * k);
            this.weight = p.uniform(name + ".weight", new Shape(in, out, k, k), bound);
            this.bias = p.uniform(name + ".bias", new Shape(out), bound);
            this.k = k;
            this.pad = pad;
            this.outputPadding = outputPadding;
        }

        /** The output side for an input side. */
        long outputSide(long side) {
            return (side - 1) * 2 - 2L * pad + k + outputPadding;
        }

        /** [B, in, H, W] to [B, out, H', W']. */
        NDArray forward(NDArray x) {
            return convTranspose2d(x, weight, bias, 2, pad, outputPadding);
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

    /** BatchNorm over the channels of [B, C, H, W], PyTorch momentum 0.1, eps 1e-5, running statistics as buffers. */
    static final class Norm {
        private final NDArray gamma;
        private final NDArray beta;
        private final NDArray runningMean;
        private final NDArray runningVar;
        private final NDArray batches;

        Norm(Params p, String name, int channels) {
            this.gamma = p.constant(name + ".weight", new Shape(channels), 1);
            this.beta = p.constant(name + ".bias", new Shape(channels), 0);
            this.runningMean = p.buffer(name + ".running_mean", new Shape(channels), 0);
            this.runningVar = p.buffer(name + ".running_var", new Shape(channels), 1);
            this.batches = p.counter(name + ".num_batches_tracked");
        }

        /**
         * Normalises by the batch statistics and updates the running ones when {@code training},
         * else by the running ones.
         */
        NDArray forward(NDArray x, boolean training) {
            // DJL's momentum is the weight of the old running value: 0.9 is PyTorch's 0.1
            NDArray y = BatchNorm.batchNorm(x, runningMean, runningVar, gamma, beta, 1, 0.9f, 1e-5f, training)
                    .singletonOrThrow();
            if (training) {
                batches.addi(1);
            }
            return y;
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
