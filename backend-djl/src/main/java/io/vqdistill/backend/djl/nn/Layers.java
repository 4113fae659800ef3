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
 * (weights and biases U(-1/sqrt(fan_in), 1/sqrt(fan_in))), on DJL's PyTorch engine.
 */
final class Layers {
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
     * (in, out, k, k), output side (side - 1) * 2 - 2 * pad + k + outputPadding. DJL's PyTorch engine
     * has no transposed convolution, so it is computed exactly as one ordinary convolution with the
     * four polyphase sub-kernels (the kernel split by row and column parity, flipped), whose outputs
     * are interleaved and cropped. It costs the same arithmetic as the transposed convolution itself.
     */
    static final class ConvTranspose {
        private final NDArray weight;
        private final NDArray bias;
        private final int out;
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
            this.out = out;
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
            Shape s = x.getShape();
            long b = s.get(0);
            long h = s.get(2);
            long w = s.get(3);
            int even = k + (k % 2);
            int half = even / 2;
            // (out, in, k', k') with k' even: a zero row and column appended to an odd kernel change nothing
            NDArray kernel = weight.transpose(1, 0, 2, 3);
            if (k % 2 == 1) {
                kernel = kernel.pad(new Shape(0, 1, 0, 1), 0);
            }
            NDArray[] phases = new NDArray[4];
            for (int ry = 0; ry < 2; ry++) {
                for (int rx = 0; rx < 2; rx++) {
                    phases[ry * 2 + rx] = kernel.get(new NDIndex(":, :, {}::2, {}::2", ry, rx)).flip(2, 3);
                }
            }
            NDArray stacked = NDArrays.concat(new NDList(phases), 0);
            NDArray y = Conv2d.conv2d(x, stacked, null, new Shape(1, 1), new Shape(half - 1, half - 1),
                    new Shape(1, 1)).singletonOrThrow();
            long fh = h + half - 1;
            long fw = w + half - 1;
            // y[b, (ry*2+rx)*out + c, m, n] is the full output at row 2m+ry, column 2n+rx
            NDArray full = y.reshape(b, 2, 2, out, fh, fw).transpose(0, 3, 4, 1, 5, 2).reshape(b, out, 2 * fh, 2 * fw);
            long oh = outputSide(h);
            long ow = outputSide(w);
            NDArray cropped = full.get(new NDIndex(":, :, {}:{}, {}:{}", pad, pad + oh, pad, pad + ow));
            return cropped.add(bias.reshape(1, out, 1, 1));
        }
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
