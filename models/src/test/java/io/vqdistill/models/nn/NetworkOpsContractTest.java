package io.vqdistill.models.nn;

import static io.vqdistill.api.TensorAssert.assertThatTensor;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;
import static org.assertj.core.api.Assertions.within;

import io.vqdistill.api.Backend;
import io.vqdistill.api.Capability;
import io.vqdistill.api.DType;
import io.vqdistill.api.Shapes;
import io.vqdistill.api.Tensor;
import io.vqdistill.api.TensorAssert;
import io.vqdistill.api.TensorException;
import io.vqdistill.api.TensorScope;
import java.util.Arrays;
import java.util.SplittableRandom;
import java.util.stream.Stream;
import org.assertj.core.api.ThrowableAssert.ThrowingCallable;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The contract of {@link NetworkOps} every backend declaring it honours. A backend's test module
 * extends this class and returns its own backend from {@link #createBackend()}; the api runs it
 * against the fake backend, which computes with {@link ReferenceConv}.
 *
 * <p>Results are checked against {@link ReferenceConv} (double precision, PyTorch's definitions)
 * within {@link TensorAssert#FLOAT32_TOLERANCE} (mixed absolute/relative). Inputs are seeded random
 * values exact in float32, weights scaled like PyTorch's initialisation, so that sums stay of order
 * one. Every test runs inside a {@link TensorScope}; the {@link ConvWeights} it makes are closed by
 * the test itself. What operations do with weights that were closed is not part of the contract.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
public abstract class NetworkOpsContractTest {
    /** The tolerance of every value comparison: float32 results against double-precision loops. */
    protected static final double TOLERANCE = TensorAssert.FLOAT32_TOLERANCE;

    private static final long SEED = 20240611L;

    /** The backend under test, created once per test class. */
    protected Backend backend;
    /** Its {@link NetworkOps} capability. */
    protected NetworkOps ops;

    private TensorScope testScope;

    /** Creates the backend under test; called once per test class. It must declare {@link NetworkOps}. */
    protected abstract Backend createBackend();

    @BeforeAll
    void startBackend() {
        backend = createBackend();
        ops = backend.capability(NetworkOps.class).orElseThrow(() -> new AssertionError("backend " + backend.name()
                + " does not declare the NetworkOps capability, so the network contract cannot run; it declares "
                + backend.capabilities().stream().map(Capability::capabilityName).toList()));
    }

    @AfterAll
    void stopBackend() {
        if (backend != null) {
            backend.close();
        }
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

    /** A fixed-seed generator, so that every run and every backend sees the same inputs. */
    protected static SplittableRandom rng() {
        return new SplittableRandom(SEED);
    }

    /** {@code n} values uniform in [-bound, bound), rounded to float so that they serve as reference input. */
    protected static double[] random(SplittableRandom rng, int n, double bound) {
        double[] v = new double[n];
        for (int i = 0; i < n; i++) {
            v[i] = (float) (bound * (2 * rng.nextDouble() - 1));
        }
        return v;
    }

    /** A FLOAT32 tensor of the backend holding {@code values}. */
    protected Tensor floats(double[] values, long... shape) {
        float[] f = new float[values.length];
        for (int i = 0; i < f.length; i++) {
            f[i] = (float) values[i];
        }
        return backend.of(f, shape);
    }

    private static int size(long... shape) {
        return Math.toIntExact(Shapes.size(shape));
    }

    /** Asserts that {@code call} throws a TensorException naming {@code op} and mentioning each fragment. */
    private static void assertRejected(ThrowingCallable call, String op, String... mentions) {
        Throwable thrown = catchThrowable(call);
        assertThat(thrown).as("%s with invalid arguments must throw a TensorException", op)
                .isInstanceOf(TensorException.class);
        assertThat(thrown.getMessage()).as("message of the TensorException").contains(op);
        for (String m : mentions) {
            assertThat(thrown.getMessage()).as("message of the TensorException").containsIgnoringCase(m);
        }
    }

    /** One convolution: input [batch, in, h, w], weight [out, in, kh, kw]. */
    record ConvCase(String name, int batch, int in, int out, int h, int w, int kh, int kw, int stride, int padH,
            int padW, boolean bias) {
        long[] input() {
            return new long[] {batch, in, h, w};
        }

        long[] weight() {
            return new long[] {out, in, kh, kw};
        }

        @Override
        public String toString() {
            return name + ": [" + batch + ", " + in + ", " + h + ", " + w + "] * " + kh + "x" + kw + " -> " + out
                    + ", stride " + stride + ", padding " + padH + "/" + padW + (bias ? ", bias" : ", no bias");
        }
    }

    /** One transposed convolution: input [batch, in, h, w], weight [in, out, kh, kw]. */
    record TransposedCase(String name, int batch, int in, int out, int h, int w, int kh, int kw, int stride, int pad,
            int outputPadding, boolean bias) {
        long[] input() {
            return new long[] {batch, in, h, w};
        }

        long[] weight() {
            return new long[] {in, out, kh, kw};
        }

        @Override
        public String toString() {
            return name + ": [" + batch + ", " + in + ", " + h + ", " + w + "] *T " + kh + "x" + kw + " -> " + out
                    + ", stride " + stride + ", padding " + pad + ", output padding " + outputPadding
                    + (bias ? ", bias" : ", no bias");
        }
    }

    static Stream<ConvCase> conv2dCases() {
        return Stream.of(
                new ConvCase("1x1 projection", 2, 3, 4, 5, 6, 1, 1, 1, 0, 0, true),
                new ConvCase("3x3 same padding", 2, 3, 5, 9, 9, 3, 3, 1, 1, 1, true),
                new ConvCase("3x3 stride 2 on odd sides", 1, 2, 3, 9, 7, 3, 3, 2, 1, 1, false),
                new ConvCase("4x4 stride 2: 28 to 14", 2, 1, 4, 28, 28, 4, 4, 2, 1, 1, true),
                new ConvCase("4x4 stride 2: 14 to 7", 1, 4, 3, 14, 14, 4, 4, 2, 1, 1, true),
                new ConvCase("4x4 stride 2: 7 to 3", 1, 3, 2, 7, 7, 4, 4, 2, 1, 1, false),
                new ConvCase("7x7 padding 3", 1, 2, 3, 10, 12, 7, 7, 1, 3, 3, true),
                new ConvCase("PixelCNN vertical 4x7", 2, 4, 8, 10, 13, 4, 7, 1, 0, 0, true),
                new ConvCase("PixelCNN horizontal 1x4", 2, 4, 8, 7, 10, 1, 4, 1, 0, 0, true),
                new ConvCase("4x7 padding 3/2", 1, 2, 3, 6, 5, 4, 7, 1, 3, 2, false),
                new ConvCase("3x3 padding 0/2", 1, 2, 2, 6, 6, 3, 3, 1, 0, 2, true),
                new ConvCase("3x3 stride 2 padding 2/3", 2, 2, 3, 8, 9, 3, 3, 2, 2, 3, true),
                new ConvCase("5x5 stride 2 unpadded, batch 3", 3, 3, 2, 11, 12, 5, 5, 2, 0, 0, true),
                new ConvCase("1x4 stride 2 padding 0/2", 1, 2, 2, 5, 8, 1, 4, 2, 0, 2, false),
                new ConvCase("kernel covering the input", 2, 3, 4, 4, 4, 4, 4, 1, 0, 0, true),
                new ConvCase("3x3 stride 3 padding 1/0", 1, 2, 2, 10, 11, 3, 3, 3, 1, 0, true));
    }

    static Stream<TransposedCase> transposedCases() {
        return Stream.of(
                new TransposedCase("k3 s2 p1: 4 to 7", 2, 4, 3, 4, 4, 3, 3, 2, 1, 0, true),
                new TransposedCase("k4 s2 p1: 7 to 14", 2, 3, 2, 7, 7, 4, 4, 2, 1, 0, true),
                new TransposedCase("k4 s2 p1: 14 to 28", 1, 2, 1, 14, 14, 4, 4, 2, 1, 0, true),
                new TransposedCase("k3 s2 p1 op1: 7 to 14", 1, 3, 2, 7, 7, 3, 3, 2, 1, 1, true),
                new TransposedCase("k4 s2 p1: 2 to 4", 2, 4, 4, 2, 2, 4, 4, 2, 1, 0, false),
                new TransposedCase("k4 s2 p1: 4 to 8", 1, 3, 2, 4, 4, 4, 4, 2, 1, 0, true),
                new TransposedCase("k3 s2 p1: 2 to 3", 1, 2, 2, 2, 2, 3, 3, 2, 1, 0, false),
                new TransposedCase("k3 s2 p0 op1", 1, 2, 3, 3, 4, 3, 3, 2, 0, 1, true),
                new TransposedCase("k4 s2 p0 op1: output padding past the kernel", 1, 2, 2, 3, 3, 4, 4, 2, 0, 1, true),
                new TransposedCase("k4 s2 p1 op1", 1, 2, 3, 4, 5, 4, 4, 2, 1, 1, false),
                new TransposedCase("k4 s2 p0", 1, 2, 2, 3, 3, 4, 4, 2, 0, 0, false),
                new TransposedCase("k3 s2 p2: padding cropping more than the overhang", 1, 2, 2, 4, 4, 3, 3, 2, 2, 0,
                        true),
                new TransposedCase("k3 s1 p1 keeps the size", 2, 3, 2, 5, 6, 3, 3, 1, 1, 0, true),
                new TransposedCase("k3 s1 p0 grows by 2", 1, 2, 3, 5, 5, 3, 3, 1, 0, 0, true),
                new TransposedCase("k4 s1 p0", 1, 2, 2, 3, 4, 4, 4, 1, 0, 0, false),
                new TransposedCase("non-square 2x3 kernel s2 op1", 1, 2, 3, 3, 4, 2, 3, 2, 0, 1, true),
                new TransposedCase("k5 s3 p1 op2", 1, 2, 2, 3, 3, 5, 5, 3, 1, 2, true),
                new TransposedCase("k1 s2 op1 doubles the size", 2, 3, 2, 3, 3, 1, 1, 2, 0, 1, true));
    }

    // ---- capability ---------------------------------------------------------------------------

    @Test
    void networkOpsAreDeclaredAmongTheCapabilities() {
        assertThat(ops.capabilityName()).isNotBlank();
        assertThat(backend.capabilities()).contains(ops);
    }

    // ---- conv2d -------------------------------------------------------------------------------

    /** conv2d against {@link ReferenceConv#conv2d}. */
    @Nested
    class Conv2d {
        @ParameterizedTest(name = "{0}")
        @MethodSource("io.vqdistill.models.nn.NetworkOpsContractTest#conv2dCases")
        void matchesTheReference(ConvCase c) {
            SplittableRandom rng = rng();
            double bound = 1 / Math.sqrt((double) c.in() * c.kh() * c.kw());
            double[] x = random(rng, size(c.input()), 1);
            double[] w = random(rng, size(c.weight()), bound);
            double[] b = c.bias() ? random(rng, c.out(), 1) : null;
            long[] expectedShape = ReferenceConv.conv2dShape(c.input(), c.weight(), c.stride(), c.padH(), c.padW());
            double[] expected = ReferenceConv.conv2d(x, c.input(), w, c.weight(), b, c.stride(), c.padH(), c.padW());
            Tensor input = floats(x, c.input());
            try (ConvWeights weights = ops.convWeights(floats(w, c.weight()), b == null ? null : floats(b, c.out()))) {
                Tensor y = ops.conv2d(input, weights, c.stride(), c.padH(), c.padW());
                assertThat(y.backend()).isSameAs(backend);
                assertThatTensor(y).hasDtype(DType.FLOAT32).hasShape(expectedShape).isCloseTo(expected, TOLERANCE);
            }
            assertThatTensor(input).as("the input is left unchanged").isCloseTo(x, 0);
        }

        @Test
        void computesCrossCorrelationNotConvolution() {
            // y[i, j] = x[i, j] + 2 x[i, j + 1] + 0.5; a flipped kernel would give 2 x[i + 1, j] + x[i + 1, j + 1]
            Tensor x = floats(new double[] {1, 2, 3, 4, 5, 6, 7, 8, 9}, 1, 1, 3, 3);
            try (ConvWeights w = ops.convWeights(floats(new double[] {1, 2, 0, 0}, 1, 1, 2, 2),
                    floats(new double[] {0.5}, 1))) {
                assertThatTensor(ops.conv2d(x, w, 1, 0, 0)).hasShape(1, 1, 2, 2).isCloseTo(5.5, 8.5, 14.5, 17.5);
            }
        }

        @Test
        void padsWithZerosAndStridesFromTheTopLeftCorner() {
            // a 3x3 box sum of ones over a 4x4 of ones, padded by 1, every second position
            double[] ones = new double[16];
            Arrays.fill(ones, 1);
            double[] box = new double[9];
            Arrays.fill(box, 1);
            try (ConvWeights w = ops.convWeights(floats(box, 1, 1, 3, 3), null)) {
                assertThatTensor(ops.conv2d(floats(ones, 1, 1, 4, 4), w, 2, 1, 1)).hasShape(1, 1, 2, 2)
                        .isCloseTo(4, 6, 6, 9);
                assertThatTensor(ops.conv2d(floats(ones, 1, 1, 4, 4), w, 1, 0, 1)).hasShape(1, 1, 2, 4)
                        .isCloseTo(6, 9, 9, 6, 6, 9, 9, 6);
            }
        }

        @Test
        void anEmptyBatchGivesAnEmptyResult() {
            try (ConvWeights w = ops.convWeights(floats(random(rng(), 4 * 3 * 3 * 3, 0.2), 4, 3, 3, 3), null)) {
                assertThatTensor(ops.conv2d(backend.zeros(DType.FLOAT32, 0, 3, 5, 5), w, 1, 1, 1))
                        .hasDtype(DType.FLOAT32).hasShape(0, 4, 5, 5);
            }
        }
    }

    // ---- convTranspose2d ----------------------------------------------------------------------

    /** convTranspose2d against {@link ReferenceConv#convTranspose2d}. */
    @Nested
    class ConvTranspose2d {
        @ParameterizedTest(name = "{0}")
        @MethodSource("io.vqdistill.models.nn.NetworkOpsContractTest#transposedCases")
        void matchesTheReference(TransposedCase c) {
            SplittableRandom rng = rng();
            double bound = 1 / Math.sqrt((double) c.in() * c.kh() * c.kw());
            double[] x = random(rng, size(c.input()), 1);
            double[] w = random(rng, size(c.weight()), bound);
            double[] b = c.bias() ? random(rng, c.out(), 1) : null;
            long[] expectedShape = ReferenceConv.convTranspose2dShape(c.input(), c.weight(), c.stride(), c.pad(),
                    c.outputPadding());
            double[] expected = ReferenceConv.convTranspose2d(x, c.input(), w, c.weight(), b, c.stride(), c.pad(),
                    c.outputPadding());
            Tensor input = floats(x, c.input());
            try (ConvWeights weights = ops.transposedConvWeights(floats(w, c.weight()),
                    b == null ? null : floats(b, c.out()))) {
                Tensor y = ops.convTranspose2d(input, weights, c.stride(), c.pad(), c.outputPadding());
                assertThat(y.backend()).isSameAs(backend);
                assertThatTensor(y).hasDtype(DType.FLOAT32).hasShape(expectedShape).isCloseTo(expected, TOLERANCE);
            }
            assertThatTensor(input).as("the input is left unchanged").isCloseTo(x, 0);
        }

        @Test
        void scattersTheKernelUnflippedAtStrideSteps() {
            // x = [1, 2], w = [1, 10]
            Tensor x = floats(new double[] {1, 2}, 1, 1, 1, 2);
            try (ConvWeights w = ops.transposedConvWeights(floats(new double[] {1, 10}, 1, 1, 1, 2), null)) {
                assertThatTensor(ops.convTranspose2d(x, w, 1, 0, 0)).hasShape(1, 1, 1, 3).isCloseTo(1, 12, 20);
                assertThatTensor(ops.convTranspose2d(x, w, 2, 0, 0)).hasShape(1, 1, 1, 4).isCloseTo(1, 10, 2, 20);
            }
        }

        @Test
        void paddingCropsEveryEdgeAndOutputPaddingAppendsBiasOnlyRowsAndColumns() {
            Tensor x = floats(new double[] {1, 2}, 1, 1, 1, 2);
            // a 3x2 kernel whose middle row is [1, 10]: the full output is zeros, [1, 10, 2, 20], zeros
            try (ConvWeights w = ops.transposedConvWeights(floats(new double[] {0, 0, 1, 10, 0, 0}, 1, 1, 3, 2),
                    floats(new double[] {0.5}, 1))) {
                assertThatTensor(ops.convTranspose2d(x, w, 2, 1, 0)).hasShape(1, 1, 1, 2).isCloseTo(10.5, 2.5);
            }
            try (ConvWeights w = ops.transposedConvWeights(floats(new double[] {1, 10}, 1, 1, 1, 2),
                    floats(new double[] {0.5}, 1))) {
                assertThatTensor(ops.convTranspose2d(x, w, 2, 0, 1)).hasShape(1, 1, 2, 5)
                        .isCloseTo(1.5, 10.5, 2.5, 20.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5);
            }
        }

        @Test
        void isTheAdjointOfConv2d() {
            // <conv2d(x, W), y> = <x, convTranspose2d(y, W)> with the same array as both weights and no bias
            SplittableRandom rng = rng();
            long[] xs = {2, 3, 9, 9};
            long[] ws = {4, 3, 4, 4};
            double[] x = random(rng, size(xs), 1);
            double[] w = random(rng, size(ws), 0.2);
            long[] ys = ReferenceConv.conv2dShape(xs, ws, 2, 1, 1);
            double[] y = random(rng, size(ys), 1);
            try (ConvWeights conv = ops.convWeights(floats(w, ws), null);
                    ConvWeights transposed = ops.transposedConvWeights(floats(w, ws), null)) {
                // 9 -> 4 loses a row and column, which output padding 1 gives back
                Tensor forward = ops.conv2d(floats(x, xs), conv, 2, 1, 1);
                Tensor backward = ops.convTranspose2d(floats(y, ys), transposed, 2, 1, 1);
                assertThatTensor(backward).hasShape(xs);
                double left = dot(forward.toDoubleArray(), y);
                double right = dot(x, backward.toDoubleArray());
                assertThat(left).isCloseTo(right, within(1e-4 * Math.max(1, Math.abs(right))));
            }
        }

        @Test
        void anEmptyBatchGivesAnEmptyResult() {
            try (ConvWeights w = ops.transposedConvWeights(floats(random(rng(), 3 * 2 * 4 * 4, 0.2), 3, 2, 4, 4),
                    null)) {
                assertThatTensor(ops.convTranspose2d(backend.zeros(DType.FLOAT32, 0, 3, 7, 7), w, 2, 1, 0))
                        .hasDtype(DType.FLOAT32).hasShape(0, 2, 14, 14);
            }
        }

        private static double dot(double[] a, double[] b) {
            double s = 0;
            for (int i = 0; i < a.length; i++) {
                s += a[i] * b[i];
            }
            return s;
        }
    }

    // ---- weights ------------------------------------------------------------------------------

    /** What {@link ConvWeights} report and how long they live. */
    @Nested
    class Weights {
        @Test
        void convWeightsReportTheirLayout() {
            try (ConvWeights w = ops.convWeights(backend.zeros(DType.FLOAT32, 5, 3, 4, 7),
                    backend.zeros(DType.FLOAT32, 5))) {
                assertThat(w.inChannels()).isEqualTo(3);
                assertThat(w.outChannels()).isEqualTo(5);
                assertThat(w.kernelHeight()).isEqualTo(4);
                assertThat(w.kernelWidth()).isEqualTo(7);
                assertThat(w.transposed()).isFalse();
            }
        }

        @Test
        void transposedConvWeightsReportTheirLayout() {
            try (ConvWeights w = ops.transposedConvWeights(backend.zeros(DType.FLOAT32, 3, 5, 2, 4), null)) {
                assertThat(w.inChannels()).isEqualTo(3);
                assertThat(w.outChannels()).isEqualTo(5);
                assertThat(w.kernelHeight()).isEqualTo(2);
                assertThat(w.kernelWidth()).isEqualTo(4);
                assertThat(w.transposed()).isTrue();
            }
        }

        @Test
        void weightsOutliveTheTensorsTheyWereMadeFrom() {
            SplittableRandom rng = rng();
            long[] xs = {1, 2, 6, 6};
            long[] ws = {3, 2, 3, 3};
            double[] x = random(rng, size(xs), 1);
            double[] w = random(rng, size(ws), 0.25);
            double[] b = random(rng, 3, 1);
            Tensor weight = floats(w, ws);
            Tensor bias = floats(b, 3);
            Tensor tWeight = floats(w, ws);
            try (ConvWeights conv = ops.convWeights(weight, bias);
                    ConvWeights transposed = ops.transposedConvWeights(tWeight, null)) {
                weight.close();
                bias.close();
                tWeight.close();
                assertThatTensor(ops.conv2d(floats(x, xs), conv, 1, 1, 1))
                        .isCloseTo(ReferenceConv.conv2d(x, xs, w, ws, b, 1, 1, 1), TOLERANCE);
                long[] ts = {1, 3, 4, 4};
                double[] t = random(rng, size(ts), 1);
                assertThatTensor(ops.convTranspose2d(floats(t, ts), transposed, 2, 1, 1))
                        .isCloseTo(ReferenceConv.convTranspose2d(t, ts, w, ws, null, 2, 1, 1), TOLERANCE);
            }
        }

        @Test
        void oneWeightsServeManyCallsWithOtherSizesAndSettings() {
            SplittableRandom rng = rng();
            long[] ws = {4, 2, 3, 3};
            double[] w = random(rng, size(ws), 0.25);
            double[] b = random(rng, 4, 1);
            try (ConvWeights conv = ops.convWeights(floats(w, ws), floats(b, 4))) {
                for (long[] xs : new long[][] {{1, 2, 5, 5}, {3, 2, 8, 6}, {2, 2, 3, 9}}) {
                    double[] x = random(rng, size(xs), 1);
                    Tensor input = floats(x, xs);
                    assertThatTensor(ops.conv2d(input, conv, 1, 1, 1))
                            .isCloseTo(ReferenceConv.conv2d(x, xs, w, ws, b, 1, 1, 1), TOLERANCE);
                    assertThatTensor(ops.conv2d(input, conv, 2, 0, 1))
                            .isCloseTo(ReferenceConv.conv2d(x, xs, w, ws, b, 2, 0, 1), TOLERANCE);
                }
            }
        }
    }

    // ---- activations --------------------------------------------------------------------------

    /** The elementwise activations against {@link ReferenceConv#activation(Activation, double)}. */
    @Nested
    class Activations {
        @ParameterizedTest
        @EnumSource(Activation.class)
        void matchTheReferenceOnRandomInput(Activation a) {
            long[] shape = {2, 3, 4, 5};
            double[] x = random(rng(), size(shape), 8);
            Tensor input = floats(x, shape);
            Tensor y = ops.activation(a, input);
            assertThat(y.backend()).isSameAs(backend);
            assertThatTensor(y).hasDtype(DType.FLOAT32).hasShape(shape)
                    .isCloseTo(ReferenceConv.activation(a, x), TOLERANCE);
            assertThatTensor(input).as("the input is left unchanged").isCloseTo(x, 0);
        }

        @ParameterizedTest
        @EnumSource(Activation.class)
        void keepAnyShape(Activation a) {
            for (long[] shape : new long[][] {{}, {7}, {1, 2, 1, 3, 2}, {0, 3}}) {
                double[] x = random(rng(), size(shape), 3);
                assertThatTensor(ops.activation(a, floats(x, shape))).hasDtype(DType.FLOAT32).hasShape(shape)
                        .isCloseTo(ReferenceConv.activation(a, x), TOLERANCE);
            }
        }

        @ParameterizedTest
        @EnumSource(Activation.class)
        void saturateOnExtremeInputWithoutNaN(Activation a) {
            double[] x = {Double.NEGATIVE_INFINITY, -3e38, -1e4, -100, -50, -20, -1e-30, 0, 1e-30, 20, 50, 100, 1e4,
                3e38, Double.POSITIVE_INFINITY};
            double[] y = ops.activation(a, floats(x, x.length)).toDoubleArray();
            assertThat(y).hasSize(x.length);
            for (int i = 0; i < x.length; i++) {
                assertThat(y[i]).as("%s(%s)", a, x[i]).isNotNaN();
                double expected = ReferenceConv.activation(a, x[i]);
                assertThat(TensorAssert.isClose(y[i], expected, TOLERANCE))
                        .as("%s(%s) = %s, expected %s", a, x[i], y[i], expected).isTrue();
            }
        }

        @Test
        void sigmoidAndTanhReachTheirBounds() {
            double[] s = ops.activation(Activation.SIGMOID, floats(new double[] {-100, 100}, 2)).toDoubleArray();
            assertThat(s[0]).isCloseTo(0, within(1e-30));
            assertThat(s[1]).isEqualTo(1);
            assertThatTensor(ops.activation(Activation.TANH, floats(new double[] {-50, 50}, 2))).hasValues(-1, 1);
            assertThatTensor(ops.activation(Activation.RELU, floats(new double[] {-100, -0.5, 0, 0.5}, 4)))
                    .hasValues(0, 0, 0, 0.5);
        }
    }

    // ---- argument checks ----------------------------------------------------------------------

    /** Every wrong shape, dtype or setting is a TensorException naming the operation and the shapes. */
    @Nested
    class Errors {
        private ConvWeights conv;
        private ConvWeights transposed;

        @BeforeEach
        void makeWeights() {
            conv = ops.convWeights(floats(random(rng(), 4 * 3 * 3 * 3, 0.2), 4, 3, 3, 3), floats(new double[4], 4));
            transposed = ops.transposedConvWeights(floats(random(rng(), 3 * 2 * 4 * 4, 0.2), 3, 2, 4, 4), null);
        }

        @AfterEach
        void closeWeights() {
            conv.close();
            transposed.close();
        }

        private Tensor input(long... shape) {
            return backend.zeros(DType.FLOAT32, shape);
        }

        @Test
        void convWeightsRejectWrongDtypes() {
            assertRejected(() -> ops.convWeights(backend.zeros(DType.FLOAT64, 4, 3, 3, 3), null), "convWeights",
                    "[4, 3, 3, 3]", "float64");
            assertRejected(() -> ops.convWeights(backend.zeros(DType.INT32, 4, 3, 3, 3), null), "convWeights",
                    "[4, 3, 3, 3]", "int32");
            assertRejected(() -> ops.convWeights(input(4, 3, 3, 3), backend.zeros(DType.FLOAT64, 4)), "convWeights",
                    "[4]", "float64");
        }

        @Test
        void convWeightsRejectWrongShapes() {
            assertRejected(() -> ops.convWeights(input(4, 3, 3), null), "convWeights", "[4, 3, 3]");
            assertRejected(() -> ops.convWeights(input(1, 4, 3, 3, 3), null), "convWeights", "[1, 4, 3, 3, 3]");
            assertRejected(() -> ops.convWeights(input(4, 3, 3, 3), input(3)), "convWeights", "[4, 3, 3, 3]", "[3]");
            assertRejected(() -> ops.convWeights(input(4, 3, 3, 3), input(1, 4)), "convWeights", "[4, 3, 3, 3]",
                    "[1, 4]");
        }

        @Test
        void transposedConvWeightsRejectWrongDtypesAndShapes() {
            assertRejected(() -> ops.transposedConvWeights(backend.zeros(DType.FLOAT64, 3, 2, 4, 4), null),
                    "transposedConvWeights", "[3, 2, 4, 4]", "float64");
            assertRejected(() -> ops.transposedConvWeights(input(3, 2, 4), null), "transposedConvWeights",
                    "[3, 2, 4]");
            // the bias has one value per output channel, the second axis of a transposed weight
            assertRejected(() -> ops.transposedConvWeights(input(3, 2, 4, 4), input(3)), "transposedConvWeights",
                    "[3, 2, 4, 4]", "[3]");
            assertRejected(() -> ops.transposedConvWeights(input(3, 2, 4, 4), backend.zeros(DType.INT64, 2)),
                    "transposedConvWeights", "[2]", "int64");
        }

        @Test
        void conv2dRejectsAWrongChannelCount() {
            assertRejected(() -> ops.conv2d(input(2, 4, 8, 8), conv, 1, 1, 1), "conv2d", "[2, 4, 8, 8]");
        }

        @Test
        void conv2dRejectsInputThatIsNot4D() {
            assertRejected(() -> ops.conv2d(input(3, 8, 8), conv, 1, 1, 1), "conv2d", "[3, 8, 8]");
            assertRejected(() -> ops.conv2d(input(1, 1, 3, 8, 8), conv, 1, 1, 1), "conv2d", "[1, 1, 3, 8, 8]");
        }

        @Test
        void conv2dRejectsInputThatIsNotFloat32() {
            assertRejected(() -> ops.conv2d(backend.zeros(DType.FLOAT64, 2, 3, 8, 8), conv, 1, 1, 1), "conv2d",
                    "[2, 3, 8, 8]", "float64");
            assertRejected(() -> ops.conv2d(backend.zeros(DType.INT32, 2, 3, 8, 8), conv, 1, 1, 1), "conv2d",
                    "[2, 3, 8, 8]", "int32");
        }

        @Test
        void conv2dRejectsTransposedWeights() {
            assertRejected(() -> ops.conv2d(input(2, 3, 8, 8), transposed, 1, 1, 1), "conv2d", "[2, 3, 8, 8]",
                    "transposed");
        }

        @Test
        void conv2dRejectsNonPositiveStrideAndNegativePadding() {
            assertRejected(() -> ops.conv2d(input(2, 3, 8, 8), conv, 0, 1, 1), "conv2d", "[2, 3, 8, 8]", "stride");
            assertRejected(() -> ops.conv2d(input(2, 3, 8, 8), conv, -1, 1, 1), "conv2d", "[2, 3, 8, 8]", "stride");
            assertRejected(() -> ops.conv2d(input(2, 3, 8, 8), conv, 1, -1, 1), "conv2d", "[2, 3, 8, 8]", "padding");
            assertRejected(() -> ops.conv2d(input(2, 3, 8, 8), conv, 1, 1, -2), "conv2d", "[2, 3, 8, 8]", "padding");
        }

        @Test
        void conv2dRejectsAKernelLargerThanThePaddedInput() {
            assertRejected(() -> ops.conv2d(input(1, 3, 2, 8), conv, 1, 0, 0), "conv2d", "[1, 3, 2, 8]");
            assertRejected(() -> ops.conv2d(input(1, 3, 8, 1), conv, 1, 0, 0), "conv2d", "[1, 3, 8, 1]");
        }

        @Test
        void conv2dRejectsAClosedInput() {
            Tensor x = input(2, 3, 8, 8);
            x.close();
            assertRejected(() -> ops.conv2d(x, conv, 1, 1, 1), "conv2d", "closed");
        }

        @Test
        void convTranspose2dRejectsAWrongChannelCountRankOrDtype() {
            assertRejected(() -> ops.convTranspose2d(input(2, 2, 4, 4), transposed, 2, 1, 0), "convTranspose2d",
                    "[2, 2, 4, 4]");
            assertRejected(() -> ops.convTranspose2d(input(3, 4, 4), transposed, 2, 1, 0), "convTranspose2d",
                    "[3, 4, 4]");
            assertRejected(() -> ops.convTranspose2d(backend.zeros(DType.FLOAT64, 2, 3, 4, 4), transposed, 2, 1, 0),
                    "convTranspose2d", "[2, 3, 4, 4]", "float64");
        }

        @Test
        void convTranspose2dRejectsConvolutionWeights() {
            assertRejected(() -> ops.convTranspose2d(input(2, 3, 4, 4), conv, 2, 1, 0), "convTranspose2d",
                    "[2, 3, 4, 4]", "transposed");
        }

        @Test
        void convTranspose2dRejectsInvalidStridePaddingAndOutputPadding() {
            assertRejected(() -> ops.convTranspose2d(input(1, 3, 4, 4), transposed, 0, 1, 0), "convTranspose2d",
                    "[1, 3, 4, 4]", "stride");
            assertRejected(() -> ops.convTranspose2d(input(1, 3, 4, 4), transposed, -2, 1, 0), "convTranspose2d",
                    "[1, 3, 4, 4]", "stride");
            assertRejected(() -> ops.convTranspose2d(input(1, 3, 4, 4), transposed, 2, -1, 0), "convTranspose2d",
                    "[1, 3, 4, 4]", "padding");
            assertRejected(() -> ops.convTranspose2d(input(1, 3, 4, 4), transposed, 2, 1, -1), "convTranspose2d",
                    "[1, 3, 4, 4]", "output padding");
            // PyTorch requires output padding < stride
            assertRejected(() -> ops.convTranspose2d(input(1, 3, 4, 4), transposed, 2, 1, 2), "convTranspose2d",
                    "[1, 3, 4, 4]", "output padding");
            assertRejected(() -> ops.convTranspose2d(input(1, 3, 4, 4), transposed, 1, 1, 1), "convTranspose2d",
                    "[1, 3, 4, 4]", "output padding");
        }

        @Test
        void convTranspose2dRejectsAnEmptyOutput() {
            // (1 - 1) * 1 - 2 * 2 + 4 = 0
            assertRejected(() -> ops.convTranspose2d(input(1, 3, 1, 1), transposed, 1, 2, 0), "convTranspose2d",
                    "[1, 3, 1, 1]");
        }

        @Test
        void weightsMadeElsewhereAreRejected() {
            ConvWeights foreign = new ConvWeights() {
                @Override
                public int inChannels() {
                    return 3;
                }

                @Override
                public int outChannels() {
                    return 4;
                }

                @Override
                public int kernelHeight() {
                    return 3;
                }

                @Override
                public int kernelWidth() {
                    return 3;
                }

                @Override
                public boolean transposed() {
                    return false;
                }

                @Override
                public void close() {
                    // owns nothing
                }
            };
            assertRejected(() -> ops.conv2d(input(1, 3, 8, 8), foreign, 1, 1, 1), "conv2d", "[1, 3, 8, 8]");
        }

        @Test
        void activationRejectsTensorsThatAreNotFloat32() {
            assertRejected(() -> ops.activation(Activation.RELU, backend.zeros(DType.FLOAT64, 2, 3)), "activation",
                    "[2, 3]", "float64");
            assertRejected(() -> ops.activation(Activation.SIGMOID, backend.zeros(DType.INT64, 4)), "activation",
                    "[4]", "int64");
        }
    }
}
