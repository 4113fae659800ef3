package io.vqdistill.api;

import java.util.Arrays;
import org.assertj.core.api.AbstractAssert;

/**
 * AssertJ assertions on a {@link Tensor}: shape, dtype, closed state and values, with failure
 * messages that name the element (flat and multi-index), the expected and the actual value.
 *
 * <pre>{@code
 * assertThatTensor(x.matmul(y)).hasShape(2, 5).hasDtype(DType.FLOAT32).isCloseTo(expected, 1e-5);
 * }</pre>
 *
 * <p>Tolerances are mixed absolute/relative: an actual value {@code a} is close to an expected
 * {@code e} within {@code tol} when {@code |a - e| <= tol * max(1, |e|)}. NaN matches only NaN and
 * an infinity only the same infinity.
 */
public final class TensorAssert extends AbstractAssert<TensorAssert, Tensor> {
    /** Default tolerance for float32 results: about 100 units in the last place. */
    public static final double FLOAT32_TOLERANCE = 1e-5;
    /** Default tolerance for float64 results. */
    public static final double FLOAT64_TOLERANCE = 1e-12;

    private TensorAssert(Tensor actual) {
        super(actual, TensorAssert.class);
    }

    /** Starts assertions on {@code actual}. */
    public static TensorAssert assertThatTensor(Tensor actual) {
        return new TensorAssert(actual);
    }

    /** The default tolerance for results of {@code dtype}: 1e-5 for float32, 1e-12 for float64, 0 otherwise. */
    public static double tolerance(DType dtype) {
        return switch (dtype) {
            case FLOAT32 -> FLOAT32_TOLERANCE;
            case FLOAT64 -> FLOAT64_TOLERANCE;
            default -> 0;
        };
    }

    /** True when {@code actual} is within {@code tolerance} of {@code expected} in the sense of this class. */
    public static boolean isClose(double actual, double expected, double tolerance) {
        if (Double.isNaN(expected)) {
            return Double.isNaN(actual);
        }
        if (Double.isInfinite(expected)) {
            return actual == expected;
        }
        return Math.abs(actual - expected) <= tolerance * Math.max(1, Math.abs(expected));
    }

    /** Checks the shape; pass nothing for a scalar. */
    public TensorAssert hasShape(long... expected) {
        isNotNull();
        if (!Arrays.equals(actual.shape(), expected)) {
            failWithMessage("expected %s to have shape %s", describe(), Shapes.format(expected));
        }
        return this;
    }

    /** Checks the element type. */
    public TensorAssert hasDtype(DType expected) {
        isNotNull();
        if (actual.dtype() != expected) {
            failWithMessage("expected %s to have dtype %s", describe(), expected.label());
        }
        return this;
    }

    /** Checks that the tensor has rank 0. */
    public TensorAssert isScalar() {
        return hasShape();
    }

    /** Checks that {@link Tensor#close()} was called. */
    public TensorAssert isClosed() {
        isNotNull();
        if (!actual.isClosed()) {
            failWithMessage("expected %s to be closed", describe());
        }
        return this;
    }

    /** Checks that the tensor is still open. */
    public TensorAssert isOpen() {
        isNotNull();
        if (actual.isClosed()) {
            failWithMessage("expected %s to be open", describe());
        }
        return this;
    }

    /** Checks every element (read as double) within {@code tolerance} of {@code expected}, in row-major order. */
    public TensorAssert isCloseTo(double[] expected, double tolerance) {
        isNotNull();
        double[] values = actual.toDoubleArray();
        if (values.length != expected.length) {
            failWithMessage("expected %s to have %d elements, found %d", describe(), expected.length, values.length);
        }
        for (int i = 0; i < values.length; i++) {
            if (!isClose(values[i], expected[i], tolerance)) {
                failWithMessage("expected %s element %d (index %s) to be %s within %s, but was %s%n"
                                + "expected: %s%nactual:   %s", describe(), i, index(i), expected[i], tolerance,
                        values[i], abbreviate(expected), abbreviate(values));
            }
        }
        return this;
    }

    /** Checks every element within the default {@link #tolerance(DType)} of the tensor's dtype. */
    public TensorAssert isCloseTo(double... expected) {
        isNotNull();
        return isCloseTo(expected, tolerance(actual.dtype()));
    }

    /** Checks that the elements equal {@code expected} exactly (NaN equals NaN, 0.0 equals -0.0). */
    public TensorAssert hasValues(double... expected) {
        return isCloseTo(expected, 0);
    }

    /** Checks the elements read with {@link Tensor#toLongArray()} against {@code expected}. */
    public TensorAssert hasLongs(long... expected) {
        isNotNull();
        long[] values = actual.toLongArray();
        if (!Arrays.equals(values, expected)) {
            failWithMessage("expected %s to hold%n  %s%nbut it holds%n  %s", describe(),
                    Arrays.toString(expected), Arrays.toString(values));
        }
        return this;
    }

    /** Checks the elements read with {@link Tensor#toBooleanArray()} against {@code expected}. */
    public TensorAssert hasBooleans(boolean... expected) {
        isNotNull();
        boolean[] values = actual.toBooleanArray();
        if (!Arrays.equals(values, expected)) {
            failWithMessage("expected %s to hold%n  %s%nbut it holds%n  %s", describe(),
                    Arrays.toString(expected), Arrays.toString(values));
        }
        return this;
    }

    private String describe() {
        return "tensor " + actual.dtype().label() + " " + Shapes.format(actual.shape()) + " of backend "
                + actual.backend().name() + (actual.isClosed() ? " (closed)" : "");
    }

    private String index(int flat) {
        long[] s = actual.shape();
        long[] idx = new long[s.length];
        long rem = flat;
        for (int d = s.length - 1; d >= 0; d--) {
            idx[d] = rem % s[d];
            rem /= s[d];
        }
        return Arrays.toString(idx);
    }

    private static String abbreviate(double[] v) {
        return v.length <= 24 ? Arrays.toString(v) : Arrays.toString(Arrays.copyOf(v, 24)) + " ...";
    }
}
