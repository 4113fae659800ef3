package io.vqdistill.api;

import java.util.Arrays;
import java.util.Comparator;
import java.util.function.DoubleBinaryOperator;
import java.util.function.DoubleUnaryOperator;
import java.util.function.ToDoubleFunction;

/**
 * Ground truth for tensor tests: the tensor operations written as direct double-precision loops
 * over row-major {@code double[]} data, independent of any backend. Shapes follow NumPy. Meant
 * for small inputs; nothing here is fast.
 */
public final class ReferenceMath {
    private ReferenceMath() {
    }

    /** Row-major strides of {@code shape}. */
    public static long[] strides(long[] shape) {
        long[] st = new long[shape.length];
        long step = 1;
        for (int d = shape.length - 1; d >= 0; d--) {
            st[d] = step;
            step *= shape[d];
        }
        return st;
    }

    /** The multi-index of element {@code flat} of {@code shape}. */
    public static long[] unravel(long flat, long[] shape) {
        long[] idx = new long[shape.length];
        for (int d = shape.length - 1; d >= 0; d--) {
            idx[d] = flat % shape[d];
            flat /= shape[d];
        }
        return idx;
    }

    /** The flat offset into a tensor of shape {@code in} of the broadcast element at {@code outIndex}. */
    public static int broadcastOffset(long[] outIndex, long[] in) {
        long[] st = strides(in);
        int shift = outIndex.length - in.length;
        long off = 0;
        for (int d = 0; d < in.length; d++) {
            off += (in[d] == 1 ? 0 : outIndex[d + shift]) * st[d];
        }
        return (int) off;
    }

    /** {@code f} applied to every element. */
    public static double[] map(double[] a, DoubleUnaryOperator f) {
        return Arrays.stream(a).map(f).toArray();
    }

    /** {@code f(a, b)} elementwise with NumPy broadcasting; the result has shape {@code Shapes.broadcast(as, bs)}. */
    public static double[] broadcast(double[] a, long[] as, double[] b, long[] bs, DoubleBinaryOperator f) {
        long[] out = Shapes.broadcast(as, bs, "reference");
        double[] r = new double[(int) Shapes.size(out)];
        for (int i = 0; i < r.length; i++) {
            long[] idx = unravel(i, out);
            r[i] = f.applyAsDouble(a[broadcastOffset(idx, as)], b[broadcastOffset(idx, bs)]);
        }
        return r;
    }

    /** The batched matrix product [..., m, k] x [..., k, n] with broadcast batch axes. */
    public static double[] matmul(double[] a, long[] as, double[] b, long[] bs) {
        int m = (int) as[as.length - 2];
        int k = (int) as[as.length - 1];
        int n = (int) bs[bs.length - 1];
        long[] batchA = Arrays.copyOf(as, as.length - 2);
        long[] batchB = Arrays.copyOf(bs, bs.length - 2);
        long[] batch = Shapes.broadcast(batchA, batchB, "reference");
        int batches = (int) Shapes.size(batch);
        double[] r = new double[batches * m * n];
        for (int t = 0; t < batches; t++) {
            long[] idx = unravel(t, batch);
            int a0 = broadcastOffset(idx, batchA) * m * k;
            int b0 = broadcastOffset(idx, batchB) * k * n;
            for (int i = 0; i < m; i++) {
                for (int j = 0; j < n; j++) {
                    double s = 0;
                    for (int p = 0; p < k; p++) {
                        s += a[a0 + i * k + p] * b[b0 + p * n + j];
                    }
                    r[(t * m + i) * n + j] = s;
                }
            }
        }
        return r;
    }

    /** Axes permuted as by {@link Tensor#transpose(int...)}: result axis i is input axis {@code perm[i]}. */
    public static double[] transpose(double[] a, long[] shape, int[] perm) {
        long[] st = strides(shape);
        long[] out = new long[perm.length];
        for (int i = 0; i < perm.length; i++) {
            out[i] = shape[perm[i]];
        }
        double[] r = new double[a.length];
        for (int i = 0; i < r.length; i++) {
            long[] idx = unravel(i, out);
            long off = 0;
            for (int d = 0; d < perm.length; d++) {
                off += idx[d] * st[perm[d]];
            }
            r[i] = a[(int) off];
        }
        return r;
    }

