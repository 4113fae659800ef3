package io.vqdistill.api.spi;

import io.vqdistill.api.Backend;
import io.vqdistill.api.BinaryOp;
import io.vqdistill.api.CompareOp;
import io.vqdistill.api.DType;
import io.vqdistill.api.Device;
import io.vqdistill.api.ReduceOp;
import io.vqdistill.api.Shapes;
import io.vqdistill.api.Tensor;
import io.vqdistill.api.TensorException;
import io.vqdistill.api.TensorScope;
import io.vqdistill.api.TopK;
import io.vqdistill.api.UnaryOp;
import java.util.Arrays;
import java.util.function.Supplier;

/**
 * The base of every backend's {@link Tensor}. It owns the shape, dtype and closed state, registers
 * each new tensor with the open {@link TensorScope}, and checks every argument before the engine
 * sees it, so that all backends reject bad input with the same messages. It also answers the edge
 * cases engines disagree on (empty tensors, empty reductions) and checks the shape and dtype the
 * engine returns, so a divergent engine is an error, never a silent wrong result.
 *
 * <p>A backend implements the {@code do*} methods, which receive validated, normalised arguments
 * (non-negative axes, operands of this backend and dtype, non-empty results) and may downcast other
 * tensors to their own class. Engine exceptions thrown from them are wrapped once, here.
 */
public abstract class AbstractTensor implements Tensor {
    private final Backend backend;
    private final long[] shape;
    private final DType dtype;
    private boolean closed;

    /** Registers the new tensor with the current {@link TensorScope}. */
    protected AbstractTensor(Backend backend, long[] shape, DType dtype) {
        this.backend = backend;
        this.shape = shape.clone();
        this.dtype = dtype;
        TensorScope.track(this);
    }

    // ---- what a backend implements ------------------------------------------------------------

    /** Frees the engine memory; called once. */
    protected abstract void release();

    /**
     * The elements as a fresh primitive array of this dtype (float[], double[], int[], long[],
     * boolean[]) in row-major order; the caller owns it.
     */
    protected abstract Object readData();

    /** Converts to another dtype (never the same one). */
    protected abstract Tensor doToType(DType type);

    /** Reshapes to a resolved shape of equal size. */
    protected abstract Tensor doReshape(long[] newShape);

    /** Permutes axes by a valid permutation. */
    protected abstract Tensor doTranspose(int[] axes);

    /** Slices a valid, non-empty range of one axis. */
    protected abstract Tensor doSlice(int axis, long start, long end);

    /** Applies an elementwise function allowed for this dtype. */
    protected abstract Tensor doUnary(UnaryOp op);

    /** Arithmetic with a same-dtype operand; {@code resultShape} is the broadcast shape. */
    protected abstract Tensor doBinary(BinaryOp op, Tensor other, long[] resultShape);

    /** Comparison with a same-dtype operand; the result is BOOL of {@code resultShape}. */
    protected abstract Tensor doCompare(CompareOp op, Tensor other, long[] resultShape);

    /** This BOOL tensor selects between two same-dtype branches, broadcast to {@code resultShape}. */
    protected abstract Tensor doWhere(Tensor ifTrue, Tensor ifFalse, long[] resultShape);

    /** Clamps a numeric tensor, min &lt;= max. */
    protected abstract Tensor doClamp(double min, double max);

    /** Batched matrix product of two floating tensors of rank >= 2 with matching inner lengths. */
    protected abstract Tensor doMatmul(Tensor other, long[] resultShape);

    /** Reduces a non-empty axis. */
    protected abstract Tensor doReduce(ReduceOp op, int axis, boolean keepDims);

    /** Argmax along a non-empty axis, INT64, first maximum on ties. */
    protected abstract Tensor doArgMax(int axis);

    /** The top {@code k} (1 &lt;= k &lt;= length) along an axis, descending, indices INT64. */
    protected abstract TopK doTopK(int k, int axis);

    /** Selects slices by a non-empty rank-1 INT32/INT64 index tensor with in-range values. */
    protected abstract Tensor doGather(int axis, Tensor indices);

    /** PyTorch-style gather with an INT32/INT64 index tensor of valid shape and values. */
    protected abstract Tensor doTakeAlong(int axis, Tensor indices);

    // ---- identity -----------------------------------------------------------------------------

    @Override
    public final Backend backend() {
        return backend;
    }

    @Override
    public final long[] shape() {
        return shape.clone();
    }

