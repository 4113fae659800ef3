package io.vqdistill.backend.nd4j;

import io.vqdistill.api.BinaryOp;
import io.vqdistill.api.CompareOp;
import io.vqdistill.api.DType;
import io.vqdistill.api.ReduceOp;
import io.vqdistill.api.Shapes;
import io.vqdistill.api.Tensor;
import io.vqdistill.api.TensorException;
import io.vqdistill.api.TopK;
import io.vqdistill.api.UnaryOp;
import io.vqdistill.api.spi.AbstractTensor;
import java.util.Arrays;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.api.ops.DynamicCustomOp;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.INDArrayIndex;
import org.nd4j.linalg.indexing.NDArrayIndex;
import org.nd4j.linalg.ops.transforms.Transforms;

/**
 * A {@link Tensor} holding one ND4J array. The array is row-major, starts at offset 0 and owns its
 * buffer: no two tensors share memory, so closing one (which frees the buffer at once) never
 * affects another. Operations that ND4J answers with a view ({@code reshape}, {@code permute},
 * {@code get}) therefore copy.
 *
 * <p>Where ND4J M2.1 deviates from the contract, the operation is composed from ND4J ops that
 * behave: log-sum-exp (ND4J subtracts one maximum for the whole array), log1p (naive
 * {@code log(1 + x)}), max/min/maximum/minimum (NaN ignored), top-k (indices of tied values
 * repeated), integer division (a zero divisor or {@code MIN / -1} kills the JVM with SIGFPE) and
 * gather of BOOL (rejected). Pairwise ops use libnd4j's own broadcasting into an output of the
 * result shape; {@code where} and the batch axes of {@code matmul}, which libnd4j does not
 * broadcast, are broadcast explicitly.
 */
final class Nd4jTensor extends AbstractTensor {
    private final INDArray array;

    private Nd4jTensor(Nd4jBackend backend, INDArray array, DType dtype) {
        super(backend, array.shape(), dtype);
        this.array = array;
    }

    /**
     * A tensor owning {@code result}, or a row-major copy of it when it is one of {@code inputs}, a
     * view, or not laid out row-major from offset 0.
     */
    static Nd4jTensor wrap(Nd4jBackend backend, INDArray result, INDArray... inputs) {
        INDArray a = result;
        boolean shared = false;
        for (INDArray in : inputs) {
            shared |= in == a;
        }
        if (shared || a.isView() || !a.closeable() || a.offset() != 0 || !rowMajor(a)) {
            a = a.dup('c');
        }
        DType dtype;
        try {
            dtype = Nd4jConverter.fromNd4j(a.dataType());
        } catch (TensorException e) {
            a.close();
            throw e;
        }
        return new Nd4jTensor(backend, a, dtype);
    }

    private static boolean rowMajor(INDArray a) {
        if (a.isEmpty() || a.rank() < 2) {
            return true;
        }
        long[] shape = a.shape();
        long[] stride = a.stride();
        long expected = 1;
        for (int i = shape.length - 1; i >= 0; i--) {
            if (shape[i] != 1 && stride[i] != expected) {
                return false;
            }
            expected *= shape[i];
        }
        return true;
    }

    /** The wrapped array; callers must not close or modify it. */
    INDArray array() {
        return array;
    }

    private Nd4jBackend nd4j() {
        return (Nd4jBackend) backend();
    }

    private Nd4jTensor wrap(INDArray result, INDArray... inputs) {
        return wrap(nd4j(), result, inputs);
    }

    private static INDArray arrayOf(Tensor t) {
        return ((Nd4jTensor) t).array;
    }

    private DataType type() {
        return array.dataType();
    }

    @Override
    protected void release() {
        if (!array.wasClosed() && array.closeable()) {
            array.close();
        }
    }

    @Override
    protected Object readData() {
        return Nd4jConverter.read(array, dtype());
    }

    // ---- conversion and shape -----------------------------------------------------------------

    @Override
    protected Tensor doToType(DType type) {
        return wrap(array.castTo(Nd4jConverter.toNd4j(type)), array);
    }

    @Override
    protected Tensor doReshape(long[] newShape) {
        return wrap(Nd4jOps.view(array, newShape).dup('c'));
    }

