package io.vqdistill.backend.djl;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import io.vqdistill.api.Backend;
import io.vqdistill.api.DType;
import io.vqdistill.api.Tensor;
import io.vqdistill.api.TensorScope;
import io.vqdistill.api.TopK;
import io.vqdistill.api.spi.BackendOptions;
import java.util.Arrays;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * The places where DJL's own API would give a different answer and the backend composes the
 * operation itself; the cases here are the ones the api contract does not reach.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class DjlWorkaroundsTest {
    private Backend backend;
    private TensorScope scope;

    @BeforeAll
    void start() {
        backend = new DjlBackendProvider().create(new BackendOptions("cpu", 0));
    }

    @AfterAll
    void stop() {
        backend.close();
    }

    @BeforeEach
    void openScope() {
        scope = TensorScope.open();
    }

    @AfterEach
    void closeScope() {
        scope.close();
    }

    /** torch.topk orders equal values arbitrarily (it gave 150, 148, 126, 144, ... here). */
    @Test
    void topKOrdersTiesByPosition() {
        float[] many = new float[200];
        Arrays.fill(many, 1f);
        many[150] = 2f;
        TopK top = backend.of(many, 200).topK(20, 0);
        long[] expected = new long[20];
        expected[0] = 150;
        for (int i = 1; i < 20; i++) {
            expected[i] = i - 1;
        }
        assertThat(top.indices().toLongArray()).containsExactly(expected);
        assertThat(top.values().toFloatArray()[0]).isEqualTo(2f);
    }

    @Test
    void topKOfNegativeInfinityPaddingIsDeterministic() {
        double[] logits = new double[50];
        Arrays.fill(logits, Double.NEGATIVE_INFINITY);
        logits[40] = 1;
        logits[3] = 0;
        TopK top = backend.of(logits, 50).topK(6, 0);
        assertThat(top.indices().toLongArray()).containsExactly(40, 3, 0, 1, 2, 4);
        assertThat(top.values().toDoubleArray()).containsExactly(1, 0, Double.NEGATIVE_INFINITY,
                Double.NEGATIVE_INFINITY, Double.NEGATIVE_INFINITY, Double.NEGATIVE_INFINITY);
    }

    @Test
    void topKTiesAlongAnInnerAxisOfIntegersAndNaN() {
        Tensor ints = backend.of(new long[] {4, 4, 9, 4, 9, 1, 5, 1, 5, 5}, 2, 5);
        assertThat(ints.topK(4, 1).indices().toLongArray()).containsExactly(2, 4, 0, 1, 1, 3, 4, 0);
        Tensor columns = backend.of(new float[] {1, 5, 1, 5, 2, 5}, 3, 2);
        assertThat(columns.topK(2, 0).indices().toLongArray()).containsExactly(2, 0, 0, 1);
        Tensor nan = backend.of(new float[] {Float.NaN, 1, Float.NaN, 3, 3}, 5);
        assertThat(nan.topK(4, 0).indices().toLongArray()).containsExactly(0, 2, 3, 4);
    }

    @Test
    void topOneAgreesWithArgMaxOnTies() {
        Tensor t = backend.of(new double[] {2, 7, 7, 7, 0, 0, 0, 0}, 2, 4);
        assertThat(t.topK(1, 1).indices().toLongArray()).containsExactly(t.argMax(1).toLongArray());
    }

    /** DJL has no log1p; the composed one must match Math.log1p across the range, not only near 0. */
    @Test
    void log1pIsAccurateAcrossTheRange() {
        double[] x = new double[81];
        for (int i = 0; i < x.length; i++) {
            double magnitude = Math.pow(10, -20 + i * 0.5);
            x[i] = i % 2 == 0 ? magnitude : -Math.min(magnitude, 0.999);
        }
        double[] d = backend.of(x, x.length).log1p().toDoubleArray();
        float[] xf = new float[x.length];
        for (int i = 0; i < x.length; i++) {
            xf[i] = (float) x[i];
        }
        float[] f = backend.of(xf, xf.length).log1p().toFloatArray();
        for (int i = 0; i < x.length; i++) {
            assertThat(d[i]).as("float64 log1p(%s)", x[i]).isCloseTo(Math.log1p(x[i]),
                    within(4e-16 * Math.abs(Math.log1p(x[i]))));
            double ref = Math.log1p(xf[i]);
            assertThat((double) f[i]).as("float32 log1p(%s)", xf[i]).isCloseTo(ref, within(3e-7 * Math.abs(ref)));
        }
        assertThat(backend.of(new double[] {-1, Double.POSITIVE_INFINITY, -2, 0}, 4).log1p().toDoubleArray())
                .containsExactly(Double.NEGATIVE_INFINITY, Double.POSITIVE_INFINITY, Double.NaN, 0);
    }

    /** NDArray.clip would promote an integer tensor to float for fractional bounds. */
    @Test
    void clampOfIntegersWithFractionalBoundsRoundsInward() {
        Tensor t = backend.of(new int[] {-5, -2, 0, 2, 5}, 5).clamp(-1.5, 2.5);
        assertThat(t.dtype()).isEqualTo(DType.INT32);
        assertThat(t.toIntArray()).containsExactly(-1, -1, 0, 2, 2);
        Tensor wide = backend.of(new long[] {Long.MIN_VALUE, Long.MAX_VALUE}, 2).clamp(Double.NEGATIVE_INFINITY,
                Double.POSITIVE_INFINITY);
        assertThat(wide.toLongArray()).containsExactly(Long.MIN_VALUE, Long.MAX_VALUE);
    }

    /** NDManager.full takes a float: 1e-300 would become 0 and 2^53 - 1 would round. */
    @Test
    void fullKeepsDoublePrecision() {
        assertThat(backend.full(DType.FLOAT64, 1e-300, 2).toDoubleArray()).containsExactly(1e-300, 1e-300);
        assertThat(backend.full(DType.INT64, 0x1p53 - 1).item()).isEqualTo(0x1p53 - 1);
        assertThat(backend.full(DType.INT32, Integer.MAX_VALUE).toIntArray()).containsExactly(Integer.MAX_VALUE);
    }

    /** DJL's div is true division; integer quotients are formed in float64 and truncated. */
    @Test
    void int64DivisionIsExactBelowTwoToThe52() {
        long big = (1L << 51) + 7;
        Tensor q = backend.of(new long[] {big, -big, big}, 3).div(backend.of(new long[] {3, 3, -(1L << 20)}, 3));
        assertThat(q.toLongArray()).containsExactly(big / 3, -big / 3, big / -(1L << 20));
    }
}
