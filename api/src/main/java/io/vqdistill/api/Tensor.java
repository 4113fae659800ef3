package io.vqdistill.api;

import java.util.Arrays;

/**
 * A backend-neutral n-dimensional array living on one {@link Backend} and one {@link Device}.
 *
 * <p>Tensors are immutable: every operation returns a new tensor and leaves its operands alone.
 * Shapes follow NumPy: a rank-0 tensor is a scalar, axes may have length 0, negative axis numbers
 * count from the end, and elementwise operations broadcast. Operands of one operation must belong
 * to the same backend and, unless stated otherwise, have the same dtype: there is no implicit type
 * promotion; convert with {@link #toType(DType)}.
 *
 * <p>The abstract methods are the core a backend implements (usually by extending
 * {@link io.vqdistill.api.spi.AbstractTensor}, which validates every argument before the engine
 * sees it); the default methods are conveniences built on that core. Operations a backend may not
 * have (convolutions, training) are not here but in {@link Capability} interfaces.
 *
 * <p>Memory is released deterministically: close a tensor when done, or create intermediates inside
 * a {@link TensorScope}. Any use of a closed tensor is a {@link TensorException}.
 */
public interface Tensor extends AutoCloseable {

    // ---- identity -------------------------------------------------------------------------

    /** The backend that owns this tensor. */
    Backend backend();

    /** A copy of the shape; empty for a scalar. */
    long[] shape();

    /** The element type. */
    DType dtype();

    /** The device holding the data. */
    Device device();

    /** True once {@link #close()} was called. */
    boolean isClosed();

    /** Releases the engine memory now. Idempotent. */
    @Override
    void close();

    // ---- data out ---------------------------------------------------------------------------

    /** All elements in row-major order converted to float. */
    float[] toFloatArray();

    /** All elements in row-major order converted to double. */
    double[] toDoubleArray();

    /** All elements in row-major order converted to int (floats truncated toward zero). */
    int[] toIntArray();

    /** All elements in row-major order converted to long (floats truncated toward zero). */
    long[] toLongArray();

    /** All elements in row-major order as booleans (non-zero is true). */
    boolean[] toBooleanArray();

    /** This tensor converted to {@code type}; floats convert to integers by truncation toward zero. */
    Tensor toType(DType type);

    // ---- shape ------------------------------------------------------------------------------

    /** The same elements in a new shape of equal size; one entry may be -1 and is inferred. */
    Tensor reshape(long... newShape);

    /** Axes permuted: result axis i is input axis {@code axes[i]}. */
    Tensor transpose(int... axes);

    /** Elements {@code start} (inclusive) to {@code end} (exclusive) along {@code axis}. */
    Tensor slice(int axis, long start, long end);

    // ---- elementwise ------------------------------------------------------------------------

    /** An elementwise function; see {@link UnaryOp} for the dtypes each accepts. */
    Tensor unary(UnaryOp op);

    /** Broadcasting arithmetic {@code this op other}; same numeric dtype required. */
    Tensor binary(BinaryOp op, Tensor other);

    /** Broadcasting comparison {@code this op other}; the result is BOOL. */
    Tensor compare(CompareOp op, Tensor other);

    /**
     * Picks {@code ifTrue} where this BOOL tensor is true and {@code ifFalse} elsewhere; all three
     * broadcast together and the two branches must share a dtype.
     */
    Tensor where(Tensor ifTrue, Tensor ifFalse);

    /** Values limited to [min, max]; NaN stays NaN. Numeric types only. */
    Tensor clamp(double min, double max);

    // ---- linear algebra, reductions, indexing -----------------------------------------------

    /**
     * Matrix product over the last two axes, [..., m, k] x [..., k, n] = [..., m, n]; leading
     * (batch) axes broadcast. Both operands rank >= 2 and of the same floating dtype.
     */
    Tensor matmul(Tensor other);

    /** Reduces {@code axis}; with {@code keepDims} the axis stays with length 1. */
    Tensor reduce(ReduceOp op, int axis, boolean keepDims);

    /** Position of the largest element along {@code axis} (the first one on ties), as INT64. */
    Tensor argMax(int axis);

    /**
     * The {@code k} largest elements along {@code axis}, in descending order, with their positions;
     * equal values come out in ascending position.
     */
    TopK topK(int k, int axis);

    /**
     * Selects whole slices along {@code axis} by a rank-1 INT32/INT64 index tensor:
     * the result has the same rank, with axis length {@code indices.size()}. Indices may repeat and
     * must lie in [0, length of axis).
     */
    Tensor gather(int axis, Tensor indices);

    /**
     * Picks one element per position along {@code axis}: {@code out[..i..] = this[..indices[..i..]..]}
     * with {@code indices} of the same rank as this tensor and equal lengths on every other axis
     * (PyTorch's {@code gather}, NumPy's {@code take_along_axis}).
     */
    Tensor takeAlong(int axis, Tensor indices);

    // ---- conveniences -----------------------------------------------------------------------

    /** Number of axes. */
    default int rank() {
        return shape().length;
    }

    /** Length of {@code axis} (negative counts from the end). */
    default long shape(int axis) {
        long[] s = shape();
        return s[Shapes.axis(axis, s.length, "shape")];
    }

    /** Number of elements. */
    default long size() {
        return Shapes.size(shape());
    }

    /** The single element of a size-1 tensor, as double. */
    default double item() {
        if (size() != 1) {
            throw new TensorException("item: tensor of shape " + Shapes.format(shape()) + " has " + size()
                    + " elements, expected 1");
        }
        return toDoubleArray()[0];
    }