    @Override
    protected Tensor doTranspose(int[] axes) {
        if (axes.length < 2) {
            return wrap(array.dup('c'));
        }
        return wrap(array.permute(axes).dup('c'));
    }

    @Override
    protected Tensor doSlice(int axis, long start, long end) {
        INDArrayIndex[] index = new INDArrayIndex[rank()];
        for (int i = 0; i < index.length; i++) {
            index[i] = i == axis ? NDArrayIndex.interval(start, end) : NDArrayIndex.all();
        }
        long[] out = shape();
        out[axis] = end - start;
        return wrap(fit(array.get(index).dup('c'), out));
    }

    // ---- elementwise ----------------------------------------------------------------------------

    @Override
    protected Tensor doUnary(UnaryOp op) {
        INDArray out = switch (op) {
            case EXP -> Transforms.exp(array, true);
            case LOG -> Transforms.log(array, true);
            case LOG1P -> log1p(array);
            case SQRT -> Transforms.sqrt(array, true);
            case SQUARE -> pairwise("multiply", array, array, array.shape());
            case NEG -> array.neg();
            case ABS -> Transforms.abs(array, true);
        };
        return wrap(out, array);
    }

    /**
     * log(1 + x) to full precision for tiny x: with u = 1 + x rounded, log(u) * x / (u - 1) is
     * accurate (u - 1 is exact), and x itself where u rounds to 1. ND4J's own log1p is
     * log(1 + x), which returns 0 for x = 1e-10 in float32.
     */
    private static INDArray log1p(INDArray x) {
        long[] shape = x.shape();
        try (Scratch s = new Scratch()) {
            INDArray u = s.add(x.add(1.0));
            INDArray d = s.add(u.sub(1.0));
            INDArray logU = s.add(Transforms.log(u, true));
            INDArray ratio = s.add(pairwise("divide", x, d, shape));
            INDArray scaled = s.add(pairwise("multiply", logU, ratio, shape));
            INDArray tiny = s.add(d.eq(0.0));
            INDArray exact = s.add(Nd4jOps.select(tiny, x, scaled));
            // x = +inf gives inf / inf above
            INDArray infinite = s.add(x.eq(Double.POSITIVE_INFINITY));
            return Nd4jOps.select(infinite, x, exact);
        }
    }

    @Override
    protected Tensor doBinary(BinaryOp op, Tensor other, long[] resultShape) {
        INDArray b = arrayOf(other);
        INDArray a = array;
        try (Scratch s = new Scratch()) {
            INDArray out = switch (op) {
                case ADD -> pairwise("add", a, b, resultShape);
                case SUB -> pairwise("subtract", a, b, resultShape);
                case MUL -> pairwise("multiply", a, b, resultShape);
                case DIV -> dtype().isInteger() ? integerDivide(a, b, resultShape, s)
                        : pairwise("divide", a, b, resultShape);
                case MAXIMUM -> nanPropagating("maximum", a, b, resultShape, s);
                case MINIMUM -> nanPropagating("minimum", a, b, resultShape, s);
            };
            return wrap(out, array, b);
        }
    }

    /**
     * A libnd4j pairwise op into a new array of {@code resultShape}, using the op's own NumPy
     * broadcasting (a preallocated output of the wrong shape would make the op fail, not guess).
     */
    private static INDArray pairwise(String name, INDArray a, INDArray b, long[] resultShape) {
        return Nd4jOps.exec(name, Nd4jOps.alloc(a.dataType(), resultShape), a, b);
    }

    /**
     * Integer a / b truncated toward zero. libnd4j divides with the CPU instruction, which traps
     * (SIGFPE, the JVM dies) on a zero divisor and on MIN / -1. Zero divisors never get here
     * (AbstractTensor rejects them); division by -1 is computed as negation (wrapping, like Java).
     */
    private INDArray integerDivide(INDArray a, INDArray b, long[] resultShape, Scratch s) {
        INDArray minusOne = s.add(b.eq(-1));
        if (!minusOne.any()) {
            return pairwise("divide", a, b, resultShape);
        }
        INDArray ones = s.add(Nd4jConverter.full(dtype(), 1, b.shape()));
        INDArray safe = s.add(Nd4jOps.select(minusOne, ones, b));
        INDArray quotient = s.add(pairwise("divide", a, safe, resultShape));
        return Nd4jOps.select(minusOne, s.add(a.neg()), quotient, resultShape);
    }

