package io.vqdistill.api.fake;

import io.vqdistill.api.BinaryOp;
import io.vqdistill.api.CompareOp;
import io.vqdistill.api.DType;
import io.vqdistill.api.ReduceOp;
import io.vqdistill.api.Shapes;
import io.vqdistill.api.Tensor;
import io.vqdistill.api.TopK;
import io.vqdistill.api.UnaryOp;
import io.vqdistill.api.spi.AbstractTensor;
import java.util.Arrays;
import java.util.Comparator;

/**
 * A tensor of the {@link FakeBackend}: its elements as a {@code double[]} in row-major order, every
 * value rounded to its dtype when the tensor is made (float32 to float precision, integers
 * truncated toward zero and int32 wrapped to 32 bits, bool to 0/1). Integer arithmetic runs on
 * {@code long}; int64 values are exact up to 2^53, which {@link FakeBackend} enforces on input.
 *
 * <p>Arguments arrive validated by {@link AbstractTensor}, so the methods below only compute.
 */
final class FakeTensor extends AbstractTensor {
    private double[] data;

    /** Takes ownership of {@code values} and rounds them to {@code dtype} in place. */
    FakeTensor(FakeBackend backend, long[] shape, DType dtype, double[] values) {
        super(backend, shape, dtype);
        for (int i = 0; i < values.length; i++) {
            values[i] = round(dtype, values[i]);
        }
        this.data = values;
    }

    /** {@code v} as the nearest value of {@code dtype}: the one place dtype semantics live. */
    static double round(DType dtype, double v) {
        return switch (dtype) {
            case FLOAT32 -> (float) v;
            case FLOAT64 -> v;
            case INT32 -> (int) (long) v;
            case INT64 -> (long) v;
            case BOOL -> v != 0 ? 1 : 0;
        };
    }

    private FakeTensor make(long[] shape, DType dtype, double[] values) {
        return new FakeTensor((FakeBackend) backend(), shape, dtype, values);
    }

    private static double[] data(Tensor t) {
        return ((FakeTensor) t).data;
    }

    @Override
    protected void release() {
        data = null;
    }

    @Override
    protected Object readData() {
        int n = data.length;
        switch (dtype()) {
            case FLOAT32: {
                float[] out = new float[n];
                for (int i = 0; i < n; i++) {
                    out[i] = (float) data[i];
                }
                return out;
            }
            case INT32: {
                int[] out = new int[n];
                for (int i = 0; i < n; i++) {
                    out[i] = (int) data[i];
                }
                return out;
            }
            case INT64: {
                long[] out = new long[n];
                for (int i = 0; i < n; i++) {
                    out[i] = (long) data[i];
                }
                return out;
            }
            case BOOL: {
                boolean[] out = new boolean[n];
                for (int i = 0; i < n; i++) {
                    out[i] = data[i] != 0;
                }
                return out;
            }
            default:
                return data.clone();
        }
    }

    @Override
    protected Tensor doToType(DType type) {
        return make(shape(), type, data.clone());
    }

    @Override
    protected Tensor doReshape(long[] newShape) {
        return make(newShape, dtype(), data.clone());
    }

    @Override
    protected Tensor doTranspose(int[] axes) {
        long[] in = shape();
        long[] inStrides = strides(in);
        long[] out = new long[axes.length];
        long[] viewStrides = new long[axes.length];
        for (int i = 0; i < axes.length; i++) {
            out[i] = in[axes[i]];
            viewStrides[i] = inStrides[axes[i]];
        }
        return make(out, dtype(), pick(data, offsets(out, viewStrides)));
    }

    @Override
    protected Tensor doSlice(int axis, long start, long end) {
        long[] s = shape();
        int outer = span(s, 0, axis);
        int len = (int) s[axis];
        int inner = span(s, axis + 1, s.length);
        int m = (int) (end - start);
        double[] r = new double[outer * m * inner];
        for (int o = 0; o < outer; o++) {
            System.arraycopy(data, (o * len + (int) start) * inner, r, o * m * inner, m * inner);
        }
        long[] out = s.clone();
        out[axis] = m;
        return make(out, dtype(), r);
    }