    @Override
    public final DType dtype() {
        return dtype;
    }

    @Override
    public Device device() {
        return backend.device();
    }

    @Override
    public final boolean isClosed() {
        return closed;
    }

    @Override
    public final void close() {
        if (!closed) {
            closed = true;
            release();
        }
    }

    @Override
    public final int rank() {
        return shape.length;
    }

    @Override
    public final long size() {
        return Shapes.size(shape);
    }

    @Override
    public String toString() {
        return "Tensor[" + dtype.label() + " " + Shapes.format(shape) + " on " + backend.name() + ":" + device()
                + (closed ? ", closed" : "") + "]";
    }

    // ---- data out -----------------------------------------------------------------------------

    @Override
    public final float[] toFloatArray() {
        Object d = read("toFloatArray");
        if (d instanceof float[] f) {
            return f;
        }
        double[] v = asDoubles(d);
        float[] out = new float[v.length];
        for (int i = 0; i < v.length; i++) {
            out[i] = (float) v[i];
        }
        return out;
    }

    @Override
    public final double[] toDoubleArray() {
        return asDoubles(read("toDoubleArray"));
    }

    @Override
    public final int[] toIntArray() {
        Object d = read("toIntArray");
        if (d instanceof int[] i) {
            return i;
        }
        long[] v = asLongs(d);
        int[] out = new int[v.length];
        for (int i = 0; i < v.length; i++) {
            out[i] = (int) v[i];
        }
        return out;
    }

    @Override
    public final long[] toLongArray() {
        return asLongs(read("toLongArray"));
    }

    @Override
    public final boolean[] toBooleanArray() {
        Object d = read("toBooleanArray");
        if (d instanceof boolean[] b) {
            return b;
        }
        double[] v = asDoubles(d);
        boolean[] out = new boolean[v.length];
        for (int i = 0; i < v.length; i++) {
            out[i] = v[i] != 0;
        }
        return out;
    }

    private Object read(String op) {
        checkOpen(op);
        if (size() == 0) {
            return switch (dtype) {
                case FLOAT32 -> new float[0];
                case FLOAT64 -> new double[0];
                case INT32 -> new int[0];
                case INT64 -> new long[0];
                case BOOL -> new boolean[0];
            };
        }
        Object data = engine(op, this::readData);
        int n = java.lang.reflect.Array.getLength(data);
        if (n != size()) {
            throw new TensorException(op + ": backend " + backend.name() + " returned " + n + " elements for shape "
                    + Shapes.format(shape));
        }
        return data;
    }

    private static double[] asDoubles(Object d) {
        if (d instanceof double[] x) {
            return x;
        }
        int n = java.lang.reflect.Array.getLength(d);
        double[] out = new double[n];
        if (d instanceof float[] x) {
            for (int i = 0; i < n; i++) {
                out[i] = x[i];
            }
        } else if (d instanceof int[] x) {
            for (int i = 0; i < n; i++) {
                out[i] = x[i];
            }
        } else if (d instanceof long[] x) {
            for (int i = 0; i < n; i++) {
                out[i] = x[i];
            }
        } else {
            boolean[] x = (boolean[]) d;
            for (int i = 0; i < n; i++) {
                out[i] = x[i] ? 1 : 0;
            }
        }
        return out;
    }

    private static long[] asLongs(Object d) {
        if (d instanceof long[] x) {
            return x;
        }
        int n = java.lang.reflect.Array.getLength(d);
        long[] out = new long[n];
        if (d instanceof int[] x) {
            for (int i = 0; i < n; i++) {
                out[i] = x[i];
            }
        } else if (d instanceof boolean[] x) {
            for (int i = 0; i < n; i++) {
                out[i] = x[i] ? 1 : 0;
            }
        } else {
            double[] x = asDoubles(d);
            for (int i = 0; i < n; i++) {
                out[i] = (long) x[i];
            }
        }
        return out;
    }

    @Override
    public final Tensor toType(DType type) {
        checkOpen("toType");
        if (size() == 0) {
            return backend.full(type, 0, shape);
        }
        if (type == dtype) {
            return result("toType", () -> doReshape(shape.clone()), shape, type);
        }
        return result("toType", () -> doToType(type), shape, type);
    }

    // ---- shape --------------------------------------------------------------------------------