    /** ND4J's maximum/minimum, made to return NaN where either operand is NaN. */
    private INDArray nanPropagating(String name, INDArray a, INDArray b, long[] resultShape, Scratch s) {
        INDArray out = pairwise(name, a, b, resultShape);
        if (!dtype().isFloating()) {
            return out;
        }
        INDArray nanA = s.add(Nd4jOps.isNaN(a));
        INDArray nanB = s.add(Nd4jOps.isNaN(b));
        if (!nanA.any() && !nanB.any()) {
            return out;
        }
        s.add(out);
        INDArray fromA = s.add(Nd4jOps.select(nanA, a, out, resultShape));
        return Nd4jOps.select(nanB, b, fromA, resultShape);
    }

    @Override
    protected Tensor doCompare(CompareOp op, Tensor other, long[] resultShape) {
        INDArray b0 = arrayOf(other);
        String name = switch (op) {
            case EQ -> "equals";
            case NE -> "not_equals";
            case LT -> "less";
            case LE -> "less_equal";
            case GT -> "greater";
            case GE -> "greater_equal";
        };
        return wrap(Nd4jOps.exec(name, Nd4jOps.alloc(DataType.BOOL, resultShape), array, b0), array, b0);
    }

    @Override
    protected Tensor doWhere(Tensor ifTrue, Tensor ifFalse, long[] resultShape) {
        INDArray t0 = arrayOf(ifTrue);
        INDArray f0 = arrayOf(ifFalse);
        return wrap(Nd4jOps.select(array, t0, f0, resultShape), array, t0, f0);
    }

    @Override
    protected Tensor doClamp(double min, double max) {
        long[] shape = shape();
        boolean floating = dtype().isFloating();
        // libnd4j's clipbyvalue rejects integer arrays and min == max, so: minimum(maximum(x, lo), hi)
        double lo = min;
        double hi = max;
        boolean applyLo = min > Double.NEGATIVE_INFINITY;
        boolean applyHi = max < Double.POSITIVE_INFINITY;
        if (!floating) {
            // the integers in [min, max]; bounds beyond the dtype's range do nothing
            double typeMin = dtype() == DType.INT32 ? Integer.MIN_VALUE : Long.MIN_VALUE;
            double typeMax = dtype() == DType.INT32 ? Integer.MAX_VALUE : Long.MAX_VALUE;
            lo = Math.ceil(min);
            hi = Math.floor(max);
            applyLo = lo > typeMin;
            applyHi = hi < typeMax;
        }
        try (Scratch s = new Scratch()) {
            INDArray out = array;
            if (applyLo) {
                out = s.add(pairwise("maximum", out, s.add(Nd4j.scalar(type(), bound(lo))), shape));
            }
            if (applyHi) {
                out = s.add(pairwise("minimum", out, s.add(Nd4j.scalar(type(), bound(hi))), shape));
            }
            if (floating && out != array) {
                // maximum/minimum drop NaN
                INDArray nan = s.add(Nd4jOps.isNaN(array));
                if (nan.any()) {
                    out = s.add(Nd4jOps.select(nan, array, out));
                }
            }
            return wrap(s.keep(out), array);
        }
    }

    /** A clamp bound as the Java number ND4J's scalar factory converts exactly for this dtype. */
    private Number bound(double v) {
        return switch (dtype()) {
            case INT32 -> (int) v;
            case INT64 -> (long) v;
            default -> v;
        };
    }

    // ---- linear algebra, reductions, indexing -------------------------------------------------