    @Override
    protected Tensor doUnary(UnaryOp op) {
        boolean integer = dtype().isInteger();
        double[] r = new double[data.length];
        for (int i = 0; i < r.length; i++) {
            double v = data[i];
            r[i] = switch (op) {
                case EXP -> Math.exp(v);
                case LOG -> Math.log(v);
                case LOG1P -> Math.log1p(v);
                case SQRT -> Math.sqrt(v);
                case SQUARE -> integer ? wrap((long) v * (long) v) : v * v;
                case NEG -> -v;
                case ABS -> Math.abs(v);
            };
        }
        return make(shape(), dtype(), r);
    }

    @Override
    protected Tensor doBinary(BinaryOp op, Tensor other, long[] resultShape) {
        int[] ia = broadcastOffsets(shape(), resultShape);
        int[] ib = broadcastOffsets(other.shape(), resultShape);
        double[] b = data(other);
        boolean integer = dtype().isInteger();
        double[] r = new double[ia.length];
        for (int i = 0; i < r.length; i++) {
            double x = data[ia[i]];
            double y = b[ib[i]];
            r[i] = integer ? wrap(integerOp(op, (long) x, (long) y)) : floatOp(op, x, y);
        }
        return make(resultShape, dtype(), r);
    }

    private static double floatOp(BinaryOp op, double x, double y) {
        return switch (op) {
            case ADD -> x + y;
            case SUB -> x - y;
            case MUL -> x * y;
            case DIV -> x / y;
            case MAXIMUM -> Math.max(x, y);
            case MINIMUM -> Math.min(x, y);
        };
    }

    /** An exact long result narrowed to this integer dtype before it becomes a double (int32 wraps). */
    private double wrap(long r) {
        return dtype() == DType.INT32 ? (int) r : r;
    }

    private static long integerOp(BinaryOp op, long x, long y) {
        return switch (op) {
            case ADD -> x + y;
            case SUB -> x - y;
            case MUL -> x * y;
            case DIV -> x / y; // truncates toward zero; division by zero throws, wrapped by AbstractTensor
            case MAXIMUM -> Math.max(x, y);
            case MINIMUM -> Math.min(x, y);
        };
    }

    @Override
    protected Tensor doCompare(CompareOp op, Tensor other, long[] resultShape) {
        int[] ia = broadcastOffsets(shape(), resultShape);
        int[] ib = broadcastOffsets(other.shape(), resultShape);
        double[] b = data(other);
        double[] r = new double[ia.length];
        for (int i = 0; i < r.length; i++) {
            double x = data[ia[i]];
            double y = b[ib[i]];
            boolean c = switch (op) {
                case EQ -> x == y;
                case NE -> x != y;
                case LT -> x < y;
                case LE -> x <= y;
                case GT -> x > y;
                case GE -> x >= y;
            };
            r[i] = c ? 1 : 0;
        }
        return make(resultShape, DType.BOOL, r);
    }

    @Override
    protected Tensor doWhere(Tensor ifTrue, Tensor ifFalse, long[] resultShape) {
        int[] ic = broadcastOffsets(shape(), resultShape);
        int[] it = broadcastOffsets(ifTrue.shape(), resultShape);
        int[] iff = broadcastOffsets(ifFalse.shape(), resultShape);
        double[] t = data(ifTrue);
        double[] f = data(ifFalse);
        double[] r = new double[ic.length];
        for (int i = 0; i < r.length; i++) {
            r[i] = data[ic[i]] != 0 ? t[it[i]] : f[iff[i]];
        }
        return make(resultShape, ifTrue.dtype(), r);
    }

    @Override
    protected Tensor doClamp(double min, double max) {
        double[] r = new double[data.length];
        for (int i = 0; i < r.length; i++) {
            double v = data[i];
            r[i] = v < min ? min : v > max ? max : v; // NaN fails both tests and stays NaN
        }
        return make(shape(), dtype(), r);
    }

