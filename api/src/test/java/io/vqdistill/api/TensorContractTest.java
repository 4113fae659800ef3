package io.vqdistill.api;

import static io.vqdistill.api.TensorAssert.assertThatTensor;
import static io.vqdistill.api.TensorAssert.tolerance;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.function.DoubleUnaryOperator;
import java.util.function.Function;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The contract every backend's {@link Tensor} honours. A backend's test module extends this class
 * and returns its own backend from {@link #createBackend()}; the api runs it against the in-memory
 * fake backend.
 *
 * <p>Values are checked against direct double-precision loops ({@link ReferenceMath}) with the
 * tolerances of {@link TensorAssert}: 1e-5 (mixed absolute/relative) for float32 results, 1e-12 for
 * float64, exact for integers and booleans. Every test runs inside a {@link TensorScope}, so the
 * tensors it creates are released when it ends.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
public abstract class TensorContractTest {
    /** Both floating dtypes; most numeric tests run for each. */
    protected static final List<DType> FLOATS = List.of(DType.FLOAT32, DType.FLOAT64);
    /** Both integer dtypes. */
    protected static final List<DType> INTEGERS = List.of(DType.INT32, DType.INT64);

    /** The backend under test, created once per test class. */
    protected Backend backend;

    private TensorScope testScope;

    /** Creates the backend under test; called once per test class. */
    protected abstract Backend createBackend();

    /**
     * Creates a second, independent instance of the backend, used to check that operands of another
     * backend instance are rejected. The default calls {@link #createBackend()} again; the test
     * closes it when done.
     */
    protected Backend createOtherBackend() {
        return createBackend();
    }

    @BeforeAll
    void startBackend() {
        backend = createBackend();
    }

    @AfterAll
    void stopBackend() {
        backend.close();
    }

    @BeforeEach
    void openTestScope() {
        testScope = TensorScope.open();
    }

    @AfterEach
    void closeTestScope() {
        testScope.close();
    }

    // ---- helpers ----------------------------------------------------------------------------

    /** A tensor of {@code dtype} holding {@code values} (converted to the Java type of the dtype). */
    protected Tensor tensor(DType dtype, double[] values, long... shape) {
        int n = values.length;
        switch (dtype) {
            case FLOAT32: {
                float[] f = new float[n];
                for (int i = 0; i < n; i++) {
                    f[i] = (float) values[i];
                }
                return backend.of(f, shape);
            }
            case INT32: {
                int[] v = new int[n];
                for (int i = 0; i < n; i++) {
                    v[i] = (int) values[i];
                }
                return backend.of(v, shape);
            }
            case INT64: {
                long[] v = new long[n];
                for (int i = 0; i < n; i++) {
                    v[i] = (long) values[i];
                }
                return backend.of(v, shape);
            }
            case BOOL: {
                boolean[] v = new boolean[n];
                for (int i = 0; i < n; i++) {
                    v[i] = values[i] != 0;
                }
                return backend.of(v, shape);
            }
            default:
                return backend.of(values.clone(), shape);
        }
    }

    /** A rank-1 tensor of {@code dtype} holding {@code values}. */
    protected Tensor vector(DType dtype, double... values) {
        return tensor(dtype, values, values.length);
    }

    /**
     * {@code n} values drawn uniformly from [lo, hi) and made exact in {@code dtype} (rounded to
     * float for float32, floored for integers), so that the same array serves as the reference input.
     */
    protected static double[] random(SplittableRandom rng, DType dtype, int n, double lo, double hi) {
        double[] v = new double[n];
        for (int i = 0; i < n; i++) {
            double x = lo + (hi - lo) * rng.nextDouble();
            v[i] = switch (dtype) {
                case FLOAT32 -> (float) x;
                case FLOAT64 -> x;
                case INT32, INT64 -> Math.floor(x);
                case BOOL -> x < (lo + hi) / 2 ? 0 : 1;
            };
        }
        return v;
    }

    /** A fixed-seed generator, so that every run and every backend sees the same inputs. */
    protected static SplittableRandom rng() {
        return new SplittableRandom(20240611L);
    }

    private static int size(long... shape) {
        return Math.toIntExact(Shapes.size(shape));
    }

    private static long[] withoutAxis(long[] shape, int axis, boolean keepDims) {
        List<Long> out = new ArrayList<>();
        for (int d = 0; d < shape.length; d++) {
            if (d != axis) {
                out.add(shape[d]);
            } else if (keepDims) {
                out.add(1L);
            }
        }
        return out.stream().mapToLong(Long::longValue).toArray();
    }

    private static double truncate(double v) {
        return v < 0 ? Math.ceil(v) : Math.floor(v);
    }

    // ---- creation and data out --------------------------------------------------------------

    @Nested
    class Creation {
        @Test
        void floatArrayGivesFloat32WithTheSameValues() {
            float[] data = {1.5f, -2.25f, 0.1f, 3e-20f, Float.MAX_VALUE, -0.0f};
            Tensor t = backend.of(data, 2, 3);
            assertThatTensor(t).hasShape(2, 3).hasDtype(DType.FLOAT32).isOpen();
            assertThat(t.toFloatArray()).containsExactly(data);
            double[] widened = new double[data.length];
            for (int i = 0; i < data.length; i++) {
                widened[i] = data[i];
            }
            assertThat(t.toDoubleArray()).containsExactly(widened);
        }

        @Test
        void doubleArrayGivesFloat64WithTheSameValues() {
            double[] data = {Math.PI, 1 + 1e-12, 1e-300, -1e300, Double.NaN, Double.POSITIVE_INFINITY};
            Tensor t = backend.of(data, 3, 2);
            assertThatTensor(t).hasShape(3, 2).hasDtype(DType.FLOAT64).hasValues(data);
        }

        @Test
        void intArrayGivesInt32WithTheSameValues() {
            int[] data = {Integer.MIN_VALUE, -7, 0, 1, 42, Integer.MAX_VALUE};
            Tensor t = backend.of(data, 6);
            assertThatTensor(t).hasShape(6).hasDtype(DType.INT32);
            assertThat(t.toIntArray()).containsExactly(data);
            assertThat(t.toLongArray()).containsExactly(Integer.MIN_VALUE, -7, 0, 1, 42, Integer.MAX_VALUE);
        }

        @Test
        void longArrayGivesInt64WithTheSameValues() {
            long[] data = {-(1L << 52) + 1, -1, 0, 123_456_789_012L, (1L << 52) + 1, 1L << 40};
            Tensor t = backend.of(data, 2, 1, 3);
            assertThatTensor(t).hasShape(2, 1, 3).hasDtype(DType.INT64);
            assertThat(t.toLongArray()).containsExactly(data);
        }

        @Test
        void booleanArrayGivesBoolWithTheSameValues() {
            boolean[] data = {true, false, false, true};
            Tensor t = backend.of(data, 2, 2);
            assertThatTensor(t).hasShape(2, 2).hasDtype(DType.BOOL);
            assertThat(t.toBooleanArray()).containsExactly(data);
        }

        @Test
        void floatDataReadAsIntegersIsTruncatedTowardZero() {
            Tensor t = backend.of(new float[] {-2.75f, -0.5f, 0f, 0.5f, 2.75f, 7f}, 6);
            assertThat(t.toIntArray()).containsExactly(-2, 0, 0, 0, 2, 7);
            assertThat(t.toLongArray()).containsExactly(-2, 0, 0, 0, 2, 7);
            assertThat(t.toBooleanArray()).containsExactly(true, true, false, true, true, true);
        }

        @Test
        void integerAndBoolDataReadAsOtherJavaTypes() {
            Tensor ints = backend.of(new long[] {-3, 0, 5}, 3);
            assertThat(ints.toFloatArray()).containsExactly(-3f, 0f, 5f);
            assertThat(ints.toDoubleArray()).containsExactly(-3, 0, 5);
            assertThat(ints.toIntArray()).containsExactly(-3, 0, 5);
            assertThat(ints.toBooleanArray()).containsExactly(true, false, true);
            Tensor bools = backend.of(new boolean[] {true, false}, 2);
            assertThat(bools.toIntArray()).containsExactly(1, 0);
            assertThat(bools.toLongArray()).containsExactly(1, 0);
            assertThat(bools.toFloatArray()).containsExactly(1f, 0f);
            assertThat(bools.toDoubleArray()).containsExactly(1, 0);
        }

        @Test
        void sourceArrayIsCopied() {
            double[] data = {1, 2, 3};
            Tensor t = backend.of(data, 3);
            data[0] = 99;
            assertThatTensor(t).hasValues(1, 2, 3);
        }

        @Test
        void returnedArraysAreCopies() {
            Tensor f = backend.of(new float[] {1, 2}, 2);
            f.toFloatArray()[0] = 99;
            f.toDoubleArray()[0] = 99;
            assertThatTensor(f).hasValues(1, 2);
            Tensor i = backend.of(new int[] {1, 2}, 2);
            i.toIntArray()[0] = 99;
            assertThatTensor(i).hasLongs(1, 2);
            Tensor l = backend.of(new long[] {1, 2}, 2);
            l.toLongArray()[0] = 99;
            assertThatTensor(l).hasLongs(1, 2);
            Tensor b = backend.of(new boolean[] {true, false}, 2);
            b.toBooleanArray()[0] = false;
            assertThatTensor(b).hasBooleans(true, false);
        }

        @Test
        void dataThatDoesNotFillTheShapeIsRejected() {
            assertThatThrownBy(() -> backend.of(new float[5], 2, 3)).isInstanceOf(TensorException.class)
                    .hasMessageContaining("of").hasMessageContaining("5 values")
                    .hasMessageContaining("[2, 3]");
            assertThatThrownBy(() -> backend.of(new long[] {1, 2}, 3)).isInstanceOf(TensorException.class)
                    .hasMessageContaining("of").hasMessageContaining("2 values");
        }

        @Test
        void negativeLengthIsRejected() {
            assertThatThrownBy(() -> backend.of(new double[0], 2, -1)).isInstanceOf(TensorException.class)
                    .hasMessageContaining("of").hasMessageContaining("[2, -1]");
            assertThatThrownBy(() -> backend.full(DType.FLOAT32, 1, -3)).isInstanceOf(TensorException.class)
                    .hasMessageContaining("full").hasMessageContaining("[-3]");
        }

        @ParameterizedTest
        @EnumSource(DType.class)
        void fullFillsEveryDtype(DType dtype) {
            double expected = dtype == DType.BOOL ? 1 : 3;
            Tensor t = backend.full(dtype, expected, 2, 2);
            assertThatTensor(t).hasShape(2, 2).hasDtype(dtype);
            assertThatTensor(t).hasValues(expected, expected, expected, expected);
            assertThatTensor(backend.zeros(dtype, 3)).hasShape(3).hasDtype(dtype).hasValues(0, 0, 0);
            assertThatTensor(backend.full(dtype, 0)).isScalar().hasDtype(dtype).hasValues(0);
        }

        @Test
        void fullKeepsSpecialFloatValues() {
            assertThatTensor(backend.full(DType.FLOAT64, Double.NEGATIVE_INFINITY, 2)).hasValues(
                    Double.NEGATIVE_INFINITY, Double.NEGATIVE_INFINITY);
            assertThatTensor(backend.full(DType.FLOAT32, Double.NaN, 1)).hasValues(Double.NaN);
            assertThatTensor(backend.full(DType.FLOAT32, 0.1)).hasValues((float) 0.1);
        }

        @Test
        void fullRejectsNonIntegerValueForIntegerDtype() {
            assertThatThrownBy(() -> backend.full(DType.INT32, 2.5, 2)).isInstanceOf(TensorException.class)
                    .hasMessageContaining("full").hasMessageContaining("2.5").hasMessageContaining("int32");
            assertThatThrownBy(() -> backend.full(DType.INT64, Double.POSITIVE_INFINITY))
                    .isInstanceOf(TensorException.class).hasMessageContaining("full")
                    .hasMessageContaining("Infinity");
        }

        @Test
        void arangeCountsFromZeroAsInt64() {
            assertThatTensor(backend.arange(5)).hasShape(5).hasDtype(DType.INT64).hasLongs(0, 1, 2, 3, 4);
            assertThatTensor(backend.arange(0)).hasShape(0).hasDtype(DType.INT64);
            assertThatThrownBy(() -> backend.arange(-1)).isInstanceOf(TensorException.class)
                    .hasMessageContaining("arange").hasMessageContaining("-1");
        }

        @ParameterizedTest
        @ValueSource(ints = {0, 1, -1, -2})
        void concatJoinsAlongAnAxis(int axis) {
            double[] a = {1, 2, 3, 4, 5, 6};
            double[] b = {7, 8, 9, 10, 11, 12};
            Tensor ta = tensor(DType.FLOAT64, a, 2, 3);
            Tensor tb = tensor(DType.FLOAT64, b, 2, 3);
            Tensor joined = backend.concat(List.of(ta, tb), axis);
            if (axis == 0 || axis == -2) {
                assertThatTensor(joined).hasShape(4, 3).hasValues(1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12);
            } else {
                assertThatTensor(joined).hasShape(2, 6).hasValues(1, 2, 3, 7, 8, 9, 4, 5, 6, 10, 11, 12);
            }
        }

        @ParameterizedTest
        @EnumSource(DType.class)
        void concatKeepsDtypeAndSkipsEmptyParts(DType dtype) {
            Tensor a = tensor(dtype, new double[] {1, 0, 1, 1}, 2, 2);
            Tensor empty = backend.zeros(dtype, 2, 0);
            Tensor b = tensor(dtype, new double[] {0, 1}, 2, 1);
            assertThatTensor(backend.concat(List.of(a, empty, b), 1)).hasShape(2, 3).hasDtype(dtype)
                    .hasValues(1, 0, 0, 1, 1, 1);
            assertThatTensor(backend.concat(List.of(a), 0)).hasShape(2, 2).hasValues(1, 0, 1, 1);
        }

        @Test
        void concatOfUnequalLengthsAlongTheAxis() {
            Tensor a = vector(DType.INT32, 1, 2);
            Tensor b = vector(DType.INT32, 3, 4, 5);
            assertThatTensor(backend.concat(List.of(a, b, a), 0)).hasShape(7).hasLongs(1, 2, 3, 4, 5, 1, 2);
        }

        @Test
        void concatRejectsBadInput() {
            Tensor f32 = backend.zeros(DType.FLOAT32, 2, 3);
            Tensor f64 = backend.zeros(DType.FLOAT64, 2, 3);
            Tensor wide = backend.zeros(DType.FLOAT32, 2, 4);
            assertThatThrownBy(() -> backend.concat(List.of(), 0)).isInstanceOf(TensorException.class)
                    .hasMessageContaining("concat").hasMessageContaining("no tensors");
            assertThatThrownBy(() -> backend.concat(List.of(f32, f64), 0)).isInstanceOf(TensorException.class)
                    .hasMessageContaining("concat").hasMessageContaining("float32 and float64");
            assertThatThrownBy(() -> backend.concat(List.of(f32, wide), 0)).isInstanceOf(TensorException.class)
                    .hasMessageContaining("concat").hasMessageContaining("[2, 3]").hasMessageContaining("[2, 4]");
            assertThatThrownBy(() -> backend.concat(List.of(f32, f32), 2)).isInstanceOf(TensorException.class)
                    .hasMessageContaining("concat").hasMessageContaining("axis 2");
        }

        @Test
        void stackJoinsAlongANewAxis() {
            Tensor a = tensor(DType.FLOAT32, new double[] {1, 2, 3, 4, 5, 6}, 2, 3);
            Tensor b = tensor(DType.FLOAT32, new double[] {7, 8, 9, 10, 11, 12}, 2, 3);
            assertThatTensor(backend.stack(List.of(a, b), 0)).hasShape(2, 2, 3).hasDtype(DType.FLOAT32)
                    .hasValues(1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12);
            assertThatTensor(backend.stack(List.of(a, b), 1)).hasShape(2, 2, 3)
                    .hasValues(1, 2, 3, 7, 8, 9, 4, 5, 6, 10, 11, 12);
            assertThatTensor(backend.stack(List.of(a, b), -1)).hasShape(2, 3, 2)
                    .hasValues(1, 7, 2, 8, 3, 9, 4, 10, 5, 11, 6, 12);
        }

        @Test
        void stackOfScalarsGivesAVector() {
            Tensor s = backend.stack(List.of(backend.full(DType.INT64, 4), backend.full(DType.INT64, 9)), 0);
            assertThatTensor(s).hasShape(2).hasDtype(DType.INT64).hasLongs(4, 9);
        }

        @Test
        void stackRejectsBadInput() {
            assertThatThrownBy(() -> backend.stack(List.of(), 0)).isInstanceOf(TensorException.class)
                    .hasMessageContaining("stack").hasMessageContaining("no tensors");
            Tensor a = backend.zeros(DType.FLOAT32, 2, 3);
            Tensor b = backend.zeros(DType.FLOAT32, 3, 2);
            assertThatThrownBy(() -> backend.stack(List.of(a, b), 0)).isInstanceOf(TensorException.class)
                    .hasMessageContaining("[1, 2, 3]").hasMessageContaining("[1, 3, 2]");
            assertThatThrownBy(() -> backend.stack(List.of(a, a), 3)).isInstanceOf(TensorException.class)
                    .hasMessageContaining("axis 3");
        }
    }

    // ---- identity, metadata, scalars --------------------------------------------------------

    @Nested
    class Identity {
        @Test
        void backendDescribesItself() {
            assertThat(backend.name()).isNotBlank();
            assertThat(backend.version()).isNotBlank();
            assertThat(backend.devices()).isNotEmpty().contains(backend.device());
            assertThat(backend.devices().get(0)).isEqualTo(Device.CPU);
            assertThat(backend.capabilities()).isNotNull();
        }

        @Test
        void capabilityLookupFindsNothingForAnUndeclaredType() {
            interface Undeclared extends Capability {
            }
            assertThat(backend.capability(Undeclared.class)).isEmpty();
            for (Capability c : backend.capabilities()) {
                assertThat(c.capabilityName()).isNotBlank();
                assertThat((Object) backend.capability(c.getClass()).orElseThrow()).isSameAs(c);
            }
        }

        @Test
        void tensorReportsShapeDtypeDeviceSizeRankAndBackend() {
            Tensor t = backend.zeros(DType.FLOAT32, 2, 3, 4);
            assertThat(t.shape()).containsExactly(2, 3, 4);
            assertThat(t.dtype()).isEqualTo(DType.FLOAT32);
            assertThat(t.device()).isEqualTo(backend.device());
            assertThat(t.size()).isEqualTo(24);
            assertThat(t.rank()).isEqualTo(3);
            assertThat(t.shape(0)).isEqualTo(2);
            assertThat(t.shape(-1)).isEqualTo(4);
            assertThat(t.backend()).isSameAs(backend);
            assertThat(t.isClosed()).isFalse();
        }

        @Test
        void shapeIsACopy() {
            Tensor t = backend.zeros(DType.FLOAT32, 2, 3);
            t.shape()[0] = 7;
            assertThat(t.shape()).containsExactly(2, 3);
        }

        @Test
        void shapeOfAnAxisOutOfRangeIsRejected() {
            Tensor t = backend.zeros(DType.FLOAT32, 2, 3);
            assertThatThrownBy(() -> t.shape(2)).isInstanceOf(TensorException.class)
                    .hasMessageContaining("shape").hasMessageContaining("axis 2");
            assertThatThrownBy(() -> t.shape(-3)).isInstanceOf(TensorException.class)
                    .hasMessageContaining("axis -3");
        }

        @Test
        void scalarHasRankZeroAndOneElement() {
            Tensor s = backend.of(new double[] {3.5});
            assertThatTensor(s).isScalar().hasDtype(DType.FLOAT64);
            assertThat(s.rank()).isZero();
            assertThat(s.size()).isEqualTo(1);
            assertThat(s.item()).isEqualTo(3.5);
            assertThat(backend.of(new long[] {7}).item()).isEqualTo(7);
        }

        @Test
        void scalarsTakePartInOperations() {
            Tensor s = backend.of(new float[] {2});
            assertThatTensor(s.exp()).isScalar().isCloseTo(Math.exp(2));
            assertThatTensor(s.add(s)).isScalar().hasValues(4);
            assertThatTensor(s.gt(backend.full(DType.FLOAT32, 1))).isScalar().hasBooleans(true);
            assertThatTensor(s.reshape(1, 1)).hasShape(1, 1).hasValues(2);
            assertThatTensor(s.transpose()).isScalar().hasValues(2);
            assertThatTensor(s.toType(DType.INT32)).isScalar().hasLongs(2);
            assertThatTensor(s.sumAll()).isScalar().hasValues(2);
            assertThatTensor(s.expandDims(0)).hasShape(1).hasValues(2);
            assertThatTensor(s.clamp(0, 1)).isScalar().hasValues(1);
        }

        @Test
        void itemRequiresExactlyOneElement() {
            assertThat(backend.zeros(DType.FLOAT32, 1, 1, 1).item()).isZero();
            Tensor t = backend.zeros(DType.FLOAT32, 2, 3);
            assertThatThrownBy(t::item).isInstanceOf(TensorException.class).hasMessageContaining("item")
                    .hasMessageContaining("6 elements");
        }

        @Test
        void reducingAScalarIsAnAxisError() {
            Tensor s = backend.full(DType.FLOAT32, 1);
            assertThatThrownBy(() -> s.sum(0)).isInstanceOf(TensorException.class)
                    .hasMessageContaining("sum").hasMessageContaining("axis 0");
        }
    }

    // ---- shape operations -------------------------------------------------------------------

    @Nested
    class ShapeOperations {
        private final double[] data = {0, 1, 2, 3, 4, 5};

        @Test
        void reshapeKeepsRowMajorOrder() {
            Tensor t = tensor(DType.FLOAT32, data, 2, 3);
            assertThatTensor(t.reshape(3, 2)).hasShape(3, 2).hasDtype(DType.FLOAT32).hasValues(data);
            assertThatTensor(t.reshape(6)).hasShape(6).hasValues(data);
            assertThatTensor(t.reshape(1, 2, 1, 3)).hasShape(1, 2, 1, 3).hasValues(data);
        }

        @Test
        void reshapeInfersOneMinusOne() {
            Tensor t = tensor(DType.INT64, data, 2, 3);
            assertThatTensor(t.reshape(-1)).hasShape(6).hasLongs(0, 1, 2, 3, 4, 5);
            assertThatTensor(t.reshape(3, -1)).hasShape(3, 2);
            assertThatTensor(t.reshape(-1, 1, 2)).hasShape(3, 1, 2);
            assertThatTensor(backend.zeros(DType.FLOAT32, 1).reshape()).isScalar();
        }

        @Test
        void reshapeToADifferentSizeIsRejected() {
            Tensor t = tensor(DType.FLOAT32, data, 2, 3);
            assertThatThrownBy(() -> t.reshape(4, 2)).isInstanceOf(TensorException.class)
                    .hasMessageContaining("reshape").hasMessageContaining("[2, 3]").hasMessageContaining("[4, 2]");
            assertThatThrownBy(() -> t.reshape(4, -1)).isInstanceOf(TensorException.class)
                    .hasMessageContaining("reshape").hasMessageContaining("[4, -1]");
            assertThatThrownBy(() -> t.reshape(-1, -1)).isInstanceOf(TensorException.class)
                    .hasMessageContaining("reshape").hasMessageContaining("more than one -1");
            assertThatThrownBy(() -> t.reshape(-2, -3)).isInstanceOf(TensorException.class)
                    .hasMessageContaining("reshape").hasMessageContaining("[-2, -3]");
        }

        @Test
        void resultsAreIndependentOfTheirSource() {
            Tensor t = tensor(DType.FLOAT32, data, 2, 3);
            Tensor r = t.reshape(3, 2);
            Tensor tr = t.transpose(1, 0);
            Tensor s = t.slice(1, 0, 2);
            Tensor same = t.toType(DType.FLOAT32);
            assertThat(same).isNotSameAs(t);
            r.close();
            tr.close();
            s.close();
            same.close();
            assertThatTensor(t).isOpen().hasValues(data);
        }

        @Test
        void transposeOfAMatrix() {
            Tensor t = tensor(DType.FLOAT64, data, 2, 3);
            assertThatTensor(t.transpose(1, 0)).hasShape(3, 2).hasValues(0, 3, 1, 4, 2, 5);
            assertThatTensor(t.transpose(0, 1)).hasShape(2, 3).hasValues(data);
            assertThatTensor(t.transpose(-1, -2)).hasShape(3, 2).hasValues(0, 3, 1, 4, 2, 5);
            assertThatTensor(t.transposeLast()).hasShape(3, 2).hasValues(0, 3, 1, 4, 2, 5);
        }

        @ParameterizedTest
        @EnumSource(value = DType.class)
        void transposeOfRank3MatchesReference(DType dtype) {
            long[] shape = {2, 3, 4};
            double[] x = random(rng(), dtype, 24, -10, 10);
            Tensor t = tensor(dtype, x, shape);
            int[][] perms = {{0, 1, 2}, {2, 0, 1}, {1, 2, 0}, {2, 1, 0}, {0, 2, 1}, {1, 0, 2}};
            for (int[] p : perms) {
                long[] out = {shape[p[0]], shape[p[1]], shape[p[2]]};
                assertThatTensor(t.transpose(p)).hasShape(out).hasDtype(dtype)
                        .hasValues(ReferenceMath.transpose(x, shape, p));
            }
            assertThatTensor(t.transposeLast()).hasShape(2, 4, 3)
                    .hasValues(ReferenceMath.transpose(x, shape, new int[] {0, 2, 1}));
        }

        @Test
        void transposeRejectsNonPermutations() {
            Tensor t = tensor(DType.FLOAT32, data, 2, 3);
            assertThatThrownBy(() -> t.transpose(0)).isInstanceOf(TensorException.class)
                    .hasMessageContaining("transpose").hasMessageContaining("[0]");
            assertThatThrownBy(() -> t.transpose(0, 0)).isInstanceOf(TensorException.class)
                    .hasMessageContaining("transpose").hasMessageContaining("[0, 0]");
            assertThatThrownBy(() -> t.transpose(0, 2)).isInstanceOf(TensorException.class)
                    .hasMessageContaining("transpose").hasMessageContaining("axis 2");
            assertThatThrownBy(() -> vector(DType.FLOAT32, 1, 2).transposeLast())
                    .isInstanceOf(TensorException.class).hasMessageContaining("transposeLast")
                    .hasMessageContaining("[2]");
        }

        @Test
        void expandDimsInsertsAnAxisOfLengthOne() {
            Tensor t = tensor(DType.FLOAT32, data, 2, 3);
            assertThatTensor(t.expandDims(0)).hasShape(1, 2, 3).hasValues(data);
            assertThatTensor(t.expandDims(1)).hasShape(2, 1, 3).hasValues(data);
            assertThatTensor(t.expandDims(2)).hasShape(2, 3, 1).hasValues(data);
            assertThatTensor(t.expandDims(-1)).hasShape(2, 3, 1).hasValues(data);
            assertThatTensor(t.expandDims(-3)).hasShape(1, 2, 3).hasValues(data);
            assertThatThrownBy(() -> t.expandDims(3)).isInstanceOf(TensorException.class)
                    .hasMessageContaining("expandDims").hasMessageContaining("axis 3");
            assertThatThrownBy(() -> t.expandDims(-4)).isInstanceOf(TensorException.class)
                    .hasMessageContaining("expandDims").hasMessageContaining("axis -4");
        }

        @Test
        void squeezeRemovesAnAxisOfLengthOne() {
            Tensor t = tensor(DType.FLOAT32, data, 2, 1, 3);
            assertThatTensor(t.squeeze(1)).hasShape(2, 3).hasValues(data);
            assertThatTensor(t.squeeze(-2)).hasShape(2, 3).hasValues(data);
            assertThatTensor(backend.zeros(DType.INT32, 1).squeeze(0)).isScalar();
            assertThatThrownBy(() -> t.squeeze(0)).isInstanceOf(TensorException.class)
                    .hasMessageContaining("squeeze").hasMessageContaining("length 2");
            assertThatThrownBy(() -> t.squeeze(3)).isInstanceOf(TensorException.class)
                    .hasMessageContaining("squeeze").hasMessageContaining("axis 3");
        }

        @Test
        void sliceTakesAHalfOpenRange() {
            double[] x = new double[24];
            Arrays.setAll(x, i -> i);
            Tensor t = tensor(DType.FLOAT32, x, 2, 3, 4);
            assertThatTensor(t.slice(1, 1, 3)).hasShape(2, 2, 4)
                    .hasValues(4, 5, 6, 7, 8, 9, 10, 11, 16, 17, 18, 19, 20, 21, 22, 23);
            assertThatTensor(t.slice(-1, 2, 3)).hasShape(2, 3, 1).hasValues(2, 6, 10, 14, 18, 22);
            assertThatTensor(t.slice(0, 0, 2)).hasShape(2, 3, 4).hasValues(x);
            assertThatTensor(t.slice(0, 1, 2)).hasShape(1, 3, 4).hasValues(Arrays.copyOfRange(x, 12, 24));
            assertThatTensor(t.slice(2, 1, 1)).hasShape(2, 3, 0);
        }

        @Test
        void sliceOutOfBoundsIsRejected() {
            Tensor t = tensor(DType.FLOAT32, data, 2, 3);
            assertThatThrownBy(() -> t.slice(1, 2, 5)).isInstanceOf(TensorException.class)
                    .hasMessageContaining("slice").hasMessageContaining("[2, 5)").hasMessageContaining("length 3");
            assertThatThrownBy(() -> t.slice(1, 2, 1)).isInstanceOf(TensorException.class)
                    .hasMessageContaining("slice").hasMessageContaining("[2, 1)");
            assertThatThrownBy(() -> t.slice(0, -1, 1)).isInstanceOf(TensorException.class)
                    .hasMessageContaining("slice").hasMessageContaining("[-1, 1)");
            assertThatThrownBy(() -> t.slice(2, 0, 1)).isInstanceOf(TensorException.class)
                    .hasMessageContaining("slice").hasMessageContaining("axis 2");
        }
    }

    // ---- dtype conversion -------------------------------------------------------------------

    @Nested
    class Conversion {
        private double[] source(DType dtype) {
            return switch (dtype) {
                case FLOAT32, FLOAT64 -> new double[] {-2.75, -0.5, 0, 0.5, 2.75, 7};
                case INT32, INT64 -> new double[] {-3, -1, 0, 1, 2, 7};
                case BOOL -> new double[] {1, 0, 0, 1, 1, 0};
            };
        }

        private double convert(double v, DType to) {
            return switch (to) {
                case FLOAT32, FLOAT64 -> v;
                case INT32, INT64 -> truncate(v);
                case BOOL -> v != 0 ? 1 : 0;
            };
        }

        @TestFactory
        Stream<DynamicTest> toTypeConvertsBetweenEveryPairOfDtypes() {
            List<DynamicTest> tests = new ArrayList<>();
            for (DType from : DType.values()) {
                for (DType to : DType.values()) {
                    tests.add(DynamicTest.dynamicTest(from.label() + " -> " + to.label(), () -> {
                        double[] x = source(from);
                        Tensor t = tensor(from, x, 2, 3);
                        Tensor c = t.toType(to);
                        assertThatTensor(c).hasShape(2, 3).hasDtype(to)
                                .hasValues(Arrays.stream(x).map(v -> convert(v, to)).toArray());
                        assertThat(c).isNotSameAs(t);
                        assertThatTensor(t).hasDtype(from).hasValues(x);
                    }));
                }
            }
            return tests.stream();
        }

        @Test
        void float64ToFloat32RoundsToNearestFloat() {
            double[] x = {0.1, 1 + 1e-12, Math.PI, 1e-3, 16_777_217};
            Tensor t = backend.of(x, 5).toType(DType.FLOAT32);
            assertThatTensor(t).hasValues(Arrays.stream(x).map(v -> (float) v).toArray());
        }

        @Test
        void float32ToFloat64IsExact() {
            float[] x = {0.1f, 1.1f, -3.3f};
            assertThatTensor(backend.of(x, 3).toType(DType.FLOAT64)).hasValues(0.1f, 1.1f, -3.3f);
        }

        @Test
        void largeIntegersConvertExactlyWhereTheTargetHoldsThem() {
            long big = (1L << 52) + 1;
            Tensor t = backend.of(new long[] {big, -big, 1L << 40}, 3);
            assertThatTensor(t.toType(DType.FLOAT64)).hasValues(big, -big, 1L << 40);
            assertThatTensor(t.toType(DType.FLOAT32)).hasValues((float) big, (float) -big, 1L << 40);
            Tensor i32 = backend.of(new int[] {Integer.MAX_VALUE, Integer.MIN_VALUE}, 2);
            assertThatTensor(i32.toType(DType.INT64)).hasLongs(Integer.MAX_VALUE, Integer.MIN_VALUE);
            assertThatTensor(i32.toType(DType.FLOAT64)).hasValues(Integer.MAX_VALUE, Integer.MIN_VALUE);
        }

        @Test
        void floatToIntegerTruncatesTowardZero() {
            Tensor t = backend.of(new double[] {-1e6 - 0.9, -1.999, -0.001, 0.999, 1.999, 1e6 + 0.9}, 6);
            assertThatTensor(t.toType(DType.INT32)).hasLongs(-1_000_000, -1, 0, 0, 1, 1_000_000);
            assertThatTensor(t.toType(DType.INT64)).hasLongs(-1_000_000, -1, 0, 0, 1, 1_000_000);
        }
    }

    // ---- elementwise unary ------------------------------------------------------------------

    static DoubleUnaryOperator reference(UnaryOp op) {
        return switch (op) {
            case EXP -> Math::exp;
            case LOG -> Math::log;
            case LOG1P -> Math::log1p;
            case SQRT -> Math::sqrt;
            case SQUARE -> v -> v * v;
            case NEG -> v -> -v;
            case ABS -> Math::abs;
        };
    }

    @Nested
    class UnaryOperations {
        @ParameterizedTest
        @EnumSource(UnaryOp.class)
        void matchesReferenceForFloatTypes(UnaryOp op) {
            for (DType dtype : FLOATS) {
                double lo = switch (op) {
                    case LOG, SQRT -> 0.01;
                    case LOG1P -> -0.9;
                    default -> -5;
                };
                double[] x = random(rng(), dtype, 24, lo, 5);
                Tensor t = tensor(dtype, x, 2, 3, 4);
                assertThatTensor(t.unary(op)).hasShape(2, 3, 4).hasDtype(dtype)
                        .isCloseTo(ReferenceMath.map(x, reference(op)), tolerance(dtype));
            }
        }

        @ParameterizedTest
        @EnumSource(value = UnaryOp.class, names = {"SQUARE", "NEG", "ABS"})
        void integerOpsAreExact(UnaryOp op) {
            double[] x = {-46_340, -3, -1, 0, 2, 46_340};
            for (DType dtype : INTEGERS) {
                assertThatTensor(tensor(dtype, x, 2, 3).unary(op)).hasShape(2, 3).hasDtype(dtype)
                        .hasValues(ReferenceMath.map(x, reference(op)));
            }
        }

        @ParameterizedTest
        @EnumSource(value = UnaryOp.class, names = {"EXP", "LOG", "LOG1P", "SQRT"})
        void floatingOnlyOpsRejectIntegers(UnaryOp op) {
            String name = op.name().toLowerCase(java.util.Locale.ROOT);
            for (DType dtype : INTEGERS) {
                Tensor t = vector(dtype, 1, 2);
                assertThatThrownBy(() -> t.unary(op)).isInstanceOf(TensorException.class)
                        .hasMessageContaining(name).hasMessageContaining(dtype.label());
            }
        }

        @ParameterizedTest
        @EnumSource(UnaryOp.class)
        void boolIsRejected(UnaryOp op) {
            Tensor t = backend.of(new boolean[] {true}, 1);
            assertThatThrownBy(() -> t.unary(op)).isInstanceOf(TensorException.class)
                    .hasMessageContaining(op.name().toLowerCase(java.util.Locale.ROOT)).hasMessageContaining("bool");
        }

        @Test
        void specialValuesFollowIeee() {
            for (DType dtype : FLOATS) {
                double inf = Double.POSITIVE_INFINITY;
                Tensor x = vector(dtype, 0, -1, inf, Double.NEGATIVE_INFINITY, Double.NaN);
                assertThatTensor(x.log()).hasValues(Double.NEGATIVE_INFINITY, Double.NaN, inf, Double.NaN, Double.NaN);
                assertThatTensor(x.exp()).isCloseTo(new double[] {1, Math.exp(-1), inf, 0, Double.NaN},
                        tolerance(dtype));
                assertThatTensor(x.sqrt()).hasValues(0, Double.NaN, inf, Double.NaN, Double.NaN);
                assertThatTensor(x.log1p()).hasValues(0, Double.NEGATIVE_INFINITY, inf, Double.NaN, Double.NaN);
                assertThatTensor(x.abs()).hasValues(0, 1, inf, inf, Double.NaN);
                assertThatTensor(x.neg()).hasValues(0, 1, Double.NEGATIVE_INFINITY, inf, Double.NaN);
                assertThatTensor(x.square()).hasValues(0, 1, inf, inf, Double.NaN);
            }
        }

        @Test
        void log1pIsAccurateForTinyArguments() {
            // log(1 + x) computed naively would give 0 (float32) or lose 4 digits (float64); compare relatively
            double[] d = vector(DType.FLOAT64, 1e-10, -1e-12).log1p().toDoubleArray();
            assertThat(d[0] / Math.log1p(1e-10)).isCloseTo(1, within(1e-12));
            assertThat(d[1] / Math.log1p(-1e-12)).isCloseTo(1, within(1e-12));
            float tiny = 1e-10f;
            double f = backend.of(new float[] {tiny}, 1).log1p().toDoubleArray()[0];
            assertThat(f / tiny).isCloseTo(1, within(1e-5));
        }

        @Test
        void namedShortcutsEqualUnary() {
            Tensor x = vector(DType.FLOAT64, 0.5, 2, 3);
            assertThatTensor(x.exp()).hasValues(x.unary(UnaryOp.EXP).toDoubleArray());
            assertThatTensor(x.log()).hasValues(x.unary(UnaryOp.LOG).toDoubleArray());
            assertThatTensor(x.log1p()).hasValues(x.unary(UnaryOp.LOG1P).toDoubleArray());
            assertThatTensor(x.sqrt()).hasValues(x.unary(UnaryOp.SQRT).toDoubleArray());
            assertThatTensor(x.square()).hasValues(0.25, 4, 9);
            assertThatTensor(x.neg()).hasValues(-0.5, -2, -3);
            assertThatTensor(x.neg().abs()).hasValues(0.5, 2, 3);
        }

        @Test
        void operandIsLeftUnchanged() {
            Tensor x = vector(DType.FLOAT32, -1, 2);
            x.neg().close();
            x.exp().close();
            assertThatTensor(x).hasValues(-1, 2);
        }
    }

    // ---- elementwise binary -----------------------------------------------------------------

    static double reference(BinaryOp op, double a, double b) {
        return switch (op) {
            case ADD -> a + b;
            case SUB -> a - b;
            case MUL -> a * b;
            case DIV -> a / b;
            case MAXIMUM -> Math.max(a, b);
            case MINIMUM -> Math.min(a, b);
        };
    }

    static double referenceInteger(BinaryOp op, double a, double b) {
        return op == BinaryOp.DIV ? (double) ((long) a / (long) b) : reference(op, a, b);
    }

    @Nested
    class BinaryOperations {
        /** Pairs of shapes that broadcast: same shape, scalar with matrix, [3,1] with [1,4], rank mismatch. */
        private final long[][][] shapePairs = {
            {{2, 3}, {2, 3}},
            {{2, 3}, {}},
            {{}, {2, 3}},
            {{3, 1}, {1, 4}},
            {{1, 4}, {3, 1}},
            {{2, 3, 4}, {4}},
            {{4}, {2, 3, 4}},
            {{2, 3, 4}, {3, 1}},
            {{2, 1, 4}, {3, 1}},
            {{1}, {2, 2}},
        };

        /** {@code b} moved at least 0.5 away from zero, exact in {@code dtype}. */
        private double[] divisors(double[] b, DType dtype) {
            return ReferenceMath.map(b, v -> {
                double d = v < 0 ? v - 0.5 : v + 0.5;
                return dtype == DType.FLOAT32 ? (float) d : d;
            });
        }

        @ParameterizedTest
        @EnumSource(BinaryOp.class)
        void floatTypesMatchReferenceWithBroadcasting(BinaryOp op) {
            SplittableRandom rng = rng();
            for (DType dtype : FLOATS) {
                for (long[][] pair : shapePairs) {
                    double[] a = random(rng, dtype, size(pair[0]), -3, 3);
                    double[] b = random(rng, dtype, size(pair[1]), -3, 3);
                    double[] bb = op == BinaryOp.DIV ? divisors(b, dtype) : b;
                    long[] out = Shapes.broadcast(pair[0], pair[1], "test");
                    Tensor result = tensor(dtype, a, pair[0]).binary(op, tensor(dtype, bb, pair[1]));
                    assertThatTensor(result).hasShape(out).hasDtype(dtype).isCloseTo(
                            ReferenceMath.broadcast(a, pair[0], bb, pair[1], (x, y) -> reference(op, x, y)),
                            tolerance(dtype));
                }
            }
        }

        @ParameterizedTest
        @EnumSource(BinaryOp.class)
        void integerTypesAreExactWithBroadcasting(BinaryOp op) {
            SplittableRandom rng = rng();
            for (DType dtype : INTEGERS) {
                double[] a = random(rng, dtype, 3, -20, 20);
                double[] b = Arrays.stream(random(rng, dtype, 4, -5, 5)).map(v -> v >= 0 ? v + 1 : v).toArray();
                Tensor result = tensor(dtype, a, 3, 1).binary(op, tensor(dtype, b, 1, 4));
                assertThatTensor(result).hasShape(3, 4).hasDtype(dtype)
                        .hasValues(ReferenceMath.broadcast(a, new long[] {3, 1}, b, new long[] {1, 4},
                                (x, y) -> referenceInteger(op, x, y)));
            }
        }

        @Test
        void integerDivisionTruncatesTowardZero() {
            for (DType dtype : INTEGERS) {
                Tensor a = vector(dtype, 7, -7, 7, -7, 6, 1, -1);
                Tensor b = vector(dtype, 2, 2, -2, -2, 3, 3, 3);
                assertThatTensor(a.div(b)).hasDtype(dtype).hasLongs(3, -3, -3, 3, 2, 0, 0);
            }
        }

        @Test
        void int64ArithmeticIsExactBeyondFloatPrecision() {
            Tensor a = backend.of(new long[] {1L << 40, (1L << 50) + 3}, 2);
            Tensor one = backend.of(new long[] {1}, 1);
            assertThatTensor(a.add(one)).hasLongs((1L << 40) + 1, (1L << 50) + 4);
            assertThatTensor(a.sub(a)).hasLongs(0, 0);
        }

        @Test
        void floatDivisionByZeroGivesInfinityOrNaN() {
            for (DType dtype : FLOATS) {
                Tensor a = vector(dtype, 1, -1, 0);
                assertThatTensor(a.div(backend.zeros(dtype, 3)))
                        .hasValues(Double.POSITIVE_INFINITY, Double.NEGATIVE_INFINITY, Double.NaN);
            }
        }

        @Test
        void maximumAndMinimumPropagateNaN() {
            for (DType dtype : FLOATS) {
                Tensor a = vector(dtype, Double.NaN, 1, 2, Double.NEGATIVE_INFINITY);
                Tensor b = vector(dtype, 0, Double.NaN, 3, 5);
                assertThatTensor(a.maximum(b)).hasValues(Double.NaN, Double.NaN, 3, 5);
                assertThatTensor(a.minimum(b)).hasValues(Double.NaN, Double.NaN, 2, Double.NEGATIVE_INFINITY);
            }
        }

        @Test
        void scalarShortcutsUseTheTensorDtype() {
            for (DType dtype : List.of(DType.FLOAT32, DType.FLOAT64, DType.INT32, DType.INT64)) {
                Tensor x = vector(dtype, 4, 8);
                assertThatTensor(x.add(2)).hasDtype(dtype).hasValues(6, 10);
                assertThatTensor(x.sub(2)).hasDtype(dtype).hasValues(2, 6);
                assertThatTensor(x.mul(2)).hasDtype(dtype).hasValues(8, 16);
                assertThatTensor(x.div(2)).hasDtype(dtype).hasValues(2, 4);
                Tensor y = vector(dtype, 5, 1);
                assertThatTensor(x.add(y)).hasValues(9, 9);
                assertThatTensor(x.sub(y)).hasValues(-1, 7);
                assertThatTensor(x.mul(y)).hasValues(20, 8);
                assertThatTensor(x.maximum(y)).hasValues(5, 8);
                assertThatTensor(x.minimum(y)).hasValues(4, 1);
            }
        }

        @Test
        void operandsAreLeftUnchanged() {
            Tensor a = vector(DType.FLOAT64, 1, 2);
            Tensor b = vector(DType.FLOAT64, 3, 4);
            a.add(b).close();
            a.mul(b).close();
            assertThatTensor(a).hasValues(1, 2);
            assertThatTensor(b).hasValues(3, 4);
        }

        @ParameterizedTest
        @EnumSource(BinaryOp.class)
        void mismatchedShapesAreRejected(BinaryOp op) {
            String name = op.name().toLowerCase(java.util.Locale.ROOT);
            Tensor a = backend.zeros(DType.FLOAT32, 2, 3);
            Tensor b = backend.zeros(DType.FLOAT32, 4);
            assertThatThrownBy(() -> a.binary(op, b)).isInstanceOf(TensorException.class)
                    .hasMessageContaining(name).hasMessageContaining("[2, 3]").hasMessageContaining("[4]");
            Tensor c = backend.zeros(DType.FLOAT32, 3, 2);
            assertThatThrownBy(() -> a.binary(op, c)).isInstanceOf(TensorException.class)
                    .hasMessageContaining(name).hasMessageContaining("[3, 2]");
        }

        @ParameterizedTest
        @EnumSource(BinaryOp.class)
        void mismatchedDtypesAreRejected(BinaryOp op) {
            String name = op.name().toLowerCase(java.util.Locale.ROOT);
            Tensor a = backend.zeros(DType.FLOAT32, 2);
            assertThatThrownBy(() -> a.binary(op, backend.zeros(DType.FLOAT64, 2)))
                    .isInstanceOf(TensorException.class).hasMessageContaining(name)
                    .hasMessageContaining("float32").hasMessageContaining("float64");
            assertThatThrownBy(() -> a.binary(op, backend.zeros(DType.INT32, 2)))
                    .isInstanceOf(TensorException.class).hasMessageContaining(name).hasMessageContaining("int32");
        }

        @Test
        void boolArithmeticIsRejected() {
            Tensor b = backend.of(new boolean[] {true, false}, 2);
            assertThatThrownBy(() -> b.add(b)).isInstanceOf(TensorException.class).hasMessageContaining("add")
                    .hasMessageContaining("bool");
        }

        @Test
        void scalarShortcutWithFractionOnIntegerTensorIsRejected() {
            Tensor x = vector(DType.INT32, 1, 2);
            assertThatThrownBy(() -> x.add(0.5)).isInstanceOf(TensorException.class)
                    .hasMessageContaining("0.5").hasMessageContaining("int32");
        }
    }

    // ---- comparisons, where, clamp ----------------------------------------------------------

    static boolean reference(CompareOp op, double a, double b) {
        return switch (op) {
            case EQ -> a == b;
            case NE -> a != b;
            case LT -> a < b;
            case LE -> a <= b;
            case GT -> a > b;
            case GE -> a >= b;
        };
    }

    @Nested
    class Comparisons {
        @Test
        void boolTensorsCompareOnlyForEquality() {
            Tensor a = backend.of(new boolean[] {true, false, true}, 3);
            Tensor b = backend.of(new boolean[] {true, true, false}, 3);
            assertThatTensor(a.compare(CompareOp.EQ, b)).hasBooleans(true, false, false);
            assertThatTensor(a.compare(CompareOp.NE, b)).hasBooleans(false, true, true);
            assertThatThrownBy(() -> a.compare(CompareOp.LT, b)).isInstanceOf(TensorException.class)
                    .hasMessageContaining("lt").hasMessageContaining("only eq and ne");
        }

        @ParameterizedTest
        @EnumSource(CompareOp.class)
        void floatComparisonsFollowIeeeIncludingNaN(CompareOp op) {
            double nan = Double.NaN;
            double inf = Double.POSITIVE_INFINITY;
            double[] a = {1, 2, nan, 3, -inf, 0, nan, inf};
            double[] b = {1, 3, 1, nan, -inf, -0.0, nan, 5};
            for (DType dtype : FLOATS) {
                double[] expected = new double[a.length];
                for (int i = 0; i < a.length; i++) {
                    expected[i] = reference(op, a[i], b[i]) ? 1 : 0;
                }
                assertThatTensor(vector(dtype, a).compare(op, vector(dtype, b))).hasShape(8)
                        .hasDtype(DType.BOOL).hasValues(expected);
            }
        }

        @ParameterizedTest
        @EnumSource(CompareOp.class)
        void broadcastingComparisonsMatchReference(CompareOp op) {
            SplittableRandom rng = rng();
            for (DType dtype : List.of(DType.FLOAT32, DType.FLOAT64, DType.INT32, DType.INT64)) {
                double[] a = Arrays.stream(random(rng, dtype, 3, 0, 3)).map(Math::floor).toArray();
                double[] b = Arrays.stream(random(rng, dtype, 4, 0, 3)).map(Math::floor).toArray();
                assertThatTensor(tensor(dtype, a, 3, 1).compare(op, tensor(dtype, b, 1, 4))).hasShape(3, 4)
                        .hasDtype(DType.BOOL).hasValues(ReferenceMath.broadcast(a, new long[] {3, 1}, b,
                                new long[] {1, 4}, (x, y) -> reference(op, x, y) ? 1 : 0));
                Tensor scalar = backend.full(dtype, 1);
                assertThatTensor(tensor(dtype, a, 3).compare(op, scalar)).hasShape(3)
                        .hasValues(ReferenceMath.map(a, x -> reference(op, x, 1) ? 1 : 0));
            }
        }

        @Test
        void shortcutsEqualCompare() {
            Tensor a = vector(DType.INT64, 1, 2, 3);
            Tensor b = vector(DType.INT64, 2, 2, 2);
            assertThatTensor(a.eq(b)).hasBooleans(false, true, false);
            assertThatTensor(a.lt(b)).hasBooleans(true, false, false);
            assertThatTensor(a.gt(b)).hasBooleans(false, false, true);
        }

        @ParameterizedTest
        @EnumSource(CompareOp.class)
        void badOperandsAreRejected(CompareOp op) {
            String name = op.name().toLowerCase(java.util.Locale.ROOT);
            Tensor a = backend.zeros(DType.FLOAT32, 2, 3);
            assertThatThrownBy(() -> a.compare(op, backend.zeros(DType.FLOAT32, 2))).isInstanceOf(TensorException.class)
                    .hasMessageContaining(name).hasMessageContaining("[2, 3]").hasMessageContaining("[2]");
            assertThatThrownBy(() -> a.compare(op, backend.zeros(DType.INT64, 2, 3)))
                    .isInstanceOf(TensorException.class).hasMessageContaining(name)
                    .hasMessageContaining("float32").hasMessageContaining("int64");
        }
    }

    @Nested
    class WhereAndClamp {
        @Test
        void wherePicksElementwise() {
            Tensor cond = backend.of(new boolean[] {true, false, false, true}, 2, 2);
            for (DType dtype : List.of(DType.FLOAT32, DType.FLOAT64, DType.INT32, DType.INT64)) {
                Tensor t = tensor(dtype, new double[] {1, 2, 3, 4}, 2, 2);
                Tensor f = tensor(dtype, new double[] {-1, -2, -3, -4}, 2, 2);
                assertThatTensor(cond.where(t, f)).hasShape(2, 2).hasDtype(dtype).hasValues(1, -2, -3, 4);
            }
        }

        @Test
        void whereBroadcastsAllThree() {
            Tensor cond = backend.of(new boolean[] {true, false, true}, 3, 1);
            Tensor t = vector(DType.FLOAT32, 1, 2, 3, 4).reshape(1, 4);
            Tensor f = backend.full(DType.FLOAT32, -9);
            assertThatTensor(cond.where(t, f)).hasShape(3, 4).hasDtype(DType.FLOAT32)
                    .hasValues(1, 2, 3, 4, -9, -9, -9, -9, 1, 2, 3, 4);
            Tensor scalarCond = backend.of(new boolean[] {false});
            assertThatTensor(scalarCond.where(t, f)).hasShape(1, 4).hasValues(-9, -9, -9, -9);
            Tensor rowCond = backend.of(new boolean[] {true, false}, 2);
            Tensor column = vector(DType.INT64, 10, 20, 30).reshape(3, 1);
            assertThatTensor(rowCond.where(column, backend.full(DType.INT64, 0))).hasShape(3, 2)
                    .hasLongs(10, 0, 20, 0, 30, 0);
        }

        @Test
        void whereRejectsBadInput() {
            Tensor t = vector(DType.FLOAT32, 1, 2);
            Tensor cond = backend.of(new boolean[] {true, false}, 2);
            assertThatThrownBy(() -> t.where(t, t)).isInstanceOf(TensorException.class)
                    .hasMessageContaining("where").hasMessageContaining("float32");
            assertThatThrownBy(() -> cond.where(t, vector(DType.INT64, 1, 2))).isInstanceOf(TensorException.class)
                    .hasMessageContaining("where").hasMessageContaining("float32").hasMessageContaining("int64");
            assertThatThrownBy(() -> cond.where(t, vector(DType.FLOAT32, 1, 2, 3)))
                    .isInstanceOf(TensorException.class).hasMessageContaining("where").hasMessageContaining("[3]");
        }

        @Test
        void clampLimitsValuesAndKeepsNaN() {
            double inf = Double.POSITIVE_INFINITY;
            for (DType dtype : FLOATS) {
                Tensor x = vector(dtype, -inf, -2, -0.5, 0, 0.5, 2, inf, Double.NaN);
                assertThatTensor(x.clamp(-1, 1)).hasShape(8).hasDtype(dtype)
                        .hasValues(-1, -1, -0.5, 0, 0.5, 1, 1, Double.NaN);
                assertThatTensor(x.clamp(0, 0)).hasValues(0, 0, 0, 0, 0, 0, 0, Double.NaN);
                assertThatTensor(x.clamp(Double.NEGATIVE_INFINITY, 0)).hasValues(-inf, -2, -0.5, 0, 0, 0, 0,
                        Double.NaN);
            }
            for (DType dtype : INTEGERS) {
                assertThatTensor(vector(dtype, -5, 0, 5).clamp(-1, 3)).hasDtype(dtype).hasLongs(-1, 0, 3);
            }
        }

        @Test
        void clampRejectsBadInput() {
            Tensor x = vector(DType.FLOAT32, 1);
            assertThatThrownBy(() -> x.clamp(2, 1)).isInstanceOf(TensorException.class)
                    .hasMessageContaining("clamp").hasMessageContaining("2.0").hasMessageContaining("1.0");
            assertThatThrownBy(() -> x.clamp(Double.NaN, 1)).isInstanceOf(TensorException.class)
                    .hasMessageContaining("clamp").hasMessageContaining("NaN");
            Tensor b = backend.of(new boolean[] {true}, 1);
            assertThatThrownBy(() -> b.clamp(0, 1)).isInstanceOf(TensorException.class)
                    .hasMessageContaining("clamp").hasMessageContaining("bool");
        }
    }

    // ---- matrix product ---------------------------------------------------------------------

    @Nested
    class MatrixProduct {
        private void check(long[] as, long[] bs, long[] expectedShape) {
            SplittableRandom rng = rng();
            for (DType dtype : FLOATS) {
                double[] a = random(rng, dtype, size(as), -1, 1);
                double[] b = random(rng, dtype, size(bs), -1, 1);
                assertThatTensor(tensor(dtype, a, as).matmul(tensor(dtype, b, bs))).hasShape(expectedShape)
                        .hasDtype(dtype).isCloseTo(ReferenceMath.matmul(a, as, b, bs), tolerance(dtype));
            }
        }

        @Test
        void matrixTimesMatrix() {
            check(new long[] {3, 4}, new long[] {4, 5}, new long[] {3, 5});
            check(new long[] {1, 7}, new long[] {7, 1}, new long[] {1, 1});
        }

        @Test
        void batchedRank3() {
            check(new long[] {2, 3, 4}, new long[] {2, 4, 5}, new long[] {2, 3, 5});
        }

        @Test
        void batchOfMatricesTimesOneMatrix() {
            check(new long[] {2, 3, 4}, new long[] {4, 5}, new long[] {2, 3, 5});
            check(new long[] {3, 4}, new long[] {2, 4, 5}, new long[] {2, 3, 5});
        }

        @Test
        void batchAxesBroadcast() {
            check(new long[] {1, 3, 4}, new long[] {2, 4, 5}, new long[] {2, 3, 5});
            check(new long[] {2, 1, 3, 4}, new long[] {3, 4, 2}, new long[] {2, 3, 3, 2});
        }

        @Test
        void identityLeavesAMatrixUnchanged() {
            double[] x = {1, 2, 3, 4, 5, 6};
            Tensor m = backend.of(x, 2, 3);
            Tensor eye = backend.of(new double[] {1, 0, 0, 0, 1, 0, 0, 0, 1}, 3, 3);
            assertThatTensor(m.matmul(eye)).hasShape(2, 3).hasValues(x);
        }

        @Test
        void emptyInnerAxisGivesZeros() {
            Tensor a = backend.zeros(DType.FLOAT32, 2, 0);
            Tensor b = backend.zeros(DType.FLOAT32, 0, 3);
            assertThatTensor(a.matmul(b)).hasShape(2, 3).hasValues(0, 0, 0, 0, 0, 0);
        }

        @Test
        void badOperandsAreRejected() {
            Tensor a = backend.zeros(DType.FLOAT32, 2, 3);
            assertThatThrownBy(() -> a.matmul(backend.zeros(DType.FLOAT32, 4, 5))).isInstanceOf(TensorException.class)
                    .hasMessageContaining("matmul").hasMessageContaining("[2, 3]").hasMessageContaining("[4, 5]");
            assertThatThrownBy(() -> a.matmul(backend.zeros(DType.FLOAT32, 3))).isInstanceOf(TensorException.class)
                    .hasMessageContaining("matmul").hasMessageContaining("[3]");
            assertThatThrownBy(() -> a.matmul(backend.zeros(DType.FLOAT64, 3, 2))).isInstanceOf(TensorException.class)
                    .hasMessageContaining("matmul").hasMessageContaining("float64");
            Tensor ints = backend.zeros(DType.INT32, 2, 2);
            assertThatThrownBy(() -> ints.matmul(ints)).isInstanceOf(TensorException.class)
                    .hasMessageContaining("matmul").hasMessageContaining("int32");
            Tensor b2 = backend.zeros(DType.FLOAT32, 2, 3, 4);
            Tensor b3 = backend.zeros(DType.FLOAT32, 3, 4, 5);
            assertThatThrownBy(() -> b2.matmul(b3)).isInstanceOf(TensorException.class)
                    .hasMessageContaining("matmul").hasMessageContaining("[2]").hasMessageContaining("[3]");
        }
    }

    // ---- reductions -------------------------------------------------------------------------

    @Nested
    class Reductions {
        @ParameterizedTest
        @EnumSource(ReduceOp.class)
        void floatReductionsMatchReferenceOnEveryAxis(ReduceOp op) {
            long[] shape = {2, 3, 4};
            for (DType dtype : FLOATS) {
                double[] x = random(rng(), dtype, 24, -4, 4);
                Tensor t = tensor(dtype, x, shape);
                for (int axis = -3; axis < 3; axis++) {
                    int a = axis < 0 ? axis + 3 : axis;
                    double[] expected = ReferenceMath.reduce(x, shape, a, lane -> ReferenceMath.reduce(op, lane));
                    for (boolean keep : new boolean[] {false, true}) {
                        assertThatTensor(t.reduce(op, axis, keep)).hasShape(withoutAxis(shape, a, keep))
                                .hasDtype(dtype).isCloseTo(expected, tolerance(dtype));
                    }
                }
            }
        }

        @ParameterizedTest
        @EnumSource(value = ReduceOp.class, names = {"SUM", "MAX", "MIN"})
        void integerReductionsAreExact(ReduceOp op) {
            long[] shape = {2, 3};
            double[] x = {5, -2, 7, 0, 11, -13};
            for (DType dtype : INTEGERS) {
                Tensor t = tensor(dtype, x, shape);
                for (int axis : new int[] {0, 1, -1}) {
                    int a = axis < 0 ? axis + 2 : axis;
                    assertThatTensor(t.reduce(op, axis, false)).hasDtype(dtype).hasShape(withoutAxis(shape, a, false))
                            .hasValues(ReferenceMath.reduce(x, shape, a, lane -> ReferenceMath.reduce(op, lane)));
                }
            }
        }

        @Test
        void shortcutsEqualReduce() {
            Tensor t = backend.of(new double[] {1, 2, 3, 4, 5, 6}, 2, 3);
            assertThatTensor(t.sum(1)).hasShape(2).hasValues(6, 15);
            assertThatTensor(t.max(0)).hasShape(3).hasValues(4, 5, 6);
            assertThatTensor(t.logSumExp(-1)).hasShape(2).isCloseTo(
                    ReferenceMath.logSumExp(new double[] {1, 2, 3}), ReferenceMath.logSumExp(new double[] {4, 5, 6}));
            assertThatTensor(t.sumAll()).isScalar().hasValues(21);
        }

        @Test
        void maxAndMinPropagateNaN() {
            for (DType dtype : FLOATS) {
                Tensor t = tensor(dtype, new double[] {1, Double.NaN, 3, 4, 5, 6}, 2, 3);
                assertThatTensor(t.reduce(ReduceOp.MAX, 1, false)).hasValues(Double.NaN, 6);
                assertThatTensor(t.reduce(ReduceOp.MIN, 1, false)).hasValues(Double.NaN, 4);
            }
        }

        @Test
        void sumAllAddsEveryElement() {
            for (DType dtype : List.of(DType.FLOAT32, DType.FLOAT64, DType.INT32, DType.INT64)) {
                double[] x = random(rng(), dtype, 24, -10, 10);
                assertThatTensor(tensor(dtype, x, 2, 3, 4).sumAll()).isScalar().hasDtype(dtype)
                        .isCloseTo(new double[] {ReferenceMath.sum(x)}, tolerance(dtype));
            }
        }

        @Test
        void badAxisOrDtypeIsRejected() {
            Tensor t = backend.zeros(DType.FLOAT32, 2, 3, 4);
            for (ReduceOp op : ReduceOp.values()) {
                String name = op == ReduceOp.LOG_SUM_EXP ? "logSumExp" : op.name().toLowerCase(java.util.Locale.ROOT);
                assertThatThrownBy(() -> t.reduce(op, 3, false)).isInstanceOf(TensorException.class)
                        .hasMessageContaining(name).hasMessageContaining("axis 3");
                assertThatThrownBy(() -> t.reduce(op, -4, true)).isInstanceOf(TensorException.class)
                        .hasMessageContaining(name).hasMessageContaining("axis -4");
                Tensor b = backend.of(new boolean[] {true}, 1);
                assertThatThrownBy(() -> b.reduce(op, 0, false)).isInstanceOf(TensorException.class)
                        .hasMessageContaining(name).hasMessageContaining("bool");
            }
            Tensor ints = backend.zeros(DType.INT32, 3);
            assertThatThrownBy(() -> ints.logSumExp(0)).isInstanceOf(TensorException.class)
                    .hasMessageContaining("logSumExp").hasMessageContaining("int32");
        }
    }

    @Nested
    class LogSumExpAndSoftmax {
        private final double inf = Double.POSITIVE_INFINITY;

        @Test
        void negativeInfinityEntriesContributeNothing() {
            for (DType dtype : FLOATS) {
                Tensor t = tensor(dtype, new double[] {0, -inf, Math.log(3), -inf, -inf, 2}, 2, 3);
                assertThatTensor(t.logSumExp(1)).hasShape(2).isCloseTo(new double[] {Math.log(4), 2}, tolerance(dtype));
            }
        }

        @Test
        void allNegativeInfinityGivesNegativeInfinity() {
            for (DType dtype : FLOATS) {
                Tensor t = tensor(dtype, new double[] {-inf, -inf, -inf, 1, 2, 3}, 2, 3);
                assertThatTensor(t.logSumExp(1)).hasShape(2).isCloseTo(
                        new double[] {-inf, ReferenceMath.logSumExp(new double[] {1, 2, 3})}, tolerance(dtype));
                assertThatTensor(t.reduce(ReduceOp.LOG_SUM_EXP, 1, true)).hasShape(2, 1).isCloseTo(
                        new double[] {-inf, ReferenceMath.logSumExp(new double[] {1, 2, 3})}, tolerance(dtype));
            }
        }

        @Test
        void largeValuesDoNotOverflow() {
            for (DType dtype : FLOATS) {
                Tensor big = tensor(dtype, new double[] {1000, 1000, -1000, -1000, 500, 0}, 3, 2);
                assertThatTensor(big.logSumExp(1)).isCloseTo(
                        new double[] {1000 + Math.log(2), -1000 + Math.log(2), 500}, tolerance(dtype));
            }
            Tensor f32 = vector(DType.FLOAT32, 100, 100);
            assertThatTensor(f32.logSumExp(0)).isCloseTo(100 + Math.log(2));
        }

        @Test
        void logSoftmaxMatchesReference() {
            for (DType dtype : FLOATS) {
                double[] x = random(rng(), dtype, 15, -6, 6);
                double[] expected = new double[15];
                for (int r = 0; r < 3; r++) {
                    double[] row = Arrays.copyOfRange(x, 5 * r, 5 * r + 5);
                    double lse = ReferenceMath.logSumExp(row);
                    for (int j = 0; j < 5; j++) {
                        expected[5 * r + j] = row[j] - lse;
                    }
                }
                Tensor ls = tensor(dtype, x, 3, 5).logSoftmax(-1);
                assertThatTensor(ls).hasShape(3, 5).hasDtype(dtype).isCloseTo(expected, tolerance(dtype));
                assertThatTensor(ls.exp().sum(1)).isCloseTo(new double[] {1, 1, 1}, tolerance(dtype));
            }
        }

        @Test
        void logSoftmaxAlongTheFirstAxisAndWithLargeValues() {
            Tensor t = backend.of(new double[] {1000, 0, 1000, -inf}, 2, 2);
            assertThatTensor(t.logSoftmax(0)).hasShape(2, 2).isCloseTo(-Math.log(2), 0, -Math.log(2), -inf);
        }
    }

    @Nested
    class ArgMaxAndTopK {
        /** Distinct values: a shuffled 0..n-1 plus a small random fraction. */
        private double[] distinct(int n, DType dtype) {
            SplittableRandom rng = rng();
            double[] v = new double[n];
            for (int i = 0; i < n; i++) {
                v[i] = i;
            }
            for (int i = n - 1; i > 0; i--) {
                int j = rng.nextInt(i + 1);
                double tmp = v[i];
                v[i] = v[j];
                v[j] = tmp;
            }
            if (dtype.isFloating()) {
                for (int i = 0; i < n; i++) {
                    double x = v[i] + 0.5 * rng.nextDouble();
                    v[i] = dtype == DType.FLOAT32 ? (float) x : x;
                }
            }
            return v;
        }

        @Test
        void argMaxMatchesReferenceOnEveryAxis() {
            long[] shape = {3, 4, 5};
            for (DType dtype : List.of(DType.FLOAT32, DType.FLOAT64, DType.INT32, DType.INT64)) {
                double[] x = random(rng(), dtype, 60, -100, 100);
                Tensor t = tensor(dtype, x, shape);
                for (int axis = -3; axis < 3; axis++) {
                    int a = axis < 0 ? axis + 3 : axis;
                    assertThatTensor(t.argMax(axis)).hasShape(withoutAxis(shape, a, false)).hasDtype(DType.INT64)
                            .hasValues(ReferenceMath.reduce(x, shape, a, ReferenceMath::argMax));
                }
            }
        }

        @Test
        void argMaxPicksTheFirstOfTies() {
            Tensor t = backend.of(new float[] {1, 3, 3, 2, 2, 2}, 2, 3);
            assertThatTensor(t.argMax(1)).hasLongs(1, 0);
            Tensor u = backend.of(new long[] {5, 1, 5, 1}, 2, 2);
            assertThatTensor(u.argMax(0)).hasLongs(0, 0);
            Tensor inf = backend.of(new double[] {Double.NEGATIVE_INFINITY, Double.NEGATIVE_INFINITY}, 2);
            assertThatTensor(inf.argMax(0)).isScalar().hasLongs(0);
        }

        @Test
        void argMaxRejectsBadInput() {
            Tensor t = backend.zeros(DType.FLOAT32, 2, 3);
            assertThatThrownBy(() -> t.argMax(2)).isInstanceOf(TensorException.class)
                    .hasMessageContaining("argMax").hasMessageContaining("axis 2");
            assertThatThrownBy(() -> backend.zeros(DType.FLOAT32, 0, 3).argMax(0)).isInstanceOf(TensorException.class)
                    .hasMessageContaining("argMax").hasMessageContaining("[0, 3]");
            assertThatThrownBy(() -> backend.of(new boolean[] {true}, 1).argMax(0))
                    .isInstanceOf(TensorException.class).hasMessageContaining("argMax").hasMessageContaining("bool");
        }

        @Test
        void topKMatchesReferenceAlongEveryAxis() {
            long[] shape = {3, 4, 5};
            for (DType dtype : List.of(DType.FLOAT32, DType.FLOAT64, DType.INT32, DType.INT64)) {
                double[] x = distinct(60, dtype);
                Tensor t = tensor(dtype, x, shape);
                for (int axis = -3; axis < 3; axis++) {
                    int a = axis < 0 ? axis + 3 : axis;
                    double[][] lanes = ReferenceMath.lanes(x, shape, a);
                    for (int k = 1; k <= shape[a]; k++) {
                        double[][] values = new double[lanes.length][];
                        double[][] indices = new double[lanes.length][];
                        for (int l = 0; l < lanes.length; l++) {
                            int[] top = ReferenceMath.topIndices(lanes[l], k);
                            double[] lane = lanes[l];
                            values[l] = Arrays.stream(top).mapToDouble(j -> lane[j]).toArray();
                            indices[l] = Arrays.stream(top).mapToDouble(j -> j).toArray();
                        }
                        long[] out = shape.clone();
                        out[a] = k;
                        try (TopK top = t.topK(k, axis)) {
                            assertThatTensor(top.values()).hasShape(out).hasDtype(dtype)
                                    .hasValues(ReferenceMath.fromLanes(values, shape, a));
                            assertThatTensor(top.indices()).hasShape(out).hasDtype(DType.INT64)
                                    .hasValues(ReferenceMath.fromLanes(indices, shape, a));
                        }
                    }
                }
            }
        }

        @Test
        void topOneEqualsMaxAndArgMax() {
            Tensor t = backend.of(distinct(12, DType.FLOAT64), 3, 4);
            TopK top = t.topK(1, 1);
            assertThatTensor(top.values().squeeze(1)).hasValues(t.max(1).toDoubleArray());
            assertThatTensor(top.indices().squeeze(1)).hasLongs(t.argMax(1).toLongArray());
        }

        @Test
        void topKKeepsTiesInAscendingPosition() {
            for (DType dtype : List.of(DType.FLOAT32, DType.FLOAT64, DType.INT32, DType.INT64)) {
                Tensor t = backend.of(new double[] {1, 3, 2, 3, 1, 3}, 6).toType(dtype);
                try (TopK top = t.topK(5, 0)) {
                    assertThatTensor(top.values()).as(dtype.label()).hasValues(3, 3, 3, 2, 1);
                    assertThatTensor(top.indices()).as(dtype.label()).hasLongs(1, 3, 5, 2, 0);
                }
            }
        }

        @Test
        void integerDivisionByZeroIsAnError() {
            for (DType dtype : List.of(DType.INT32, DType.INT64)) {
                Tensor a = backend.of(new double[] {4, 5}, 2).toType(dtype);
                Tensor b = backend.of(new double[] {2, 0}, 2).toType(dtype);
                assertThatThrownBy(() -> a.div(b)).isInstanceOf(TensorException.class)
                        .hasMessageContaining("div").hasMessageContaining("division by zero");
            }
        }

        @Test
        void topKWithInfiniteEntries() {
            double inf = Double.POSITIVE_INFINITY;
            Tensor t = backend.of(new double[] {-inf, 2, inf, 0}, 4);
            try (TopK top = t.topK(3, 0)) {
                assertThatTensor(top.values()).hasValues(inf, 2, 0);
                assertThatTensor(top.indices()).hasLongs(2, 1, 3);
            }
        }

        @Test
        void topKClosesBothTensors() {
            TopK top = backend.of(new float[] {1, 2}, 2).topK(1, 0);
            top.close();
            assertThatTensor(top.values()).isClosed();
            assertThatTensor(top.indices()).isClosed();
        }

        @Test
        void topKRejectsBadK() {
            Tensor t = backend.zeros(DType.FLOAT32, 3, 4);
            assertThatThrownBy(() -> t.topK(0, 1)).isInstanceOf(TensorException.class)
                    .hasMessageContaining("topK").hasMessageContaining("found 0");
            assertThatThrownBy(() -> t.topK(5, 1)).isInstanceOf(TensorException.class)
                    .hasMessageContaining("topK").hasMessageContaining("found 5").hasMessageContaining("[1, 4]");
            assertThatThrownBy(() -> t.topK(4, 0)).isInstanceOf(TensorException.class)
                    .hasMessageContaining("topK").hasMessageContaining("found 4").hasMessageContaining("[1, 3]");
            assertThatThrownBy(() -> t.topK(1, 2)).isInstanceOf(TensorException.class)
                    .hasMessageContaining("topK").hasMessageContaining("axis 2");
        }
    }

    // ---- indexing -----------------------------------------------------------------------------

    @Nested
    class Indexing {
        private final double[] x = {0, 1, 2, 3, 10, 11, 12, 13, 20, 21, 22, 23};

        @Test
        void gatherSelectsRowsWithRepeats() {
            for (DType idx : INTEGERS) {
                Tensor t = backend.of(x, 3, 4);
                assertThatTensor(t.gather(0, vector(idx, 2, 0, 2, 2))).hasShape(4, 4).hasDtype(DType.FLOAT64)
                        .hasValues(20, 21, 22, 23, 0, 1, 2, 3, 20, 21, 22, 23, 20, 21, 22, 23);
            }
        }

        @Test
        void gatherSelectsColumnsAndInnerAxes() {
            Tensor t = tensor(DType.INT32, x, 3, 4);
            assertThatTensor(t.gather(1, vector(DType.INT64, 3, 3, 0))).hasShape(3, 3).hasDtype(DType.INT32)
                    .hasLongs(3, 3, 0, 13, 13, 10, 23, 23, 20);
            assertThatTensor(t.gather(-1, vector(DType.INT32, 1))).hasShape(3, 1).hasLongs(1, 11, 21);
            Tensor cube = tensor(DType.FLOAT32, x, 2, 3, 2);
            assertThatTensor(cube.gather(1, vector(DType.INT64, 2, 0))).hasShape(2, 2, 2)
                    .hasValues(10, 11, 0, 1, 22, 23, 12, 13);
            assertThatTensor(t.gather(0, backend.zeros(DType.INT64, 0))).hasShape(0, 4);
        }

        @Test
        void gatherRejectsBadIndices() {
            Tensor t = backend.of(x, 3, 4);
            assertThatThrownBy(() -> t.gather(0, vector(DType.INT64, 0, 3))).isInstanceOf(TensorException.class)
                    .hasMessageContaining("gather").hasMessageContaining("index 3")
                    .hasMessageContaining("[0, 3)");
            assertThatThrownBy(() -> t.gather(1, vector(DType.INT32, -1))).isInstanceOf(TensorException.class)
                    .hasMessageContaining("gather").hasMessageContaining("index -1");
            assertThatThrownBy(() -> t.gather(0, vector(DType.FLOAT32, 0))).isInstanceOf(TensorException.class)
                    .hasMessageContaining("gather").hasMessageContaining("float32");
            assertThatThrownBy(() -> t.gather(0, backend.zeros(DType.INT64, 1, 1)))
                    .isInstanceOf(TensorException.class).hasMessageContaining("gather")
                    .hasMessageContaining("[1, 1]");
            assertThatThrownBy(() -> t.gather(2, vector(DType.INT64, 0))).isInstanceOf(TensorException.class)
                    .hasMessageContaining("gather").hasMessageContaining("axis 2");
        }

        @Test
        void takeAlongPicksOneElementPerPosition() {
            Tensor t = backend.of(x, 3, 4);
            Tensor idx = backend.of(new long[] {3, 0, 1, 1, 0, 2}, 3, 2);
            assertThatTensor(t.takeAlong(1, idx)).hasShape(3, 2).hasDtype(DType.FLOAT64)
                    .hasValues(3, 0, 11, 11, 20, 22);
            Tensor rows = backend.of(new int[] {2, 0, 1, 2, 0, 0, 0, 1}, 2, 4);
            assertThatTensor(t.takeAlong(0, rows)).hasShape(2, 4).hasValues(20, 1, 12, 23, 0, 1, 2, 13);
            Tensor wider = backend.of(new long[] {0, 0, 0, 1, 1, 1, 2, 2, 2}, 3, 3);
            assertThatTensor(t.takeAlong(-1, wider)).hasShape(3, 3).hasValues(0, 0, 0, 11, 11, 11, 22, 22, 22);
        }

        @Test
        void takeAlongOfArgMaxGivesTheMaximum() {
            for (DType dtype : List.of(DType.FLOAT32, DType.FLOAT64, DType.INT32, DType.INT64)) {
                long[] shape = {2, 3, 4};
                double[] v = random(rng(), dtype, 24, -50, 50);
                Tensor t = tensor(dtype, v, shape);
                for (int axis = 0; axis < 3; axis++) {
                    Tensor picked = t.takeAlong(axis, t.argMax(axis).expandDims(axis));
                    assertThatTensor(picked).hasShape(withoutAxis(shape, axis, true)).hasDtype(dtype)
                            .hasValues(t.reduce(ReduceOp.MAX, axis, true).toDoubleArray());
                }
            }
        }

        @Test
        void takeAlongRejectsBadIndices() {
            Tensor t = backend.of(x, 3, 4);
            assertThatThrownBy(() -> t.takeAlong(1, backend.of(new long[] {0, 1, 2}, 3)))
                    .isInstanceOf(TensorException.class).hasMessageContaining("takeAlong")
                    .hasMessageContaining("[3]");
            assertThatThrownBy(() -> t.takeAlong(1, backend.zeros(DType.INT64, 2, 2)))
                    .isInstanceOf(TensorException.class).hasMessageContaining("takeAlong")
                    .hasMessageContaining("[2, 2]");
            assertThatThrownBy(() -> t.takeAlong(1, backend.of(new long[] {0, 4, 0}, 3, 1)))
                    .isInstanceOf(TensorException.class).hasMessageContaining("takeAlong")
                    .hasMessageContaining("index 4").hasMessageContaining("[0, 4)");
            assertThatThrownBy(() -> t.takeAlong(1, backend.zeros(DType.FLOAT64, 3, 1)))
                    .isInstanceOf(TensorException.class).hasMessageContaining("takeAlong")
                    .hasMessageContaining("float64");
            assertThatThrownBy(() -> t.takeAlong(-3, backend.zeros(DType.INT64, 3, 1)))
                    .isInstanceOf(TensorException.class).hasMessageContaining("takeAlong")
                    .hasMessageContaining("axis -3");
        }
    }

    // ---- precision ----------------------------------------------------------------------------

    @Nested
    class Precision {
        @Test
        void float64KeepsSmallDifferences() {
            Tensor one = backend.full(DType.FLOAT64, 1);
            assertThatTensor(one.add(1e-12).sub(1)).hasValues((1 + 1e-12) - 1);
            Tensor v = backend.of(new double[] {1, 1e-12, -1}, 3);
            assertThatTensor(v.sumAll()).isCloseTo(new double[] {1e-12}, 1e-15);
            Tensor m = backend.of(new double[] {1, 1e-12}, 1, 2);
            Tensor ones = backend.of(new double[] {1, 1}, 2, 1);
            assertThatTensor(m.matmul(ones).sub(1)).hasValues((1 + 1e-12) - 1);
        }

        @Test
        void float32RoundsLikeFloat32() {
            Tensor one = backend.full(DType.FLOAT32, 1);
            assertThatTensor(one.add(1e-8).sub(1)).hasValues(0);
            assertThatTensor(one.add(1e-12)).hasValues(1);
            assertThatTensor(backend.of(new double[] {1 + 1e-12}, 1).toType(DType.FLOAT32)).hasValues(1);
            assertThatTensor(vector(DType.FLOAT32, 0.1, 0.2).sumAll()).hasValues((float) (0.1f + 0.2f));
            assertThatTensor(vector(DType.FLOAT32, 1).div(vector(DType.FLOAT32, 3))).hasValues(1f / 3f);
        }

        @Test
        void float32OverflowsWhereFloat64DoesNot() {
            assertThatTensor(vector(DType.FLOAT32, 89).exp()).hasValues(Double.POSITIVE_INFINITY);
            assertThatTensor(vector(DType.FLOAT64, 89).exp()).isCloseTo(Math.exp(89));
            assertThatTensor(vector(DType.FLOAT32, 3e38).mul(vector(DType.FLOAT32, 2)))
                    .hasValues(Double.POSITIVE_INFINITY);
        }
    }

    // ---- empty and size-1 shapes --------------------------------------------------------------

    @Nested
    class EdgeShapes {
        private final double inf = Double.POSITIVE_INFINITY;

        @Test
        void emptyTensorsHaveNoData() {
            Tensor e = backend.of(new float[0], 0, 3);
            assertThatTensor(e).hasShape(0, 3).hasDtype(DType.FLOAT32);
            assertThat(e.size()).isZero();
            assertThat(e.toFloatArray()).isEmpty();
            assertThat(e.toDoubleArray()).isEmpty();
            assertThat(e.toIntArray()).isEmpty();
            assertThat(e.toLongArray()).isEmpty();
            assertThat(e.toBooleanArray()).isEmpty();
            assertThatTensor(backend.zeros(DType.INT64, 2, 0, 4)).hasShape(2, 0, 4).hasDtype(DType.INT64);
        }

        @Test
        void emptyTensorsFlowThroughElementwiseOps() {
            Tensor e = backend.zeros(DType.FLOAT32, 0, 3);
            Tensor row = vector(DType.FLOAT32, 1, 2, 3);
            assertThatTensor(e.exp()).hasShape(0, 3).hasDtype(DType.FLOAT32);
            assertThatTensor(e.add(row)).hasShape(0, 3).hasDtype(DType.FLOAT32);
            assertThatTensor(row.mul(e)).hasShape(0, 3);
            assertThatTensor(e.add(backend.zeros(DType.FLOAT32, 1, 1))).hasShape(0, 3);
            assertThatTensor(e.lt(row)).hasShape(0, 3).hasDtype(DType.BOOL);
            assertThatTensor(backend.zeros(DType.BOOL, 0, 1).where(row, row)).hasShape(0, 3);
            assertThatTensor(e.clamp(0, 1)).hasShape(0, 3);
            assertThatTensor(e.toType(DType.INT64)).hasShape(0, 3).hasDtype(DType.INT64);
            assertThatTensor(e.reshape(3, 0)).hasShape(3, 0);
            assertThatTensor(e.reshape(-1, 3)).hasShape(0, 3);
            assertThatTensor(e.transpose(1, 0)).hasShape(3, 0);
            assertThatTensor(e.slice(1, 1, 3)).hasShape(0, 2);
            assertThatTensor(backend.concat(List.of(e, e), 0)).hasShape(0, 3);
            assertThatTensor(e.matmul(backend.zeros(DType.FLOAT32, 3, 2))).hasShape(0, 2);
            assertThatTensor(e.gather(1, vector(DType.INT64, 2, 0))).hasShape(0, 2);
            assertThatTensor(e.takeAlong(1, backend.zeros(DType.INT64, 0, 5))).hasShape(0, 5);
        }

        @Test
        void emptyShapesThatDoNotBroadcastAreStillRejected() {
            Tensor e = backend.zeros(DType.FLOAT32, 0, 3);
            assertThatThrownBy(() -> e.add(backend.zeros(DType.FLOAT32, 2, 3))).isInstanceOf(TensorException.class)
                    .hasMessageContaining("add").hasMessageContaining("[0, 3]").hasMessageContaining("[2, 3]");
        }

        @Test
        void reductionsOverAnEmptyAxis() {
            for (DType dtype : FLOATS) {
                Tensor e = backend.zeros(dtype, 0, 3);
                assertThatTensor(e.sum(0)).hasShape(3).hasDtype(dtype).hasValues(0, 0, 0);
                assertThatTensor(e.reduce(ReduceOp.SUM, 0, true)).hasShape(1, 3).hasValues(0, 0, 0);
                assertThatTensor(e.logSumExp(0)).hasShape(3).hasValues(-inf, -inf, -inf);
                assertThatTensor(e.sum(1)).hasShape(0);
                assertThatTensor(e.sumAll()).isScalar().hasValues(0);
                assertThatThrownBy(() -> e.max(0)).isInstanceOf(TensorException.class)
                        .hasMessageContaining("max").hasMessageContaining("[0, 3]");
                assertThatThrownBy(() -> e.reduce(ReduceOp.MIN, 0, false)).isInstanceOf(TensorException.class)
                        .hasMessageContaining("min").hasMessageContaining("[0, 3]");
            }
            assertThatTensor(backend.zeros(DType.INT64, 2, 0).sum(1)).hasShape(2).hasLongs(0, 0);
        }

        @Test
        void topKAndArgMaxWithAnEmptyOtherAxis() {
            Tensor e = backend.zeros(DType.FLOAT32, 0, 3);
            assertThatTensor(e.argMax(1)).hasShape(0).hasDtype(DType.INT64);
            try (TopK top = e.topK(2, 1)) {
                assertThatTensor(top.values()).hasShape(0, 2).hasDtype(DType.FLOAT32);
                assertThatTensor(top.indices()).hasShape(0, 2).hasDtype(DType.INT64);
            }
        }

        @Test
        void sizeOneAxes() {
            Tensor t = backend.of(new double[] {1.5, -2.5, 3.5}, 1, 3, 1);
            assertThatTensor(t.sum(0)).hasShape(3, 1).hasValues(1.5, -2.5, 3.5);
            assertThatTensor(t.max(2)).hasShape(1, 3).hasValues(1.5, -2.5, 3.5);
            assertThatTensor(t.logSumExp(-1)).hasShape(1, 3).isCloseTo(1.5, -2.5, 3.5);
            assertThatTensor(t.argMax(0)).hasShape(3, 1).hasLongs(0, 0, 0);
            assertThatTensor(t.transpose(2, 1, 0)).hasShape(1, 3, 1).hasValues(1.5, -2.5, 3.5);
            try (TopK top = t.topK(1, 2)) {
                assertThatTensor(top.values()).hasShape(1, 3, 1).hasValues(1.5, -2.5, 3.5);
                assertThatTensor(top.indices()).hasLongs(0, 0, 0);
            }
            Tensor one = backend.of(new double[] {2}, 1, 1);
            assertThatTensor(one.matmul(one)).hasShape(1, 1).hasValues(4);
            assertThatTensor(t.squeeze(0).squeeze(-1)).hasShape(3);
        }
    }

    // ---- randomness ---------------------------------------------------------------------------

    @Nested
    class Randomness {
        @Test
        void uniformIsReproducibleAndMatchesTheHostGenerator() {
            Tensor a = backend.uniform(new SplittableRandom(42), DType.FLOAT64, 3, 4);
            Tensor b = backend.uniform(new SplittableRandom(42), DType.FLOAT64, 3, 4);
            assertThatTensor(a).hasShape(3, 4).hasDtype(DType.FLOAT64).hasValues(b.toDoubleArray());
            SplittableRandom host = new SplittableRandom(42);
            double[] expected = new double[12];
            Arrays.setAll(expected, i -> host.nextDouble());
            assertThatTensor(a).hasValues(expected);
            Tensor f = backend.uniform(new SplittableRandom(42), DType.FLOAT32, 12);
            SplittableRandom hostF = new SplittableRandom(42);
            double[] expectedF = new double[12];
            Arrays.setAll(expectedF, i -> hostF.nextFloat());
            assertThatTensor(f).hasDtype(DType.FLOAT32).hasValues(expectedF);
            Tensor other = backend.uniform(new SplittableRandom(43), DType.FLOAT64, 3, 4);
            assertThat(other.toDoubleArray()).isNotEqualTo(a.toDoubleArray());
        }

        @Test
        void uniformLiesInTheUnitInterval() {
            for (DType dtype : FLOATS) {
                double[] u = backend.uniform(new SplittableRandom(42), dtype, 10_000).toDoubleArray();
                assertThat(Arrays.stream(u).min().orElseThrow()).isGreaterThanOrEqualTo(0);
                assertThat(Arrays.stream(u).max().orElseThrow()).isLessThan(1);
                // mean of 10000 uniforms: standard error 0.0029; 0.015 is about 5 standard errors
                assertThat(Arrays.stream(u).average().orElseThrow()).isCloseTo(0.5, within(0.015));
            }
        }

        @Test
        void normalIsReproducibleAndStandard() {
            Tensor a = backend.normal(new SplittableRandom(42), DType.FLOAT64, 20_000);
            Tensor b = backend.normal(new SplittableRandom(42), DType.FLOAT64, 20_000);
            assertThatTensor(a).hasShape(20_000).hasValues(b.toDoubleArray());
            SplittableRandom host = new SplittableRandom(42);
            double[] first = a.slice(0, 0, 5).toDoubleArray();
            for (double v : first) {
                assertThat(v).isEqualTo(host.nextGaussian());
            }
            double[] x = a.toDoubleArray();
            double mean = Arrays.stream(x).average().orElseThrow();
            double var = Arrays.stream(x).map(v -> (v - mean) * (v - mean)).sum() / (x.length - 1);
            // standard errors: mean 0.007, variance 0.01; tolerances are about 5 of them
            assertThat(mean).isCloseTo(0, within(0.035));
            assertThat(var).isCloseTo(1, within(0.05));
            Tensor f = backend.normal(new SplittableRandom(42), DType.FLOAT32, 2, 3);
            SplittableRandom hostF = new SplittableRandom(42);
            double[] expected = new double[6];
            Arrays.setAll(expected, i -> (float) hostF.nextGaussian());
            assertThatTensor(f).hasShape(2, 3).hasDtype(DType.FLOAT32).hasValues(expected);
        }

        @Test
        void randomTensorsRejectNonFloatDtypes() {
            assertThatThrownBy(() -> backend.uniform(new SplittableRandom(1), DType.INT32, 2))
                    .isInstanceOf(TensorException.class).hasMessageContaining("uniform").hasMessageContaining("int32");
            assertThatThrownBy(() -> backend.normal(new SplittableRandom(1), DType.BOOL, 2))
                    .isInstanceOf(TensorException.class).hasMessageContaining("normal").hasMessageContaining("bool");
            assertThatThrownBy(() -> backend.uniform(new SplittableRandom(1), DType.FLOAT32, -2))
                    .isInstanceOf(TensorException.class).hasMessageContaining("uniform").hasMessageContaining("-2");
        }

        private Tensor repeatedRows(DType dtype, double[] row, int rows) {
            double[] data = new double[rows * row.length];
            for (int r = 0; r < rows; r++) {
                System.arraycopy(row, 0, data, r * row.length, row.length);
            }
            return tensor(dtype, data, rows, row.length);
        }

        @Test
        void sampleCategoricalRejectsARowWithNoFiniteEntry() {
            double ninf = Double.NEGATIVE_INFINITY;
            Tensor logits = backend.of(new float[] {0, 1, (float) ninf, (float) ninf}, 2, 2);
            assertThatThrownBy(() -> backend.sampleCategorical(logits, new SplittableRandom(1)))
                    .isInstanceOf(TensorException.class).hasMessageContaining("sampleCategorical")
                    .hasMessageContaining("no finite entry");
        }

        @Test
        void sampleCategoricalIsReproducible() {
            for (DType dtype : FLOATS) {
                Tensor logits = repeatedRows(dtype, new double[] {0.1, -1, 2, 0.5}, 500);
                long[] a = backend.sampleCategorical(logits, new SplittableRandom(42)).toLongArray();
                long[] b = backend.sampleCategorical(logits, new SplittableRandom(42)).toLongArray();
                long[] c = backend.sampleCategorical(logits, new SplittableRandom(7)).toLongArray();
                assertThat(a).containsExactly(b);
                assertThat(c).isNotEqualTo(a);
            }
        }

        @Test
        void sampleCategoricalFrequenciesMatchSoftmax() {
            double[] row = {0.5, -1, 2, Double.NEGATIVE_INFINITY, 0};
            double[] p = ReferenceMath.softmax(row);
            int n = 20_000;
            for (DType dtype : FLOATS) {
                Tensor draws = backend.sampleCategorical(repeatedRows(dtype, row, n), new SplittableRandom(42));
                assertThatTensor(draws).hasShape(n).hasDtype(DType.INT64);
                long[] counts = new long[row.length];
                for (long k : draws.toLongArray()) {
                    assertThat(k).isBetween(0L, (long) row.length - 1);
                    counts[(int) k]++;
                }
                assertThat(counts[3]).as("draws of the -inf category").isZero();
                for (int k = 0; k < row.length; k++) {
                    // standard error of a frequency over 20000 draws is at most 0.0036; 0.015 is about 4 of them
                    assertThat(counts[k] / (double) n).as("frequency of category %d", k)
                            .isCloseTo(p[k], within(0.015));
                }
            }
        }

        @Test
        void sampleCategoricalNeverDrawsNegativeInfinityAndKeepsBatchShape() {
            double ninf = Double.NEGATIVE_INFINITY;
            Tensor logits = backend.of(new double[] {ninf, 0, ninf, 5, ninf, ninf, ninf, -3, ninf, 1, 1, ninf},
                    2, 2, 3);
            SplittableRandom rng = new SplittableRandom(42);
            for (int i = 0; i < 200; i++) {
                Tensor draw = backend.sampleCategorical(logits, rng);
                assertThatTensor(draw).hasShape(2, 2).hasDtype(DType.INT64);
                long[] d = draw.toLongArray();
                assertThat(d[0]).isEqualTo(1);
                assertThat(d[1]).isEqualTo(0);
                assertThat(d[2]).isEqualTo(1);
                assertThat(d[3]).isBetween(0L, 1L);
                draw.close();
            }
        }

        @Test
        void sampleCategoricalRejectsBadLogits() {
            Tensor ints = backend.zeros(DType.INT64, 2, 3);
            assertThatThrownBy(() -> backend.sampleCategorical(ints, new SplittableRandom(1)))
                    .isInstanceOf(TensorException.class).hasMessageContaining("sampleCategorical")
                    .hasMessageContaining("int64");
            Tensor scalar = backend.full(DType.FLOAT32, 0);
            assertThatThrownBy(() -> backend.sampleCategorical(scalar, new SplittableRandom(1)))
                    .isInstanceOf(TensorException.class).hasMessageContaining("sampleCategorical")
                    .hasMessageContaining("[]");
        }
    }

    // ---- scopes -------------------------------------------------------------------------------

    @Nested
    class Scopes {
        @Test
        void everyTensorCreatedInAScopeIsClosedWithIt() {
            List<Tensor> created = new ArrayList<>();
            TopK top;
            try (TensorScope scope = TensorScope.open()) {
                Tensor a = backend.of(new float[] {1, 2, 3, 4}, 2, 2);
                created.add(a);
                created.add(backend.of(new double[] {1}, 1));
                created.add(backend.of(new int[] {1}, 1));
                created.add(backend.of(new long[] {1}, 1));
                created.add(backend.of(new boolean[] {true}, 1));
                created.add(backend.full(DType.FLOAT32, 1, 2));
                created.add(backend.zeros(DType.INT64, 2));
                created.add(backend.arange(3));
                created.add(backend.concat(List.of(a, a), 0));
                created.add(backend.stack(List.of(a, a), 0));
                created.add(backend.uniform(new SplittableRandom(1), DType.FLOAT32, 2));
                created.add(backend.normal(new SplittableRandom(1), DType.FLOAT64, 2));
                created.add(backend.sampleCategorical(a, new SplittableRandom(1)));
                created.add(a.exp());
                created.add(a.add(a));
                created.add(a.lt(a));
                created.add(a.lt(a).where(a, a));
                created.add(a.clamp(0, 1));
                created.add(a.matmul(a));
                created.add(a.sum(0));
                created.add(a.argMax(0));
                created.add(a.reshape(4));
                created.add(a.transpose(1, 0));
                created.add(a.slice(0, 0, 1));
                created.add(a.toType(DType.FLOAT64));
                created.add(a.gather(0, backend.arange(1)));
                created.add(a.takeAlong(0, backend.zeros(DType.INT64, 1, 2)));
                top = a.topK(1, 0);
                assertThat(created).allSatisfy(t -> assertThatTensor(t).isOpen());
            }
            assertThat(created).allSatisfy(t -> assertThatTensor(t).isClosed());
            assertThatTensor(top.values()).isClosed();
            assertThatTensor(top.indices()).isClosed();
        }

        @Test
        void keptTensorsSurvive() {
            Tensor kept;
            Tensor dropped;
            try (TensorScope scope = TensorScope.open()) {
                Tensor a = backend.of(new double[] {1, 2}, 2);
                dropped = a.mul(a);
                kept = scope.keep(dropped.add(a));
            }
            assertThatTensor(dropped).isClosed();
            assertThatTensor(kept).isOpen().hasValues(2, 6);
        }

        @Test
        void nestedScopesHandKeptTensorsOutward() {
            Tensor outerOwn;
            Tensor innerOwn;
            Tensor keptFromInner;
            Tensor keptFromOuter;
            try (TensorScope outer = TensorScope.open()) {
                outerOwn = backend.full(DType.FLOAT32, 1, 2);
                try (TensorScope inner = TensorScope.open()) {
                    innerOwn = outerOwn.add(outerOwn);
                    keptFromInner = inner.keep(innerOwn.mul(outerOwn));
                }
                assertThatTensor(innerOwn).isClosed();
                assertThatTensor(keptFromInner).isOpen().hasValues(2, 2);
                assertThatTensor(outerOwn).isOpen();
                keptFromOuter = outer.keep(keptFromInner.add(outerOwn));
            }
            assertThatTensor(outerOwn).isClosed();
            assertThatTensor(keptFromInner).isClosed();
            assertThatTensor(keptFromOuter).isOpen().hasValues(3, 3);
        }

        @Test
        void tensorsCreatedBeforeAScopeAreUntouched() {
            Tensor before = backend.full(DType.FLOAT64, 4, 2);
            try (TensorScope scope = TensorScope.open()) {
                before.add(before);
            }
            assertThatTensor(before).isOpen().hasValues(4, 4);
        }
    }

    // ---- closed tensors -----------------------------------------------------------------------

    private Map<String, Function<Tensor, Object>> operations() {
        Map<String, Function<Tensor, Object>> ops = new LinkedHashMap<>();
        ops.put("toFloatArray", Tensor::toFloatArray);
        ops.put("toDoubleArray", Tensor::toDoubleArray);
        ops.put("toIntArray", Tensor::toIntArray);
        ops.put("toLongArray", Tensor::toLongArray);
        ops.put("toBooleanArray", Tensor::toBooleanArray);
        ops.put("toType", t -> t.toType(DType.FLOAT64));
        ops.put("reshape", t -> t.reshape(-1));
        ops.put("transpose", t -> t.transpose(1, 0));
        ops.put("slice", t -> t.slice(0, 0, 1));
        for (UnaryOp op : UnaryOp.values()) {
            ops.put(op.name().toLowerCase(java.util.Locale.ROOT), t -> t.unary(op));
        }
        for (BinaryOp op : BinaryOp.values()) {
            ops.put(op.name().toLowerCase(java.util.Locale.ROOT), t -> t.binary(op, backend.zeros(DType.FLOAT32, 2)));
        }
        for (CompareOp op : CompareOp.values()) {
            ops.put(op.name().toLowerCase(java.util.Locale.ROOT), t -> t.compare(op, backend.zeros(DType.FLOAT32, 2)));
        }
        ops.put("clamp", t -> t.clamp(0, 1));
        ops.put("matmul", t -> t.matmul(backend.zeros(DType.FLOAT32, 2, 2)));
        for (ReduceOp op : ReduceOp.values()) {
            String name = op == ReduceOp.LOG_SUM_EXP ? "logSumExp" : op.name().toLowerCase(java.util.Locale.ROOT);
            ops.put(name, t -> t.reduce(op, 0, false));
        }
        ops.put("argMax", t -> t.argMax(0));
        ops.put("topK", t -> t.topK(1, 0));
        ops.put("gather", t -> t.gather(0, backend.arange(1)));
        ops.put("takeAlong", t -> t.takeAlong(0, backend.zeros(DType.INT64, 1, 2)));
        return ops;
    }

    @Nested
    class UseAfterClose {
        @TestFactory
        Stream<DynamicTest> everyOperationOnAClosedTensorFailsNamingIt() {
            return operations().entrySet().stream().map(e -> DynamicTest.dynamicTest(e.getKey(), () -> {
                Tensor t = backend.of(new float[] {1, 2, 3, 4}, 2, 2);
                t.close();
                assertThatThrownBy(() -> e.getValue().apply(t)).isInstanceOf(TensorException.class)
                        .hasMessageContaining(e.getKey()).hasMessageContaining("after close");
            }));
        }

        @TestFactory
        Stream<DynamicTest> aClosedOperandFailsNamingTheOperation() {
            Map<String, Function<Tensor, Object>> ops = new LinkedHashMap<>();
            Tensor open = backend.of(new float[] {1, 2, 3, 4}, 2, 2);
            for (BinaryOp op : BinaryOp.values()) {
                ops.put(op.name().toLowerCase(java.util.Locale.ROOT), closed -> open.binary(op, closed));
            }
            for (CompareOp op : CompareOp.values()) {
                ops.put(op.name().toLowerCase(java.util.Locale.ROOT), closed -> open.compare(op, closed));
            }
            ops.put("matmul", open::matmul);
            ops.put("where", closed -> open.lt(open).where(closed, open));
            ops.put("concat", closed -> backend.concat(List.of(open, closed), 0));
            return ops.entrySet().stream().map(e -> DynamicTest.dynamicTest(e.getKey(), () -> {
                Tensor closed = backend.of(new float[] {1, 2, 3, 4}, 2, 2);
                closed.close();
                assertThatThrownBy(() -> e.getValue().apply(closed)).isInstanceOf(TensorException.class)
                        .hasMessageContaining(e.getKey()).hasMessageContaining("after close");
            }));
        }

        @Test
        void closedIndicesAndConditionsAreRejected() {
            Tensor t = backend.of(new float[] {1, 2, 3, 4}, 2, 2);
            Tensor idx = backend.arange(1);
            idx.close();
            assertThatThrownBy(() -> t.gather(0, idx)).isInstanceOf(TensorException.class)
                    .hasMessageContaining("gather").hasMessageContaining("after close");
            Tensor along = backend.zeros(DType.INT64, 1, 2);
            along.close();
            assertThatThrownBy(() -> t.takeAlong(0, along)).isInstanceOf(TensorException.class)
                    .hasMessageContaining("takeAlong").hasMessageContaining("after close");
            Tensor cond = t.lt(t);
            cond.close();
            assertThatThrownBy(() -> cond.where(t, t)).isInstanceOf(TensorException.class)
                    .hasMessageContaining("where").hasMessageContaining("after close");
        }

        @Test
        void conveniencesOnAClosedTensorFail() {
            Tensor t = backend.of(new float[] {1, 2, 3, 4}, 2, 2);
            t.close();
            List<Function<Tensor, Object>> conveniences = List.of(x -> x.expandDims(0),
                    x -> x.transposeLast(), Tensor::sumAll, x -> x.logSoftmax(1), x -> x.add(1.0), x -> x.exp(),
                    x -> x.sum(0), x -> backend.sampleCategorical(x, new SplittableRandom(1)),
                    x -> backend.stack(List.of(x), 0));
            for (Function<Tensor, Object> f : conveniences) {
                assertThatThrownBy(() -> f.apply(t)).isInstanceOf(TensorException.class)
                        .hasMessageContaining("after close");
            }
            Tensor one = backend.of(new float[] {1}, 1, 1);
            one.close();
            assertThatThrownBy(() -> one.squeeze(0)).isInstanceOf(TensorException.class)
                    .hasMessageContaining("after close");
            assertThatThrownBy(one::item).isInstanceOf(TensorException.class).hasMessageContaining("after close");
        }

        @Test
        void closeIsIdempotentAndMetadataStaysReadable() {
            Tensor t = backend.of(new float[] {1, 2}, 2);
            t.close();
            t.close();
            assertThatTensor(t).isClosed().hasShape(2).hasDtype(DType.FLOAT32);
        }
    }

    // ---- operands of another backend instance --------------------------------------------------

    @Nested
    class ForeignOperands {
        @Test
        void operandsOfAnotherBackendInstanceAreRejected() {
            try (Backend other = createOtherBackend(); TensorScope scope = TensorScope.open()) {
                assertThat(other).isNotSameAs(backend);
                Tensor mine = backend.of(new float[] {1, 2, 3, 4}, 2, 2);
                Tensor theirs = other.of(new float[] {1, 2, 3, 4}, 2, 2);
                String belongs = "belongs to another backend instance (" + other.name() + "@";
                Map<String, Function<Tensor, Object>> ops = new LinkedHashMap<>();
                ops.put("add", mine::add);
                ops.put("div", mine::div);
                ops.put("lt", mine::lt);
                ops.put("matmul", mine::matmul);
                ops.put("where", x -> mine.lt(mine).where(x, mine));
                ops.put("gather", x -> mine.gather(0, other.arange(1)));
                ops.put("takeAlong", x -> mine.takeAlong(0, other.zeros(DType.INT64, 1, 2)));
                ops.put("concat", x -> backend.concat(List.of(mine, x), 0));
                for (Map.Entry<String, Function<Tensor, Object>> e : ops.entrySet()) {
                    assertThatThrownBy(() -> e.getValue().apply(theirs)).as(e.getKey())
                            .isInstanceOf(TensorException.class).hasMessageContaining(e.getKey())
                            .hasMessageContaining(belongs);
                }
                Tensor theirCond = other.of(new boolean[] {true, false}, 2);
                assertThatThrownBy(() -> theirCond.where(mine.slice(0, 0, 1), mine.slice(0, 1, 2)))
                        .isInstanceOf(TensorException.class).hasMessageContaining("where")
                        .hasMessageContaining("belongs to another backend instance (" + backend.name() + "@");
            }
        }
    }
}