    @Override
    protected Tensor doMatmul(Tensor other, long[] resultShape) {
        INDArray b0 = arrayOf(other);
        int r = resultShape.length;
        long m = resultShape[r - 2];
        long n = resultShape[r - 1];
        long k = array.size(array.rank() - 1);
        long[] batch = Arrays.copyOf(resultShape, r - 2);
        long batches = Shapes.size(batch);
        try (Scratch s = new Scratch()) {
            INDArray a = Nd4jOps.broadcastTo(array, concat(batch, m, k), s);
            INDArray b = Nd4jOps.broadcastTo(b0, concat(batch, k, n), s);
            INDArray out = Nd4jOps.alloc(type(), resultShape);
            if (r == 2) {
                Nd4jOps.exec("matmul", out, a, b);
            } else {
                // the batch axes flattened into one; the op writes through the view into out's buffer
                Nd4jOps.exec("matmul", Nd4jOps.view(out, batches, m, n),
                        Nd4jOps.view(a, batches, m, k), Nd4jOps.view(b, batches, k, n));
            }
            return wrap(out, array, b0);
        }
    }

    private static long[] concat(long[] head, long... tail) {
        long[] out = Arrays.copyOf(head, head.length + tail.length);
        System.arraycopy(tail, 0, out, head.length, tail.length);
        return out;
    }

    @Override
    protected Tensor doReduce(ReduceOp op, int axis, boolean keepDims) {
        long[] out = Shapes.reduced(shape(), axis, keepDims);
        INDArray result = switch (op) {
            case SUM -> array.sum(keepDims, axis);
            case MAX -> withNaN(fit(array.max(keepDims, axis), out), axis, keepDims, out);
            case MIN -> withNaN(fit(array.min(keepDims, axis), out), axis, keepDims, out);
            case LOG_SUM_EXP -> logSumExp(axis, keepDims, out);
        };
        return wrap(fit(result, out), array);
    }

    /** ND4J's max/min skip NaN; the contract wants NaN for a lane holding one. {@code reduced} has shape out. */
    private INDArray withNaN(INDArray reduced, int axis, boolean keepDims, long[] out) {
        if (!dtype().isFloating()) {
            return reduced;
        }
        try (Scratch s = new Scratch()) {
            INDArray nan = s.add(Nd4jOps.isNaN(array));
            if (!nan.any()) {
                return reduced;
            }
            s.add(reduced);
            // libnd4j's reduce_max ignores its axis argument for BOOL input: reduce an int32 copy
            INDArray counts = s.add(fit(s.add(nan.castTo(DataType.INT32)).max(keepDims, axis), out));
            INDArray laneHasNaN = s.add(counts.castTo(DataType.BOOL));
            INDArray nans = s.add(Nd4jConverter.full(dtype(), Double.NaN, out));
            return Nd4jOps.select(laneHasNaN, nans, reduced);
        }
    }

    /**
     * m + log(sum(exp(x - m))) with m the lane maximum, or 0 where that maximum is infinite (so an
     * all -inf lane gives log(0) = -inf and a +inf entry gives +inf). ND4J's {@code logSumExp}
     * subtracts one maximum of the whole array and returns -inf for lanes far below it.
     */
    private INDArray logSumExp(int axis, boolean keepDims, long[] out) {
        long[] shape = array.shape();
        long[] kept = Shapes.reduced(shape, axis, true);
        try (Scratch s = new Scratch()) {
            INDArray max = s.add(fit(array.max(true, axis), kept));
            INDArray finite = s.add(s.add(Transforms.abs(max, true)).lt(Double.POSITIVE_INFINITY));
            INDArray zeros = s.add(Nd4jConverter.full(dtype(), 0, kept));
            INDArray shift = s.add(Nd4jOps.select(finite, max, zeros));
            INDArray centred = s.add(pairwise("subtract", array, shift, shape));
            INDArray sum = s.add(fit(Transforms.exp(centred, false).sum(keepDims, axis), out));
            INDArray logSum = Transforms.log(sum, false);
            INDArray shiftOut = keepDims ? shift : Nd4jOps.view(shift, out);
            return pairwise("add", logSum, shiftOut, out);
        }
    }

    @Override
    protected Tensor doArgMax(int axis) {
        long[] out = Shapes.reduced(shape(), axis, false);
        INDArray idx = Nd4j.argMax(array, axis);
        if (idx.dataType() != DataType.INT64) {
            INDArray wide = idx.castTo(DataType.INT64);
            idx.close();
            idx = wide;
        }
        return wrap(fit(idx, out), array);
    }