    /**
     * The 1-D lanes along {@code axis} (which must be normalised), in the row-major order of the
     * shape with that axis removed.
     */
    public static double[][] lanes(double[] a, long[] shape, int axis) {
        int outer = (int) Shapes.size(Arrays.copyOfRange(shape, 0, axis));
        int len = (int) shape[axis];
        int inner = (int) Shapes.size(Arrays.copyOfRange(shape, axis + 1, shape.length));
        double[][] lanes = new double[outer * inner][len];
        for (int o = 0; o < outer; o++) {
            for (int i = 0; i < inner; i++) {
                for (int j = 0; j < len; j++) {
                    lanes[o * inner + i][j] = a[(o * len + j) * inner + i];
                }
            }
        }
        return lanes;
    }

    /** {@code f} applied to each lane along {@code axis}; row-major over the remaining axes. */
    public static double[] reduce(double[] a, long[] shape, int axis, ToDoubleFunction<double[]> f) {
        return Arrays.stream(lanes(a, shape, axis)).mapToDouble(f).toArray();
    }

    /** The reduction of one lane for {@code op}, with NaN propagating through MAX and MIN. */
    public static double reduce(ReduceOp op, double[] lane) {
        return switch (op) {
            case SUM -> sum(lane);
            case MAX -> Arrays.stream(lane).reduce(Double.NEGATIVE_INFINITY, Math::max);
            case MIN -> Arrays.stream(lane).reduce(Double.POSITIVE_INFINITY, Math::min);
            case LOG_SUM_EXP -> logSumExp(lane);
        };
    }

    /** A plain left-to-right sum. */
    public static double sum(double[] lane) {
        double s = 0;
        for (double v : lane) {
            s += v;
        }
        return s;
    }

    /** log(sum(exp(x))) by a direct sum of exponentials shifted by the maximum; -inf for an empty or all -inf lane. */
    public static double logSumExp(double[] lane) {
        double m = Double.NEGATIVE_INFINITY;
        for (double v : lane) {
            m = Math.max(m, v);
        }
        if (Double.isInfinite(m) || Double.isNaN(m)) {
            return m;
        }
        double s = 0;
        for (double v : lane) {
            s += Math.exp(v - m);
        }
        return m + Math.log(s);
    }

    /** exp(x - logSumExp(x)) for one lane. */
    public static double[] softmax(double[] lane) {
        double lse = logSumExp(lane);
        return map(lane, v -> Math.exp(v - lse));
    }

    /** The position of the first maximum of a lane. */
    public static int argMax(double[] lane) {
        int best = 0;
        for (int j = 1; j < lane.length; j++) {
            if (lane[j] > lane[best]) {
                best = j;
            }
        }
        return best;
    }

    /** The positions of the {@code k} largest entries of a lane, largest first, ties in index order. */
    public static int[] topIndices(double[] lane, int k) {
        Integer[] order = new Integer[lane.length];
        Arrays.setAll(order, j -> j);
        Arrays.sort(order, Comparator.comparingDouble((Integer j) -> -lane[j]));
        return Arrays.stream(order).limit(k).mapToInt(Integer::intValue).toArray();
    }

    /**
     * Rebuilds a tensor from lanes along {@code axis} of length {@code k} each, the inverse of
     * {@link #lanes}: lane {@code o * inner + i} goes to positions {@code (o * k + j) * inner + i}.
     */
    public static double[] fromLanes(double[][] lanes, long[] shape, int axis) {
        int inner = (int) Shapes.size(Arrays.copyOfRange(shape, axis + 1, shape.length));
        int k = lanes.length == 0 ? 0 : lanes[0].length;
        double[] r = new double[lanes.length * k];
        for (int l = 0; l < lanes.length; l++) {
            int o = l / inner;
            int i = l % inner;
            for (int j = 0; j < k; j++) {
                r[(o * k + j) * inner + i] = lanes[l][j];
            }
        }
        return r;
    }
}
