package io.vqdistill.api;

import java.util.Arrays;

/** Shape arithmetic shared by every backend: sizes, axes, broadcasting, formatting. */
public final class Shapes {
    private Shapes() {
    }

    /** Number of elements of a shape; 1 for a scalar. Overflow is an error. */
    public static long size(long[] shape) {
        long n = 1;
        for (long d : shape) {
            n = Math.multiplyExact(n, d);
        }
        return n;
    }

    /** Formats a shape as {@code [2, 3]}. */
    public static String format(long[] shape) {
        return Arrays.toString(shape);
    }

    /** Normalises a possibly negative axis for a tensor of {@code rank}; out of range is an error naming {@code op}. */
    public static int axis(int axis, int rank, String op) {
        int a = axis < 0 ? axis + rank : axis;
        if (a < 0 || a >= rank) {
            throw new TensorException(op + ": axis " + axis + " out of range for rank " + rank);
        }
        return a;
    }

    /** Validates a shape given by a caller: every length >= 0. */
    public static long[] checkShape(long[] shape, String op) {
        for (long d : shape) {
            if (d < 0) {
                throw new TensorException(op + ": negative length in shape " + format(shape));
            }
        }
        return shape.clone();
    }

    /** The NumPy broadcast of two shapes; incompatible shapes are an error naming {@code op}. */
    public static long[] broadcast(long[] a, long[] b, String op) {
        int r = Math.max(a.length, b.length);
        long[] out = new long[r];
        for (int i = 0; i < r; i++) {
            long da = i < r - a.length ? 1 : a[i - (r - a.length)];
            long db = i < r - b.length ? 1 : b[i - (r - b.length)];
            if (da != db && da != 1 && db != 1) {
                throw new TensorException(op + ": shapes " + format(a) + " and " + format(b) + " do not broadcast");
            }
            out[i] = da == 1 ? db : da;
        }
        return out;
    }

    /** {@code shape} with {@code axis} removed, or set to 1 when {@code keepDims}. */
    public static long[] reduced(long[] shape, int axis, boolean keepDims) {
        if (keepDims) {
            long[] out = shape.clone();
            out[axis] = 1;
            return out;
        }
        long[] out = new long[shape.length - 1];
        System.arraycopy(shape, 0, out, 0, axis);
        System.arraycopy(shape, axis + 1, out, axis, shape.length - axis - 1);
        return out;
    }

    /** Resolves a requested shape with at most one -1 against {@code size} elements. */
    public static long[] resolveReshape(long[] from, long[] to, String op) {
        long known = 1;
        int infer = -1;
        for (int i = 0; i < to.length; i++) {
            if (to[i] == -1) {
                if (infer >= 0) {
                    throw new TensorException(op + ": more than one -1 in shape " + format(to));
                }
                infer = i;
            } else if (to[i] < 0) {
                throw new TensorException(op + ": negative length in shape " + format(to));
            } else {
                known = Math.multiplyExact(known, to[i]);
            }
        }
        long size = size(from);
        long[] out = to.clone();
        if (infer >= 0) {
            if (known == 0 || size % known != 0) {
                throw new TensorException(op + ": cannot reshape " + format(from) + " into " + format(to));
            }
            out[infer] = size / known;
        }
        if (size(out) != size) {
            throw new TensorException(op + ": cannot reshape " + format(from) + " (" + size + " elements) into "
                    + format(to));
        }
        return out;
    }
}