    @Override
    protected TopK doTopK(int k, int axis) {
        int r = rank();
        long n = shape()[axis];
        try (Scratch s = new Scratch()) {
            INDArray moved = axis == r - 1 ? array : s.add(array.permute(moveToEnd(axis, r)).dup('c'));
            long rows = moved.length() / n;
            INDArray rowsView = Nd4jOps.view(moved, rows, n);
            INDArray positions = s.add(Nd4jOps.topKPositions(rowsView, k, s));
            INDArray values = s.add(Nd4jOps.takeAlongLast(rowsView, positions, s));
            long[] movedShape = moved.shape().clone();
            movedShape[r - 1] = k;
            Nd4jTensor v = wrap(moveBack(values, movedShape, axis));
            try {
                return new TopK(v, wrap(moveBack(positions, movedShape, axis)));
            } catch (RuntimeException e) {
                v.close();
                throw e;
            }
        }
    }

    @Override
    protected Tensor doGather(int axis, Tensor indices) {
        INDArray idx = arrayOf(indices);
        long[] out = shape();
        out[axis] = idx.length();
        boolean bool = dtype() == DType.BOOL;
        try (Scratch s = new Scratch()) {
            // ND4J's gather rejects BOOL data
            INDArray source = bool ? s.add(array.castTo(DataType.INT32)) : array;
            INDArray picked = Nd4jOps.exec("gather", Nd4jOps.alloc(source.dataType(), out), new int[] {axis},
                    source, idx);
            if (bool) {
                s.add(picked);
                picked = picked.castTo(DataType.BOOL);
            }
            return wrap(picked, array, idx);
        }
    }

    @Override
    protected Tensor doTakeAlong(int axis, Tensor indices) {
        INDArray idx0 = arrayOf(indices);
        int r = rank();
        long n = shape()[axis];
        try (Scratch s = new Scratch()) {
            INDArray idx = idx0.dataType() == DataType.INT64 ? idx0 : s.add(idx0.castTo(DataType.INT64));
            INDArray movedX = axis == r - 1 ? array : s.add(array.permute(moveToEnd(axis, r)).dup('c'));
            INDArray movedIdx = axis == r - 1 ? idx : s.add(idx.permute(moveToEnd(axis, r)).dup('c'));
            long m = movedIdx.size(r - 1);
            long rows = movedIdx.length() / m;
            INDArray picked = s.add(Nd4jOps.takeAlongLast(Nd4jOps.view(movedX, rows, n),
                    Nd4jOps.view(movedIdx, rows, m), s));
            return wrap(moveBack(picked, movedIdx.shape(), axis), array, idx0);
        }
    }

    // ---- helpers --------------------------------------------------------------------------------

    /** The permutation that moves {@code axis} to the end. */
    private static int[] moveToEnd(int axis, int rank) {
        int[] perm = new int[rank];
        for (int i = 0, j = 0; i < rank; i++) {
            if (i != axis) {
                perm[j++] = i;
            }
        }
        perm[rank - 1] = axis;
        return perm;
    }

    /**
     * A new row-major array of {@code flat} (rows x k, owned by the caller) seen as
     * {@code movedShape} and with its last axis moved back to {@code axis}.
     */
    private static INDArray moveBack(INDArray flat, long[] movedShape, int axis) {
        int r = movedShape.length;
        INDArray moved = Nd4jOps.view(flat, movedShape);
        if (axis == r - 1) {
            return moved.dup('c');
        }
        int[] inverse = new int[r];
        int[] perm = moveToEnd(axis, r);
        for (int i = 0; i < r; i++) {
            inverse[perm[i]] = i;
        }
        return moved.permute(inverse).dup('c');
    }

    /**
     * {@code a} itself when it has {@code shape}, else a row-major copy in that shape (ND4J
     * sometimes returns [n] for [1, n] and the like); {@code a} is then closed.
     */
    private static INDArray fit(INDArray a, long[] shape) {
        if (Arrays.equals(a.shape(), shape)) {
            return a;
        }
        if (a.length() != Shapes.size(shape)) {
            throw new TensorException("backend nd4j: the engine returned shape " + Shapes.format(a.shape())
                    + ", expected " + Shapes.format(shape));
        }
        INDArray copy = Nd4jOps.view(a, shape).dup('c');
        if (a.closeable()) {
            a.close();
        }
        return copy;
    }
}
