package io.vqdistill.backend.nd4j;

import static io.vqdistill.api.TensorAssert.assertThatTensor;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.vqdistill.api.DType;
import io.vqdistill.api.Shapes;
import io.vqdistill.api.Tensor;
import io.vqdistill.api.TensorAssert;
import io.vqdistill.api.TensorException;
import io.vqdistill.api.TensorScope;
import io.vqdistill.api.spi.BackendOptions;
import io.vqdistill.models.nn.Activation;
import io.vqdistill.models.nn.ConvWeights;
import io.vqdistill.models.nn.NetworkOps;
import io.vqdistill.models.nn.ReferenceConv;
import java.util.SplittableRandom;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * What the api's network contract does not reach in the ND4J implementation: the three paths of the
 * transposed convolution (libnd4j's deconv2d has no output padding) at the channel counts and sides
 * of a decoder, the weight layouts libnd4j reads, the life of {@link ConvWeights}, and operands of
 * another backend instance.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class Nd4jNetworkOpsTest {
    private Nd4jBackend backend;
    private NetworkOps ops;
    private TensorScope scope;

    @BeforeAll
    void start() {
        backend = (Nd4jBackend) new Nd4jBackendProvider().create(new BackendOptions("cpu", 0));
        ops = backend.capability(NetworkOps.class).orElseThrow();
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

    private static double[] random(SplittableRandom rng, long n, double bound) {
        double[] v = new double[Math.toIntExact(n)];
        for (int i = 0; i < v.length; i++) {
            v[i] = (float) (bound * (2 * rng.nextDouble() - 1));
        }
        return v;
    }

    private Tensor floats(double[] values, long... shape) {
        float[] f = new float[values.length];
        for (int i = 0; i < f.length; i++) {
            f[i] = (float) values[i];
        }
        return backend.of(f, shape);
    }

    // ---- values at decoder scale ----------------------------------------------------------------

    /**
     * Output padding 0 (deconv2d with the padding), at most the padding (deconv2d with less padding,
     * then cropped) and above it (unpadded deconv2d, placed into bias-only rows and columns).
     */
    @ParameterizedTest(name = "[3, {0}, {2}, {2}] *T {3}x{3} -> {1}, stride {4}, padding {5}, output padding {6}")
    @CsvSource({
        "32, 16, 7, 4, 2, 1, 0",
        "16, 8, 7, 3, 2, 1, 1",
        "16, 8, 5, 5, 3, 2, 1",
        "16, 8, 6, 3, 2, 0, 1",
        "8, 4, 5, 5, 3, 1, 2"})
    void transposedConvolutionMatchesTheReferenceOnEveryPath(int in, int out, int side, int k, int stride, int pad,
            int outputPadding) {
        SplittableRandom rng = new SplittableRandom(11);
        long[] xs = {3, in, side, side};
        long[] ws = {in, out, k, k};
        double[] x = random(rng, Shapes.size(xs), 1);
        double[] w = random(rng, Shapes.size(ws), 1 / Math.sqrt((double) in * k * k));
        double[] b = random(rng, out, 1);
        try (ConvWeights weights = ops.transposedConvWeights(floats(w, ws), floats(b, out))) {
            assertThatTensor(ops.convTranspose2d(floats(x, xs), weights, stride, pad, outputPadding))
                    .hasShape(ReferenceConv.convTranspose2dShape(xs, ws, stride, pad, outputPadding))
                    .isCloseTo(ReferenceConv.convTranspose2d(x, xs, w, ws, b, stride, pad, outputPadding),
                            TensorAssert.FLOAT32_TOLERANCE);
        }
    }

    @ParameterizedTest(name = "[3, {0}, {2}, {2}] * {3}x{3} -> {1}, stride {4}, padding {5}")
    @CsvSource({
        "1, 32, 28, 4, 2, 1",
        "32, 16, 14, 4, 2, 1",
        "16, 16, 7, 3, 2, 1",
        "16, 16, 4, 3, 1, 1",
        "16, 24, 7, 1, 1, 0"})
    void convolutionMatchesTheReferenceAtEncoderScale(int in, int out, int side, int k, int stride, int pad) {
        SplittableRandom rng = new SplittableRandom(12);
        long[] xs = {3, in, side, side};
        long[] ws = {out, in, k, k};
        double[] x = random(rng, Shapes.size(xs), 1);
        double[] w = random(rng, Shapes.size(ws), 1 / Math.sqrt((double) in * k * k));
        double[] b = random(rng, out, 1);
        try (ConvWeights weights = ops.convWeights(floats(w, ws), floats(b, out))) {
            assertThatTensor(ops.conv2d(floats(x, xs), weights, stride, pad, pad))
                    .hasShape(ReferenceConv.conv2dShape(xs, ws, stride, pad, pad))
                    .isCloseTo(ReferenceConv.conv2d(x, xs, w, ws, b, stride, pad, pad), TensorAssert.FLOAT32_TOLERANCE);
        }
    }

    /** PyTorch's relu keeps NaN; libnd4j's relu transform does too, so no workaround is needed. */
    @Test
    void reluKeepsNaN() {
        double[] y = ops.activation(Activation.RELU, floats(new double[] {Double.NaN, -1, 2}, 3)).toDoubleArray();
        assertThat(y[0]).isNaN();
        assertThat(y[1]).isEqualTo(0);
        assertThat(y[2]).isEqualTo(2);
    }

    // ---- weights --------------------------------------------------------------------------------

    @Test
    void weightsAreCopiedOnceIntoTheLayoutsLibnd4jReads() {
        long[] ws = {5, 3, 2, 4};
        double[] w = random(new SplittableRandom(13), Shapes.size(ws), 1);
        try (Nd4jConvWeights conv = (Nd4jConvWeights) ops.convWeights(floats(w, ws), null);
                Nd4jConvWeights transposed = (Nd4jConvWeights) ops.transposedConvWeights(floats(w, ws), null)) {
            // conv: [out 5, in 3, kH 2, kW 4] -> [kH, kW, in, out]
            assertThat(conv.weight().shape()).containsExactly(2, 4, 3, 5);
            // transposed: [in 5, out 3, kH 2, kW 4] -> [kH, kW, out, in]
            assertThat(transposed.weight().shape()).containsExactly(2, 4, 3, 5);
            for (int a = 0; a < 5; a++) {
                for (int c = 0; c < 3; c++) {
                    for (int u = 0; u < 2; u++) {
                        for (int v = 0; v < 4; v++) {
                            double expected = (float) w[((a * 3 + c) * 2 + u) * 4 + v];
                            assertThat(conv.weight().getDouble(u, v, c, a)).isEqualTo(expected);
                            assertThat(transposed.weight().getDouble(u, v, c, a)).isEqualTo(expected);
                        }
                    }
                }
            }
            assertThat(conv.bias()).isNull();
            assertThat(conv.weight().ordering()).isEqualTo('c');
            assertThat(conv.weight().isView()).isFalse();
        }
    }

    @Test
    void closeFreesTheArraysOnceAndClosedWeightsAreRejected() {
        Nd4jConvWeights w = (Nd4jConvWeights) ops.convWeights(backend.zeros(DType.FLOAT32, 4, 3, 3, 3),
                backend.zeros(DType.FLOAT32, 4));
        INDArray weight = w.weight();
        INDArray bias = w.bias();
        w.close();
        w.close();
        assertThat(weight.wasClosed()).isTrue();
        assertThat(bias.wasClosed()).isTrue();
        assertThat(w.toString()).contains("closed");
        assertThatThrownBy(() -> ops.conv2d(backend.zeros(DType.FLOAT32, 1, 3, 5, 5), w, 1, 1, 1))
                .isInstanceOf(TensorException.class).hasMessageContaining("conv2d").hasMessageContaining("[1, 3, 5, 5]")
                .hasMessageContaining("after close");
    }

    // ---- other backend instances ----------------------------------------------------------------

    @Test
    void weightsAndTensorsOfAnotherInstanceAreRejected() {
        try (Nd4jBackend other = (Nd4jBackend) new Nd4jBackendProvider().create(new BackendOptions("cpu", 0))) {
            NetworkOps otherOps = other.capability(NetworkOps.class).orElseThrow();
            try (ConvWeights foreign = otherOps.convWeights(other.zeros(DType.FLOAT32, 2, 3, 3, 3), null);
                    ConvWeights own = ops.convWeights(backend.zeros(DType.FLOAT32, 2, 3, 3, 3), null)) {
                assertThatThrownBy(() -> ops.conv2d(backend.zeros(DType.FLOAT32, 1, 3, 4, 4), foreign, 1, 1, 1))
                        .isInstanceOf(TensorException.class).hasMessageContaining("conv2d")
                        .hasMessageContaining("[1, 3, 4, 4]").hasMessageContaining("not made by");
                assertThatThrownBy(() -> ops.conv2d(other.zeros(DType.FLOAT32, 1, 3, 4, 4), own, 1, 1, 1))
                        .isInstanceOf(TensorException.class).hasMessageContaining("conv2d")
                        .hasMessageContaining("another backend instance");
                assertThatThrownBy(() -> ops.convWeights(other.zeros(DType.FLOAT32, 2, 3, 3, 3), null))
                        .isInstanceOf(TensorException.class).hasMessageContaining("convWeights")
                        .hasMessageContaining("another backend instance");
                assertThatThrownBy(() -> ops.activation(Activation.TANH, other.zeros(DType.FLOAT32, 2)))
                        .isInstanceOf(TensorException.class).hasMessageContaining("activation")
                        .hasMessageContaining("another backend instance");
            }
        }
    }

    @Test
    void aClosedBackendRejectsNewWeightsAndResults() {
        Nd4jBackend closed = (Nd4jBackend) new Nd4jBackendProvider().create(new BackendOptions("cpu", 0));
        NetworkOps closedOps = closed.capability(NetworkOps.class).orElseThrow();
        Tensor weight = closed.zeros(DType.FLOAT32, 2, 1, 1, 1);
        Tensor x = closed.zeros(DType.FLOAT32, 1, 1, 2, 2);
        ConvWeights w = closedOps.convWeights(weight, null);
        closed.close();
        try {
            assertThatThrownBy(() -> closedOps.convWeights(weight, null)).isInstanceOf(TensorException.class)
                    .hasMessageContaining("convWeights").hasMessageContaining("backend was closed");
            assertThatThrownBy(() -> closedOps.conv2d(x, w, 1, 0, 0)).isInstanceOf(TensorException.class)
                    .hasMessageContaining("conv2d").hasMessageContaining("backend was closed");
            assertThatThrownBy(() -> closedOps.activation(Activation.RELU, x)).isInstanceOf(TensorException.class)
                    .hasMessageContaining("activation").hasMessageContaining("backend was closed");
        } finally {
            w.close();
        }
    }
}