    /** A new axis of length 1 inserted at {@code axis} (0..rank). */
    default Tensor expandDims(int axis) {
        long[] s = shape();
        int a = axis < 0 ? axis + s.length + 1 : axis;
        if (a < 0 || a > s.length) {
            throw new TensorException("expandDims: axis " + axis + " out of range for shape " + Shapes.format(s));
        }
        long[] out = new long[s.length + 1];
        System.arraycopy(s, 0, out, 0, a);
        out[a] = 1;
        System.arraycopy(s, a, out, a + 1, s.length - a);
        return reshape(out);
    }

    /** Removes {@code axis}, which must have length 1. */
    default Tensor squeeze(int axis) {
        long[] s = shape();
        int a = Shapes.axis(axis, s.length, "squeeze");
        if (s[a] != 1) {
            throw new TensorException("squeeze: axis " + axis + " has length " + s[a] + ", expected 1");
        }
        long[] out = new long[s.length - 1];
        System.arraycopy(s, 0, out, 0, a);
        System.arraycopy(s, a + 1, out, a, s.length - a - 1);
        return reshape(out);
    }

    /** The matrix transpose of the last two axes. */
    default Tensor transposeLast() {
        int r = rank();
        if (r < 2) {
            throw new TensorException("transposeLast: needs rank >= 2, found shape " + Shapes.format(shape()));
        }
        int[] axes = new int[r];
        Arrays.setAll(axes, i -> i);
        axes[r - 2] = r - 1;
        axes[r - 1] = r - 2;
        return transpose(axes);
    }

    /** A scalar of this tensor's dtype on this tensor's backend. */
    default Tensor scalarLike(double value) {
        return backend().full(dtype(), value);
    }

    /** this + other. */
    default Tensor add(Tensor other) {
        return binary(BinaryOp.ADD, other);
    }

    /** this - other. */
    default Tensor sub(Tensor other) {
        return binary(BinaryOp.SUB, other);
    }

    /** this * other. */
    default Tensor mul(Tensor other) {
        return binary(BinaryOp.MUL, other);
    }

    /** this / other. */
    default Tensor div(Tensor other) {
        return binary(BinaryOp.DIV, other);
    }

    /** this + value. */
    default Tensor add(double value) {
        try (Tensor s = scalarLike(value)) {
            return binary(BinaryOp.ADD, s);
        }
    }

    /** this - value. */
    default Tensor sub(double value) {
        try (Tensor s = scalarLike(value)) {
            return binary(BinaryOp.SUB, s);
        }
    }

    /** this * value. */
    default Tensor mul(double value) {
        try (Tensor s = scalarLike(value)) {
            return binary(BinaryOp.MUL, s);
        }
    }

    /** this / value. */
    default Tensor div(double value) {
        try (Tensor s = scalarLike(value)) {
            return binary(BinaryOp.DIV, s);
        }
    }

    /** Elementwise maximum. */
    default Tensor maximum(Tensor other) {
        return binary(BinaryOp.MAXIMUM, other);
    }

    /** Elementwise minimum. */
    default Tensor minimum(Tensor other) {
        return binary(BinaryOp.MINIMUM, other);
    }

    /** e^x. */
    default Tensor exp() {
        return unary(UnaryOp.EXP);
    }

    /** Natural logarithm. */
    default Tensor log() {
        return unary(UnaryOp.LOG);
    }

    /** log(1 + x). */
    default Tensor log1p() {
        return unary(UnaryOp.LOG1P);
    }

    /** Square root. */
    default Tensor sqrt() {
        return unary(UnaryOp.SQRT);
    }

    /** x * x. */
    default Tensor square() {
        return unary(UnaryOp.SQUARE);
    }

    /** -x. */
    default Tensor neg() {
        return unary(UnaryOp.NEG);
    }

    /** |x|. */
    default Tensor abs() {
        return unary(UnaryOp.ABS);
    }

    /** Sum along {@code axis}, which is removed. */
    default Tensor sum(int axis) {
        return reduce(ReduceOp.SUM, axis, false);
    }

    /** Maximum along {@code axis}, which is removed. */
    default Tensor max(int axis) {
        return reduce(ReduceOp.MAX, axis, false);
    }

    /** Stable log-sum-exp along {@code axis}, which is removed. */
    default Tensor logSumExp(int axis) {
        return reduce(ReduceOp.LOG_SUM_EXP, axis, false);
    }

    /** Sum of all elements, as a scalar tensor. */
    default Tensor sumAll() {
        try (Tensor flat = reshape(-1)) {
            return flat.reduce(ReduceOp.SUM, 0, false);
        }
    }

    /** log-softmax along {@code axis}: x - logSumExp(x); a slice that is all -inf gives NaN. */
    default Tensor logSoftmax(int axis) {
        try (Tensor lse = reduce(ReduceOp.LOG_SUM_EXP, axis, true)) {
            return sub(lse);
        }
    }

    /** this == other, elementwise, as BOOL. */
    default Tensor eq(Tensor other) {
        return compare(CompareOp.EQ, other);
    }

    /** this &lt; other, elementwise, as BOOL. */
    default Tensor lt(Tensor other) {
        return compare(CompareOp.LT, other);
    }

    /** this &gt; other, elementwise, as BOOL. */
    default Tensor gt(Tensor other) {
        return compare(CompareOp.GT, other);
    }
}