    @Override
    public final Tensor reshape(long... newShape) {
        checkOpen("reshape");
        long[] target = Shapes.resolveReshape(shape, newShape, "reshape");
        if (size() == 0) {
            return backend.full(dtype, 0, target);
        }
        return result("reshape", () -> doReshape(target), target, dtype);
    }

    @Override
    public final Tensor transpose(int... axes) {
        checkOpen("transpose");
        if (axes.length != shape.length) {
            throw error("transpose", "permutation " + Arrays.toString(axes) + " does not match rank " + shape.length);
        }
        int[] perm = new int[axes.length];
        boolean[] seen = new boolean[axes.length];
        long[] out = new long[axes.length];
        for (int i = 0; i < axes.length; i++) {
            perm[i] = Shapes.axis(axes[i], shape.length, "transpose");
            if (seen[perm[i]]) {
                throw error("transpose", "axes " + Arrays.toString(axes) + " are not a permutation");
            }
            seen[perm[i]] = true;
            out[i] = shape[perm[i]];
        }
        if (size() == 0) {
            return backend.full(dtype, 0, out);
        }
        return result("transpose", () -> doTranspose(perm), out, dtype);
    }

    @Override
    public final Tensor slice(int axis, long start, long end) {
        checkOpen("slice");
        int a = Shapes.axis(axis, shape.length, "slice");
        if (start < 0 || end < start || end > shape[a]) {
            throw error("slice", "range [" + start + ", " + end + ") out of bounds for axis " + axis + " of length "
                    + shape[a]);
        }
        long[] out = shape.clone();
        out[a] = end - start;
        if (Shapes.size(out) == 0) {
            return backend.full(dtype, 0, out);
        }
        return result("slice", () -> doSlice(a, start, end), out, dtype);
    }

    // ---- elementwise --------------------------------------------------------------------------

    @Override
    public final Tensor unary(UnaryOp op) {
        String name = op.name().toLowerCase(java.util.Locale.ROOT);
        checkOpen(name);
        if (!dtype.isNumeric() || (op.floatingOnly() && !dtype.isFloating())) {
            throw error(name, "not defined for dtype " + dtype.label());
        }
        if (size() == 0) {
            return backend.full(dtype, 0, shape);
        }
        return result(name, () -> doUnary(op), shape, dtype);
    }

    @Override
    public final Tensor binary(BinaryOp op, Tensor other) {
        String name = op.name().toLowerCase(java.util.Locale.ROOT);
        Tensor o = operand(name, other);
        if (!dtype.isNumeric()) {
            throw error(name, "not defined for dtype " + dtype.label());
        }
        sameDtype(name, o);
        long[] out = Shapes.broadcast(shape, o.shape(), name);
        if (Shapes.size(out) == 0) {
            return backend.full(dtype, 0, out);
        }
        if (op == BinaryOp.DIV && dtype.isInteger() && containsZero(o)) {
            throw error(name, "integer division by zero");
        }
        return result(name, () -> doBinary(op, o, out), out, dtype);
    }

    @Override
    public final Tensor compare(CompareOp op, Tensor other) {
        String name = op.name().toLowerCase(java.util.Locale.ROOT);
        Tensor o = operand(name, other);
        sameDtype(name, o);
        if (dtype == DType.BOOL && op != CompareOp.EQ && op != CompareOp.NE) {
            throw error(name, "bool tensors support only eq and ne");
        }
        long[] out = Shapes.broadcast(shape, o.shape(), name);
        if (Shapes.size(out) == 0) {
            return backend.full(DType.BOOL, 0, out);
        }
        return result(name, () -> doCompare(op, o, out), out, DType.BOOL);
    }

    @Override
    public final Tensor where(Tensor ifTrue, Tensor ifFalse) {
        checkOpen("where");
        if (dtype != DType.BOOL) {
            throw error("where", "the condition must be bool, found " + dtype.label());
        }
        Tensor t = operand("where", ifTrue);
        Tensor f = operand("where", ifFalse);
        if (t.dtype() != f.dtype()) {
            throw error("where", "branches have dtypes " + t.dtype().label() + " and " + f.dtype().label());
        }
        long[] out = Shapes.broadcast(Shapes.broadcast(shape, t.shape(), "where"), f.shape(), "where");
        if (Shapes.size(out) == 0) {
            return backend.full(t.dtype(), 0, out);
        }
        return result("where", () -> doWhere(t, f, out), out, t.dtype());
    }

