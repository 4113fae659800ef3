package io.vqdistill.backend.nd4j;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import io.vqdistill.api.DType;
import io.vqdistill.api.ReduceOp;
import io.vqdistill.api.Tensor;
import io.vqdistill.api.TensorException;
import io.vqdistill.api.TensorScope;
import io.vqdistill.api.TopK;
import io.vqdistill.api.spi.BackendOptions;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.SplittableRandom;
import java.util.function.Function;
import java.util.stream.IntStream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * Regression tests for the ND4J 1.0.0-M2.1 defects this backend works around, in the cases the
 * api's contract test does not reach: tied and huge top-k rows, integer division that would kill the
 * JVM, BOOL gathers, integer clamps, large tied argmax, aliasing of ND4J shape arrays and views.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class Nd4jWorkaroundsTest {
    private Nd4jBackend backend;
    private TensorScope scope;

    @BeforeAll
    void start() {
        backend = (Nd4jBackend) new Nd4jBackendProvider().create(new BackendOptions("cpu", 0));
    }

    @AfterAll
    void stop() {
        backend.close();
    }

    @BeforeEach
    void open() {
        scope = TensorScope.open();
    }

    @AfterEach
    void close() {
        scope.close();
    }

    private Tensor row(DType dtype, double... v) {
        return switch (dtype) {
            case FLOAT32 -> {
                float[] f = new float[v.length];
                for (int i = 0; i < v.length; i++) {
                    f[i] = (float) v[i];
                }
                yield backend.of(f, v.length);
            }
            case INT32 -> backend.of(Arrays.stream(v).mapToInt(x -> (int) x).toArray(), v.length);
            case INT64 -> backend.of(Arrays.stream(v).mapToLong(x -> (long) x).toArray(), v.length);
            default -> backend.of(v.clone(), v.length);
        };
    }

    // ---- top-k: libnd4j's top_k repeats one index for tied values ----------------------------

    @Test
    void topKOrdersTiesByPositionAndNeverRepeatsAnIndex() {
        for (DType dtype : List.of(DType.FLOAT32, DType.FLOAT64, DType.INT32, DType.INT64)) {
            double low = switch (dtype) {
                case INT32 -> Integer.MIN_VALUE;
                case INT64 -> Long.MIN_VALUE;
                default -> Double.NEGATIVE_INFINITY;
            };
            Tensor t = row(dtype, 5, low, 5, low, 1, 5);
            try (TopK all = t.topK(6, 0); TopK two = t.topK(2, 0)) {
                assertThat(all.values().toDoubleArray()).as(dtype.label()).containsExactly(5, 5, 5, 1, low, low);
                assertThat(all.indices().toLongArray()).as(dtype.label()).containsExactly(0, 2, 5, 4, 1, 3);
                assertThat(two.indices().toLongArray()).as(dtype.label()).containsExactly(0, 2);
            }
        }
    }

    @Test
    void topKTreatsSignedZerosAsEqualAndPutsNaNFirst() {
        for (DType dtype : List.of(DType.FLOAT32, DType.FLOAT64)) {
            try (TopK top = row(dtype, -0.0, 0.0, 1, -1, Double.NaN, Double.POSITIVE_INFINITY).topK(6, 0)) {
                assertThat(top.indices().toLongArray()).as(dtype.label()).containsExactly(4, 5, 2, 0, 1, 3);
            }
        }
    }

    /**
     * Long rows with many ties whose values differ only in the low or only in the high 32 bits,
     * so both radix passes of the float64/int64 sort matter, compared with a stable Java sort.
     */
    @Test
    void topKOfLongTiedRowsMatchesAStableSortOnEveryDtype() {
        SplittableRandom rng = new SplittableRandom(7);
        int rows = 3;
        int n = 5000;
        double[] float64Pool = {1.0, Math.nextUp(1.0), Math.nextUp(Math.nextUp(1.0)), -1.0, Math.nextDown(-1.0),
            2.0, 1e300, -1e300, 0.0, Double.MIN_VALUE, -Double.MIN_VALUE, Double.NEGATIVE_INFINITY};
        long[] int64Pool = {0, 1, 2, -1, -2, 1L << 32, (1L << 32) + 1, -(1L << 32), -(1L << 32) + 1, Long.MAX_VALUE,
            Long.MIN_VALUE, (1L << 40) + 3};
        for (DType dtype : List.of(DType.FLOAT32, DType.FLOAT64, DType.INT32, DType.INT64)) {
            double[] values = new double[rows * n];
            long[] longs = new long[rows * n];
            for (int i = 0; i < values.length; i++) {
                int pick = rng.nextInt(float64Pool.length);
                values[i] = switch (dtype) {
                    case FLOAT32 -> (float) (float64Pool[pick] * 1000);
                    case INT32 -> (rng.nextInt(9) - 4) * 1_000_000 + rng.nextInt(3);
                    default -> float64Pool[pick];
                };
                longs[i] = dtype == DType.INT64 ? int64Pool[pick] : (long) values[i];
            }
            Tensor t = switch (dtype) {
                case INT64 -> backend.of(longs, rows, n);
                case INT32 -> backend.of(Arrays.stream(values).mapToInt(x -> (int) x).toArray(), rows, n);
                case FLOAT32 -> {
                    float[] f = new float[values.length];
                    for (int i = 0; i < f.length; i++) {
                        f[i] = (float) values[i];
                    }
                    yield backend.of(f, rows, n);
                }
                default -> backend.of(values, rows, n);
            };
            for (int k : new int[] {n, 7}) {
                try (TopK top = t.topK(k, 1)) {
                    long[] got = top.indices().toLongArray();
                    for (int r = 0; r < rows; r++) {
                        int base = r * n;
                        Comparator<Integer> descending = dtype == DType.INT64
                                ? Comparator.comparingLong((Integer i) -> longs[base + i]).reversed()
                                : Comparator.comparingDouble((Integer i) -> values[base + i] + 0.0).reversed();
                        long[] expected = IntStream.range(0, n).boxed().sorted(descending).limit(k)
                                .mapToLong(Integer::longValue).toArray();
                        assertThat(Arrays.copyOfRange(got, r * k, (r + 1) * k))
                                .as("%s row %d k %d", dtype.label(), r, k).containsExactly(expected);
                    }
                }
            }
        }
    }

    @Test
    void topKAlongAMiddleAxisWithTies() {
        // lanes along axis 1: [4, 4, 1] and [2, 7, 7]
        Tensor t = backend.of(new long[] {4, 2, 4, 7, 1, 7}, 1, 3, 2);
        try (TopK top = t.topK(2, 1)) {
            assertThat(top.values().shape()).containsExactly(1, 2, 2);
            assertThat(top.values().toLongArray()).containsExactly(4, 7, 4, 7);
            assertThat(top.indices().toLongArray()).containsExactly(0, 1, 1, 2);
        }
    }

    // ---- integer division: libnd4j traps (SIGFPE) on x / 0 and MIN / -1 -------------------------

    @Test
    void integerDivisionByMinusOneWrapsLikeJava() {
        Tensor i32 = backend.of(new int[] {7, -7, Integer.MIN_VALUE, 9}, 4);
        assertThat(i32.div(backend.of(new int[] {-1, -1, -1, 2}, 4)).toIntArray())
                .containsExactly(-7, 7, Integer.MIN_VALUE, 4);
        Tensor i64 = backend.of(new long[] {Long.MIN_VALUE, 5}, 2);
        assertThat(i64.div(-1).toLongArray()).containsExactly(Long.MIN_VALUE, -5);
    }

    // ---- gather of BOOL, which libnd4j's gather rejects -----------------------------------------

    @Test
    void gatherAndTakeAlongWorkOnBool() {
        Tensor b = backend.of(new boolean[] {true, false, false, false, true, true}, 2, 3);
        Tensor gathered = b.gather(1, backend.of(new long[] {2, 0, 2}, 3));
        assertThat(gathered.dtype()).isEqualTo(DType.BOOL);
        assertThat(gathered.toBooleanArray()).containsExactly(false, true, false, true, false, true);
        Tensor taken = b.takeAlong(1, backend.of(new int[] {1, 0}, 2, 1));
        assertThat(taken.dtype()).isEqualTo(DType.BOOL);
        assertThat(taken.toBooleanArray()).containsExactly(false, false);
        try (TopK top = b.toType(DType.INT32).topK(1, 1)) {
            assertThat(top.indices().toLongArray()).containsExactly(0, 1);
        }
    }

    // ---- clamp: libnd4j's clipbyvalue rejects integers and min == max ---------------------------

    @Test
    void integerClampKeepsTheIntegersWithinFractionalBounds() {
        assertThat(backend.of(new int[] {-5, 0, 5}, 3).clamp(-1.5, 2.5).toIntArray()).containsExactly(-1, 0, 2);
        Tensor extremes = backend.of(new long[] {Long.MIN_VALUE, 0, Long.MAX_VALUE}, 3);
        assertThat(extremes.clamp(-1e300, 1e300).toLongArray()).containsExactly(Long.MIN_VALUE, 0, Long.MAX_VALUE);
        assertThat(extremes.clamp(-(1L << 60), 1L << 60).toLongArray()).containsExactly(-(1L << 60), 0, 1L << 60);
        assertThat(backend.of(new int[] {1, 2, 3}, 3).clamp(2, 2).toIntArray()).containsExactly(2, 2, 2);
    }

    // ---- argMax: ties spread over the chunks of a parallel reduction --------------------------

    @Test
    void argMaxPicksTheFirstOfTiesInLargeArrays() {
        float[] data = new float[1 << 20];
        for (int i : new int[] {1_000_000, 700_001, 123}) {
            data[i] = 2;
        }
        assertThat(backend.of(data, data.length).argMax(0).item()).isEqualTo(123);
        Tensor columns = backend.of(data, 4096, 256);
        long[] first = columns.argMax(0).toLongArray();
        assertThat(first[123]).isEqualTo(0);
        assertThat(first[700_001 % 256]).isEqualTo(700_001 / 256);
        assertThat(first[1_000_000 % 256]).isEqualTo(1_000_000 / 256);
    }

    // ---- log1p: libnd4j computes log(1 + x) ----------------------------------------------------

    @Test
    void log1pIsAccurateAcrossMagnitudes() {
        double[] x = {1e-30, -1e-20, 1e-7, -3e-5, 1e-4, 0.3, -0.7, 5, 1e30};
        double[] d = backend.of(x, x.length).log1p().toDoubleArray();
        float[] f = backend.of(x, x.length).toType(DType.FLOAT32).log1p().toFloatArray();
        for (int i = 0; i < x.length; i++) {
            assertThat(d[i] / Math.log1p(x[i])).as("float64 log1p(%s)", x[i]).isCloseTo(1, within(1e-15));
            double xf = (float) x[i];
            assertThat(f[i] / Math.log1p(xf)).as("float32 log1p(%s)", xf).isCloseTo(1, within(3e-7));
        }
    }

    // ---- where: libnd4j's select costs 0.2 us per element, so large arrays take a bitwise path --

    @Test
    void whereOnLargeArraysKeepsEveryBitOnEveryDtype() {
        int n = (int) Nd4jOps.NATIVE_SELECT_MAX * 3 + 1;
        SplittableRandom rng = new SplittableRandom(3);
        double[] specials = {Double.NaN, Double.POSITIVE_INFINITY, Double.NEGATIVE_INFINITY, -0.0, 0.0,
            Double.MIN_VALUE, -Double.MAX_VALUE};
        boolean[] cond = new boolean[n];
        double[] a = new double[n];
        double[] b = new double[n];
        for (int i = 0; i < n; i++) {
            cond[i] = rng.nextBoolean();
            a[i] = i % 5 == 0 ? specials[rng.nextInt(specials.length)] : rng.nextDouble(-1e6, 1e6);
            b[i] = i % 7 == 0 ? specials[rng.nextInt(specials.length)] : rng.nextDouble(-1e6, 1e6);
        }
        Tensor c = backend.of(cond, n);
        for (DType dtype : DType.values()) {
            Tensor ta = row(dtype, a);
            Tensor tb = row(dtype, b);
            if (dtype == DType.BOOL) {
                ta = backend.of(cond, n).eq(backend.of(new boolean[] {false}, 1));
                tb = backend.of(cond, n);
            }
            Tensor picked = c.where(ta, tb);
            assertThat(picked.dtype()).isEqualTo(dtype);
            double[] got = picked.toDoubleArray();
            double[] va = ta.toDoubleArray();
            double[] vb = tb.toDoubleArray();
            for (int i = 0; i < n; i++) {
                double expected = cond[i] ? va[i] : vb[i];
                assertThat(Double.doubleToRawLongBits(got[i])).as("%s element %d", dtype.label(), i)
                        .isEqualTo(Double.doubleToRawLongBits(expected));
            }
            assertThat(c.where(ta, backend.full(dtype, 1)).toDoubleArray()[0]).isEqualTo(cond[0] ? va[0] : 1);
        }
    }

    @Test
    void whereOnLargeArraysBroadcastsAllThree() {
        int rows = 40;
        int cols = 50;
        boolean[] cond = new boolean[rows];
        double[] t = new double[cols];
        for (int i = 0; i < rows; i++) {
            cond[i] = i % 3 != 1;
        }
        Arrays.setAll(t, j -> j == 7 ? Double.NaN : j - 0.5);
        for (DType dtype : List.of(DType.FLOAT32, DType.FLOAT64, DType.INT32, DType.INT64)) {
            Tensor picked = backend.of(cond, rows, 1).where(row(dtype, t).reshape(1, cols), backend.full(dtype, -9));
            assertThat(picked.shape()).containsExactly(rows, cols);
            double[] got = picked.toDoubleArray();
            double[] tv = row(dtype, t).toDoubleArray();
            for (int i = 0; i < rows; i++) {
                for (int j = 0; j < cols; j++) {
                    double expected = cond[i] ? tv[j] : -9;
                    assertThat(Double.doubleToLongBits(got[i * cols + j])).as("%s [%d, %d]", dtype.label(), i, j)
                            .isEqualTo(Double.doubleToLongBits(expected));
                }
            }
        }
        Tensor a = backend.of(new long[] {Long.MIN_VALUE, 6, -7}, 3, 1);
        Tensor divisors = backend.of(new long[] {-1, 2, -1, 1, -1, 3, -1, 1}, 1, 8);
        Tensor big = a.add(backend.zeros(DType.INT64, 3, 1)).div(backend.full(DType.INT64, 1, 200, 3, 8)
                .mul(divisors));
        assertThat(big.shape()).containsExactly(200, 3, 8);
        assertThat(Arrays.copyOfRange(big.toLongArray(), 0, 24)).containsExactly(
                Long.MIN_VALUE, Long.MIN_VALUE / 2, Long.MIN_VALUE, Long.MIN_VALUE, Long.MIN_VALUE, Long.MIN_VALUE / 3,
                Long.MIN_VALUE, Long.MIN_VALUE, -6, 3, -6, 6, -6, 2, -6, 6, 7, -3, 7, -7, 7, -2, 7, -7);
    }

    @Test
    void largeArraysTakeTheSameWorkaroundsAsSmallOnes() {
        int n = (int) Nd4jOps.NATIVE_SELECT_MAX * 2;
        double[] x = new double[n];
        Arrays.setAll(x, i -> i % 3 == 0 ? Double.NaN : (i - n / 2) * 1e-9);
        x[1] = Double.POSITIVE_INFINITY;
        x[2] = -1;
        Tensor t = backend.of(x, n);
        double[] log1p = t.log1p().toDoubleArray();
        double[] max = t.maximum(backend.full(DType.FLOAT64, 0)).toDoubleArray();
        for (int i = 0; i < n; i++) {
            if (Double.isNaN(x[i])) {
                assertThat(log1p[i]).isNaN();
                assertThat(max[i]).isNaN();
            } else {
                assertThat(log1p[i]).as("log1p(%s)", x[i]).isEqualTo(Math.log1p(x[i]), within(Math.ulp(log1p[i]) * 4));
                assertThat(max[i]).isEqualTo(Math.max(x[i], 0));
            }
        }
        assertThat(t.clamp(-1e-7, 1e-7).toDoubleArray()[0]).isNaN();
        assertThat(t.reshape(2, n / 2).max(1).toDoubleArray()).containsExactly(Double.NaN, Double.NaN);
    }

    // ---- broadcasting: INDArray.broadcast cannot add leading axes before a length-1 axis --------

    @Test
    void broadcastingAddsLeadingAxesInFrontOfLengthOneAxes() {
        Tensor a = backend.of(new double[] {1, 2, 3}, 1, 3);
        double[] b = new double[24];
        Arrays.setAll(b, i -> 10 * i);
        Tensor sum = a.add(backend.of(b, 4, 2, 3));
        double[] expected = new double[24];
        Arrays.setAll(expected, i -> 10 * i + 1 + i % 3);
        assertThat(sum.shape()).containsExactly(4, 2, 3);
        assertThat(sum.toDoubleArray()).containsExactly(expected);
        Tensor cond = backend.of(new boolean[] {true, false, true}, 1, 3);
        assertThat(cond.where(a, backend.full(DType.FLOAT64, 0, 2, 1, 1)).toDoubleArray())
                .containsExactly(1, 0, 3, 1, 0, 3);
    }

    // ---- ownership: ND4J views share buffers and INDArray.shape() returns the array's own shape ---

    /**
     * Each result is closed at once (freeing its buffer), after which the source must still hold
     * its data and shape: no result may be a view of it, share its buffer or alias its shape.
     */
    @Test
    void closingAnyResultLeavesItsSourceIntact() {
        double[] data = {1, 2, 3, 4, 5, 6};
        Tensor t = backend.of(data, 2, 3);
        List<Function<Tensor, Object>> ops = List.of(
                x -> x.reshape(3, 2), x -> x.reshape(2, 3), x -> x.expandDims(0), x -> x.transpose(0, 1),
                x -> x.transpose(1, 0), x -> x.slice(0, 0, 2), x -> x.slice(1, 1, 2), x -> x.toType(DType.FLOAT64),
                x -> backend.concat(List.of(x), 0), x -> x.topK(3, 1), x -> x.topK(1, 0), x -> x.topK(2, -1),
                x -> x.takeAlong(1, backend.zeros(DType.INT64, 2, 3)), x -> x.gather(0, backend.arange(2)),
                x -> x.maximum(x), x -> x.clamp(Double.NEGATIVE_INFINITY, Double.POSITIVE_INFINITY),
                x -> x.matmul(backend.of(new double[] {1, 0, 0, 0, 1, 0, 0, 0, 1}, 3, 3)),
                x -> x.reduce(ReduceOp.MAX, 1, true), x -> x.logSoftmax(1));
        for (int round = 0; round < 3; round++) {
            for (Function<Tensor, Object> op : ops) {
                Object result = op.apply(t);
                if (result instanceof TopK top) {
                    top.close();
                } else {
                    ((Tensor) result).close();
                }
                assertThat(t.toDoubleArray()).containsExactly(data);
                assertThat(((Nd4jTensor) t).array().shape()).containsExactly(2, 3);
            }
            System.gc();
        }
    }
}
