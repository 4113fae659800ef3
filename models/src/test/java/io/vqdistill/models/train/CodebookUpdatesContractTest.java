package io.vqdistill.models.train;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import io.vqdistill.api.Backend;
import io.vqdistill.formats.SafeTensors;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

/**
 * The codebook training of {@link CodebookUpdates} on a backend's {@link io.vqdistill.api.Tensor}:
 * EMA updates against a float64 computation of Sonnet's formulas, dead-code restarts, k-means
 * against brute-force quantisation errors, and the saved state. A backend's test module extends
 * this and returns its backend from {@link #createBackend()}; the models module runs it on the fake
 * backend.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
public abstract class CodebookUpdatesContractTest {
    private static final double TOLERANCE = 1e-5;

    private Backend backend;

    /** A folder for saved state. */
    @TempDir
    protected Path tmp;

    /** Creates the backend under test; called once per test class. */
    protected abstract Backend createBackend();

    @BeforeAll
    void startBackend() {
        backend = createBackend();
    }

    @AfterAll
    void stopBackend() {
        if (backend != null) {
            backend.close();
        }
    }

    /** Sonnet's EMA step in float64: hidden sums from zero, debiased by 1 - gamma^t, Laplace-smoothed sizes. */
    private static final class ReferenceEma {
        final int k;
        final int d;
        final double decay;
        final double[] size;
        final double[] sum;
        int steps;

        ReferenceEma(int k, int d, double decay) {
            this.k = k;
            this.d = d;
            this.decay = decay;
            this.size = new double[k];
            this.sum = new double[k * d];
        }

        double[] step(float[] z, long[] codes) {
            steps++;
            double[] count = new double[k];
            double[] s = new double[k * d];
            for (int i = 0; i < codes.length; i++) {
                int c = (int) codes[i];
                count[c]++;
                for (int j = 0; j < d; j++) {
                    s[c * d + j] += z[i * d + j];
                }
            }
            double debias = 1 - Math.pow(decay, steps);
            double total = 0;
            for (int c = 0; c < k; c++) {
                size[c] = decay * size[c] + (1 - decay) * count[c];
                total += size[c] / debias;
            }
            double eps = CodebookTraining.EMA_EPSILON;
            double[] codebook = new double[k * d];
            for (int c = 0; c < k; c++) {
                double smoothed = (size[c] / debias + eps) / (total + k * eps) * total;
                for (int j = 0; j < d; j++) {
                    sum[c * d + j] = decay * sum[c * d + j] + (1 - decay) * s[c * d + j];
                    codebook[c * d + j] = sum[c * d + j] / debias / smoothed;
                }
            }
            return codebook;
        }
    }

    private static float[] randomRows(int n, int d, SplittableRandom rng) {
        float[] z = new float[n * d];
        for (int i = 0; i < z.length; i++) {
            z[i] = (float) (rng.nextDouble() * 4 - 2);
        }
        return z;
    }

    private static long[] randomCodes(int n, int k, SplittableRandom rng) {
        long[] c = new long[n];
        for (int i = 0; i < n; i++) {
            c[i] = rng.nextInt(k);
        }
        return c;
    }

    private static double[] toDoubles(float[] f) {
        double[] d = new double[f.length];
        for (int i = 0; i < f.length; i++) {
            d[i] = f[i];
        }
        return d;
    }

    /** Mean over the points of the squared distance to the nearest centre, in float64. */
    private static double quantisationError(float[] points, float[] centres, int d) {
        int n = points.length / d;
        int k = centres.length / d;
        double total = 0;
        for (int i = 0; i < n; i++) {
            double best = Double.POSITIVE_INFINITY;
            for (int c = 0; c < k; c++) {
                double s = 0;
                for (int j = 0; j < d; j++) {
                    double diff = points[i * d + j] - centres[c * d + j];
                    s += diff * diff;
                }
                best = Math.min(best, s);
            }
            total += best;
        }
        return total / n;
    }

    @Test
    void oneEmaStepMatchesAHandComputation() {
        // K = 3, D = 2, gamma = 0.9: codes 0, 0, 2, 0; code 1 unused
        CodebookUpdates u = new CodebookUpdates(new CodebookTraining(0.9, 0, 0, 1), 3, 2, backend, 1);
        float[] z = {1, 2, 3, 4, 5, 6, -1, 0};
        float[] cb = u.afterStep(z, new long[] {0, 0, 2, 0}, () -> {
            throw new AssertionError("EMA needs no current codebook");
        });
        // after one step the debiased averages are the batch's counts (3, 0, 1) and sums ((3, 6), 0, (5, 6))
        double eps = CodebookTraining.EMA_EPSILON;
        double n0 = (3 + eps) / (4 + 3 * eps) * 4;
        double n2 = (1 + eps) / (4 + 3 * eps) * 4;
        assertThat(toDoubles(cb)).containsExactly(new double[] {3 / n0, 6 / n0, 0, 0, 5 / n2, 6 / n2},
                within(TOLERANCE));
    }

    @Test
    void emaStepsMatchTheFloat64FormulasOverSeveralBatches() {
        int k = 5;
        int d = 3;
        double decay = 0.8;
        CodebookUpdates u = new CodebookUpdates(new CodebookTraining(decay, 0, 0, 1), k, d, backend, 1);
        ReferenceEma ref = new ReferenceEma(k, d, decay);
        SplittableRandom rng = new SplittableRandom(3);
        for (int step = 0; step < 4; step++) {
            float[] z = randomRows(12, d, rng);
            long[] codes = randomCodes(12, k - 1, rng); // the last code is never used
            float[] cb = u.afterStep(z, codes, () -> null);
            assertThat(toDoubles(cb)).as("step %d", step + 1).containsExactly(ref.step(z, codes), within(TOLERANCE));
        }
    }

    @Test
    void aCodeUnusedForTheGivenStepsIsRestartedToAnEncoderOutputOfTheBatch() {
        int k = 4;
        int d = 2;
        CodebookUpdates u = new CodebookUpdates(new CodebookTraining(0, 2, 0, 1), k, d, backend, 5);
        float[] current = {0, 0, 1, 1, 2, 2, 3, 3};
        float[] z1 = {0.1f, 0.2f, 1.1f, 0.9f, 0.3f, -0.1f};
        assertThat(u.afterStep(z1, new long[] {0, 1, 0}, () -> current)).as("no code unused for 2 steps yet").isNull();
        float[] z2 = {0.5f, 0.5f, 1.5f, 1.25f, -0.5f, 0.25f};
        float[] cb = u.afterStep(z2, new long[] {1, 1, 0}, () -> current);
        assertThat(Arrays.copyOfRange(cb, 0, 4)).as("used codes stay").containsExactly(0, 0, 1, 1);
        Set<List<Float>> rows = new HashSet<>();
        for (int i = 0; i < 3; i++) {
            rows.add(List.of(z2[2 * i], z2[2 * i + 1]));
        }
        List<Float> code2 = List.of(cb[4], cb[5]);
        List<Float> code3 = List.of(cb[6], cb[7]);
        assertThat(rows).as("codes 2 and 3 are encoder outputs of the batch").contains(code2, code3);
        assertThat(code2).as("distinct outputs while the batch has enough").isNotEqualTo(code3);
        // the restarted codes count from zero again: one more step without them restarts nothing
        float[] restarted = cb.clone();
        assertThat(u.afterStep(z2, new long[] {0, 1, 1}, () -> restarted)).isNull();
    }

    @Test
    void underEmaARestartedCodeKeepsItsEncoderOutputWhileUnused() {
        int k = 3;
        int d = 2;
        CodebookUpdates u = new CodebookUpdates(new CodebookTraining(0.9, 2, 0, 1), k, d, backend, 2);
        float[] z = {1, 1, 2, 2, 3, 3, 4, 4};
        long[] codes = {0, 0, 1, 1};
        float[] first = u.afterStep(z, codes, () -> null);
        assertThat(new float[] {first[4], first[5]}).as("never assigned: the EMA's zero vector").containsExactly(0, 0);
        float[] second = u.afterStep(z, codes, () -> null);
        List<List<Float>> rows = List.of(List.of(1f, 1f), List.of(2f, 2f), List.of(3f, 3f), List.of(4f, 4f));
        assertThat(rows).as("unused for 2 steps: restarted at an output").contains(List.of(second[4], second[5]));
        float[] third = u.afterStep(z, codes, () -> null);
        assertThat(toDoubles(new float[] {third[4], third[5]})).as("its moving averages hold it in place")
                .containsExactly(toDoubles(new float[] {second[4], second[5]}), within(1e-4));
    }

    @Test
    void kmeansLowersTheQuantisationErrorAgainstTheRandomInitialCodebook() {
        int d = 2;
        int k = 4;
        SplittableRandom rng = new SplittableRandom(9);
        float[][] centres = {{-3, -3}, {-3, 3}, {3, -3}, {3, 3}};
        int n = 400;
        float[] points = new float[n * d];
        for (int i = 0; i < n; i++) {
            float[] c = centres[i % 4];
            points[i * d] = (float) (c[0] + rng.nextGaussian() * 0.5);
            points[i * d + 1] = (float) (c[1] + rng.nextGaussian() * 0.5);
        }
        float[] random = new float[k * d];
        for (int i = 0; i < random.length; i++) {
            random[i] = (float) ((rng.nextDouble() * 2 - 1) / k); // the layout's U(-1/K, 1/K)
        }
        double[] errors = new double[6];
        float[] kmeans = CodebookUpdates.kmeans(backend, points, d, k, 5, new SplittableRandom(1), errors);
        double randomError = quantisationError(points, random, d);
        double kmeansError = quantisationError(points, kmeans, d);
        assertThat(kmeansError).isLessThan(randomError / 10);
        assertThat(errors[5]).isCloseTo(kmeansError, within(1e-4 * kmeansError));
        for (int i = 1; i < errors.length; i++) {
            assertThat(errors[i]).as("Lloyd iteration %d never raises the error", i)
                    .isLessThanOrEqualTo(errors[i - 1] * (1 + 1e-6));
        }
        // the random start is K of the points
        float[] start = CodebookUpdates.kmeans(backend, points, d, k, 0, new SplittableRandom(1), null);
        Set<List<Float>> rows = new HashSet<>();
        for (int i = 0; i < n; i++) {
            rows.add(List.of(points[i * d], points[i * d + 1]));
        }
        for (int c = 0; c < k; c++) {
            assertThat(rows).contains(List.of(start[c * d], start[c * d + 1]));
        }
        assertThat(errors[0]).isCloseTo(quantisationError(points, start, d), within(1e-4 * errors[0]));
    }

    @Test
    void savedStateRestoresTheSameNextUpdate() {
        int k = 4;
        int d = 2;
        CodebookTraining options = new CodebookTraining(0.95, 3, 0, 1);
        CodebookUpdates a = new CodebookUpdates(options, k, d, backend, 8);
        SplittableRandom rng = new SplittableRandom(4);
        for (int i = 0; i < 3; i++) {
            a.afterStep(randomRows(6, d, rng), randomCodes(6, 2, rng), () -> new float[k * d]);
        }
        Path file = tmp.resolve("state.safetensors");
        List<SafeTensors.Entry> saved = new ArrayList<>(a.state());
        SafeTensors.write(file, saved, Map.of());
        CodebookUpdates b = new CodebookUpdates(options, k, d, backend, 8);
        b.restore(SafeTensors.read(file));
        float[] z = randomRows(6, d, rng);
        long[] codes = randomCodes(6, 2, rng);
        assertThat(b.afterStep(z, codes, () -> new float[k * d]))
                .containsExactly(a.afterStep(z, codes, () -> new float[k * d]));
    }
}