    @Override
    public final Tensor clamp(double min, double max) {
        checkOpen("clamp");
        if (!dtype.isNumeric()) {
            throw error("clamp", "not defined for dtype " + dtype.label());
        }
        if (!(min <= max)) {
            throw error("clamp", "min must be <= max, found min " + min + " and max " + max);
        }
        if (size() == 0) {
            return backend.full(dtype, 0, shape);
        }
        return result("clamp", () -> doClamp(min, max), shape, dtype);
    }

    // ---- linear algebra, reductions, indexing -------------------------------------------------

    @Override
    public final Tensor matmul(Tensor other) {
        Tensor o = operand("matmul", other);
        if (!dtype.isFloating()) {
            throw error("matmul", "operands must be floating, found " + dtype.label());
        }
        sameDtype("matmul", o);
        long[] b = o.shape();
        if (shape.length < 2 || b.length < 2) {
            throw error("matmul", "operands need rank >= 2, found " + Shapes.format(shape) + " and " + Shapes.format(b));
        }
        long m = shape[shape.length - 2];
        long k = shape[shape.length - 1];
        long k2 = b[b.length - 2];
        long n = b[b.length - 1];
        if (k != k2) {
            throw error("matmul", "inner lengths differ: " + Shapes.format(shape) + " x " + Shapes.format(b));
        }
        long[] batch = Shapes.broadcast(Arrays.copyOf(shape, shape.length - 2), Arrays.copyOf(b, b.length - 2),
                "matmul");
        long[] out = Arrays.copyOf(batch, batch.length + 2);
        out[batch.length] = m;
        out[batch.length + 1] = n;
        if (Shapes.size(out) == 0 || k == 0) {
            return backend.full(dtype, 0, out);
        }
        return result("matmul", () -> doMatmul(o, out), out, dtype);
    }

    @Override
    public final Tensor reduce(ReduceOp op, int axis, boolean keepDims) {
        String name = switch (op) {
            case SUM -> "sum";
            case MAX -> "max";
            case MIN -> "min";
            case LOG_SUM_EXP -> "logSumExp";
        };
        checkOpen(name);
        int a = Shapes.axis(axis, shape.length, name);
        if (!dtype.isNumeric() || (op == ReduceOp.LOG_SUM_EXP && !dtype.isFloating())) {
            throw error(name, "not defined for dtype " + dtype.label());
        }
        long[] out = Shapes.reduced(shape, a, keepDims);
        if (Shapes.size(out) == 0) {
            return backend.full(dtype, 0, out);
        }
        if (shape[a] == 0) {
            return switch (op) {
                case SUM -> backend.full(dtype, 0, out);
                case LOG_SUM_EXP -> backend.full(dtype, Double.NEGATIVE_INFINITY, out);
                case MAX, MIN -> throw error(name, "axis " + axis + " is empty in shape " + Shapes.format(shape));
            };
        }
        return result(name, () -> doReduce(op, a, keepDims), out, dtype);
    }

    @Override
    public final Tensor argMax(int axis) {
        checkOpen("argMax");
        int a = Shapes.axis(axis, shape.length, "argMax");
        if (!dtype.isNumeric()) {
            throw error("argMax", "not defined for dtype " + dtype.label());
        }
        long[] out = Shapes.reduced(shape, a, false);
        if (shape[a] == 0) {
            throw error("argMax", "axis " + axis + " is empty in shape " + Shapes.format(shape));
        }
        if (Shapes.size(out) == 0) {
            return backend.full(DType.INT64, 0, out);
        }
        return result("argMax", () -> doArgMax(a), out, DType.INT64);
    }

    @Override
    public final TopK topK(int k, int axis) {
        checkOpen("topK");
        int a = Shapes.axis(axis, shape.length, "topK");
        if (!dtype.isNumeric()) {
            throw error("topK", "not defined for dtype " + dtype.label());
        }
        if (k < 1 || k > shape[a]) {
            throw error("topK", "k must be in [1, " + shape[a] + "] for axis " + axis + ", found " + k);
        }
        long[] out = shape.clone();
        out[a] = k;
        if (Shapes.size(out) == 0) {
            return new TopK(backend.full(dtype, 0, out), backend.full(DType.INT64, 0, out));
        }
        TopK top = engine("topK", () -> doTopK(k, a));
        try {
            EngineCalls.expect("topK", backend.name(), top.values(), out, dtype);
            EngineCalls.expect("topK", backend.name(), top.indices(), out, DType.INT64);
        } catch (TensorException e) {
            top.close();
            throw e;
        }
        return top;
    }