    @Override
    protected Tensor doMatmul(Tensor other, long[] resultShape) {
        long[] as = shape();
        long[] bs = other.shape();
        int rank = resultShape.length;
        int m = (int) resultShape[rank - 2];
        int n = (int) resultShape[rank - 1];
        int k = (int) as[as.length - 1];
        long[] batch = Arrays.copyOf(resultShape, rank - 2);
        int[] ba = broadcastOffsets(Arrays.copyOf(as, as.length - 2), batch);
        int[] bb = broadcastOffsets(Arrays.copyOf(bs, bs.length - 2), batch);
        double[] b = data(other);
        double[] r = new double[ba.length * m * n];
        for (int t = 0; t < ba.length; t++) {
            int a0 = ba[t] * m * k;
            int b0 = bb[t] * k * n;
            for (int i = 0; i < m; i++) {
                for (int j = 0; j < n; j++) {
                    double sum = 0;
                    for (int p = 0; p < k; p++) {
                        sum += data[a0 + i * k + p] * b[b0 + p * n + j];
                    }
                    r[(t * m + i) * n + j] = sum;
                }
            }
        }
        return make(resultShape, dtype(), r);
    }

    @Override
    protected Tensor doReduce(ReduceOp op, int axis, boolean keepDims) {
        long[] s = shape();
        double[][] lanes = lanes(s, axis);
        double[] r = new double[lanes.length];
        for (int l = 0; l < lanes.length; l++) {
            double[] x = lanes[l];
            r[l] = switch (op) {
                case SUM -> Arrays.stream(x).sum();
                case MAX -> Arrays.stream(x).reduce(Double.NEGATIVE_INFINITY, Math::max);
                case MIN -> Arrays.stream(x).reduce(Double.POSITIVE_INFINITY, Math::min);
                case LOG_SUM_EXP -> logSumExp(x);
            };
        }
        return make(Shapes.reduced(s, axis, keepDims), dtype(), r);
    }

    /** m + log(sum(exp(x - m))) with m the maximum; an infinite or NaN maximum is the answer itself. */
    private static double logSumExp(double[] x) {
        double m = Double.NEGATIVE_INFINITY;
        for (double v : x) {
            m = Math.max(m, v);
        }
        if (Double.isNaN(m) || Double.isInfinite(m)) {
            return m;
        }
        double sum = 0;
        for (double v : x) {
            sum += Math.exp(v - m);
        }
        return m + Math.log(sum);
    }

    @Override
    protected Tensor doArgMax(int axis) {
        long[] s = shape();
        double[][] lanes = lanes(s, axis);
        double[] r = new double[lanes.length];
        for (int l = 0; l < lanes.length; l++) {
            double[] x = lanes[l];
            int best = 0;
            for (int j = 1; j < x.length; j++) {
                // strictly greater keeps the first maximum; NaN counts as the largest, as in NumPy
                if (x[j] > x[best] || (Double.isNaN(x[j]) && !Double.isNaN(x[best]))) {
                    best = j;
                }
            }
            r[l] = best;
        }
        return make(Shapes.reduced(s, axis, false), DType.INT64, r);
    }

    @Override
    protected TopK doTopK(int k, int axis) {
        long[] s = shape();
        int outer = span(s, 0, axis);
        int inner = span(s, axis + 1, s.length);
        double[][] lanes = lanes(s, axis);
        double[] values = new double[outer * k * inner];
        double[] indices = new double[values.length];
        for (int l = 0; l < lanes.length; l++) {
            double[] x = lanes[l];
            Integer[] order = new Integer[x.length];
            Arrays.setAll(order, j -> j);
            // a stable sort: equal values keep ascending index order
            Arrays.sort(order, Comparator.comparingDouble((Integer j) -> x[j]).reversed());
            int o = l / inner;
            int i = l % inner;
            for (int j = 0; j < k; j++) {
                int at = (o * k + j) * inner + i;
                values[at] = x[order[j]];
                indices[at] = order[j];
            }
        }
        long[] out = s.clone();
        out[axis] = k;
        return new TopK(make(out, dtype(), values), make(out.clone(), DType.INT64, indices));
    }