    @Override
    public final Tensor gather(int axis, Tensor indices) {
        Tensor idx = operand("gather", indices);
        int a = Shapes.axis(axis, shape.length, "gather");
        if (!idx.dtype().isInteger() || idx.rank() != 1) {
            throw error("gather", "indices must be a rank-1 int32/int64 tensor, found " + idx.dtype().label() + " "
                    + Shapes.format(idx.shape()));
        }
        checkIndexRange("gather", idx, shape[a]);
        long[] out = shape.clone();
        out[a] = idx.shape()[0];
        if (Shapes.size(out) == 0) {
            return backend.full(dtype, 0, out);
        }
        return result("gather", () -> doGather(a, idx), out, dtype);
    }

    @Override
    public final Tensor takeAlong(int axis, Tensor indices) {
        Tensor idx = operand("takeAlong", indices);
        int a = Shapes.axis(axis, shape.length, "takeAlong");
        long[] is = idx.shape();
        if (!idx.dtype().isInteger() || is.length != shape.length) {
            throw error("takeAlong", "indices must be int32/int64 of rank " + shape.length + ", found "
                    + idx.dtype().label() + " " + Shapes.format(is));
        }
        for (int i = 0; i < is.length; i++) {
            if (i != a && is[i] != shape[i]) {
                throw error("takeAlong", "indices shape " + Shapes.format(is) + " must match " + Shapes.format(shape)
                        + " on every axis but " + a);
            }
        }
        checkIndexRange("takeAlong", idx, shape[a]);
        if (Shapes.size(is) == 0) {
            return backend.full(dtype, 0, is);
        }
        return result("takeAlong", () -> doTakeAlong(a, idx), is, dtype);
    }

    // ---- checks -------------------------------------------------------------------------------

    /** Throws if this tensor was closed. */
    protected final void checkOpen(String op) {
        if (closed) {
            throw error(op, "tensor " + dtype.label() + " " + Shapes.format(shape) + " was used after close");
        }
    }

    private Tensor operand(String op, Tensor other) {
        checkOpen(op);
        if (other == null) {
            throw error(op, "operand is null");
        }
        if (other.backend() != backend) {
            throw error(op, "operand belongs to another backend instance (" + instance(other.backend())
                    + ", expected " + instance(backend) + "); move data between backends through Java arrays");
        }
        if (other.isClosed()) {
            throw error(op, "operand " + other.dtype().label() + " " + Shapes.format(other.shape())
                    + " was used after close");
        }
        return other;
    }

    /** Names a backend instance in messages: its name and identity, e.g. {@code djl@1b6d3586}. */
    static String instance(Backend b) {
        return b.name() + "@" + Integer.toHexString(System.identityHashCode(b));
    }

    private void sameDtype(String op, Tensor other) {
        if (other.dtype() != dtype) {
            throw error(op, "dtypes differ: " + dtype.label() + " and " + other.dtype().label()
                    + " (convert with toType)");
        }
    }

    private static boolean containsZero(Tensor t) {
        try (Tensor flat = t.reshape(-1); Tensor a = flat.abs(); Tensor min = a.reduce(ReduceOp.MIN, 0, false)) {
            return min.toLongArray()[0] == 0;
        }
    }

    /** Checks index values on the device: only their minimum and maximum travel to the host. */
    private void checkIndexRange(String op, Tensor idx, long length) {
        if (idx.size() == 0) {
            return;
        }
        try (Tensor flat = idx.reshape(-1); Tensor min = flat.reduce(ReduceOp.MIN, 0, false);
                Tensor max = flat.reduce(ReduceOp.MAX, 0, false)) {
            long lo = min.toLongArray()[0];
            long hi = max.toLongArray()[0];
            if (lo < 0 || hi >= length) {
                throw error(op, "index " + (lo < 0 ? lo : hi) + " out of range [0, " + length + ")");
            }
        }
    }

    private TensorException error(String op, String problem) {
        return new TensorException(op + " (backend " + backend.name() + "): " + problem);
    }

    private <R> R engine(String op, Supplier<R> body) {
        return EngineCalls.run(op, backend.name(), dtype.label() + " " + Shapes.format(shape), body);
    }

    private Tensor result(String op, Supplier<Tensor> body, long[] expectedShape, DType expectedType) {
        return EngineCalls.expect(op, backend.name(), engine(op, body), expectedShape, expectedType);
    }
}