    @Override
    protected Tensor doGather(int axis, Tensor indices) {
        long[] s = shape();
        int outer = span(s, 0, axis);
        int len = (int) s[axis];
        int inner = span(s, axis + 1, s.length);
        double[] idx = data(indices);
        double[] r = new double[outer * idx.length * inner];
        for (int o = 0; o < outer; o++) {
            for (int j = 0; j < idx.length; j++) {
                System.arraycopy(data, (o * len + (int) idx[j]) * inner, r, (o * idx.length + j) * inner, inner);
            }
        }
        long[] out = s.clone();
        out[axis] = idx.length;
        return make(out, dtype(), r);
    }

    @Override
    protected Tensor doTakeAlong(int axis, Tensor indices) {
        long[] s = shape();
        long[] is = indices.shape();
        int outer = span(s, 0, axis);
        int len = (int) s[axis];
        int inner = span(s, axis + 1, s.length);
        int m = (int) is[axis];
        double[] idx = data(indices);
        double[] r = new double[idx.length];
        for (int o = 0; o < outer; o++) {
            for (int j = 0; j < m; j++) {
                for (int i = 0; i < inner; i++) {
                    int at = (o * m + j) * inner + i;
                    r[at] = data[(o * len + (int) idx[at]) * inner + i];
                }
            }
        }
        return make(is, dtype(), r);
    }

    // ---- index arithmetic ---------------------------------------------------------------------

    /** Row-major strides of {@code shape}. */
    static long[] strides(long[] shape) {
        long[] st = new long[shape.length];
        long step = 1;
        for (int d = shape.length - 1; d >= 0; d--) {
            st[d] = step;
            step *= shape[d];
        }
        return st;
    }

    /** Product of {@code shape[from..to)}. */
    static int span(long[] shape, int from, int to) {
        long n = 1;
        for (int d = from; d < to; d++) {
            n *= shape[d];
        }
        return Math.toIntExact(n);
    }

    /** For each element of {@code shape} in row-major order, the offset {@code sum(index[d] * strides[d])}. */
    static int[] offsets(long[] shape, long[] strides) {
        int n = Math.toIntExact(Shapes.size(shape));
        int[] out = new int[n];
        for (int flat = 0; flat < n; flat++) {
            long rem = flat;
            long off = 0;
            for (int d = shape.length - 1; d >= 0; d--) {
                off += (rem % shape[d]) * strides[d];
                rem /= shape[d];
            }
            out[flat] = (int) off;
        }
        return out;
    }

    /** Offsets into a tensor of shape {@code in} read as if broadcast to {@code out} (stride 0 on stretched axes). */
    static int[] broadcastOffsets(long[] in, long[] out) {
        long[] inStrides = strides(in);
        long[] view = new long[out.length];
        int shift = out.length - in.length;
        for (int d = shift; d < out.length; d++) {
            view[d] = in[d - shift] == 1 ? 0 : inStrides[d - shift];
        }
        return offsets(out, view);
    }

    private static double[] pick(double[] from, int[] offsets) {
        double[] r = new double[offsets.length];
        for (int i = 0; i < r.length; i++) {
            r[i] = from[offsets[i]];
        }
        return r;
    }

    /**
     * The 1-D lanes along {@code axis}, in the row-major order of the shape with that axis removed:
     * lane {@code o * inner + i} holds {@code data[(o * len + j) * inner + i]} for each j.
     */
    private double[][] lanes(long[] s, int axis) {
        int outer = span(s, 0, axis);
        int len = (int) s[axis];
        int inner = span(s, axis + 1, s.length);
        double[][] lanes = new double[outer * inner][len];
        for (int o = 0; o < outer; o++) {
            for (int i = 0; i < inner; i++) {
                for (int j = 0; j < len; j++) {
                    lanes[o * inner + i][j] = data[(o * len + j) * inner + i];
                }
            }
        }
        return lanes;
    }
}
