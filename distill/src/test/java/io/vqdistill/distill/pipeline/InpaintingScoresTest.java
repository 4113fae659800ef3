package io.vqdistill.distill.pipeline;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import io.vqdistill.api.Backend;
import io.vqdistill.api.BackendSelector;
import io.vqdistill.api.InvalidArgumentException;
import io.vqdistill.api.Tensor;
import io.vqdistill.api.model.ImageShape;
import io.vqdistill.api.spi.BackendOptions;
import io.vqdistill.circuits.DagCircuit;
import io.vqdistill.circuits.ShallowMixture;
import io.vqdistill.circuits.leaf.GaussianFamily;
import io.vqdistill.distill.eval.PixelEncoding;
import io.vqdistill.models.data.ImageSet;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.SplittableRandom;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The optional rows of {@link InpaintingScores} against double-precision brute force on a five-component
 * Gaussian mixture of 3 x 4 images: the tempered posteriors' completions and predictive likelihoods, and
 * the nearest training images.
 */
class InpaintingScoresTest {
    private static final Backend BACKEND = BackendSelector.discover().select("fake", BackendOptions.defaults());
    private static final ImageShape IMAGE = new ImageShape(1, 3, 4);
    private static final int S = IMAGE.pixels();
    private static final int N = 5;
    private static final long SEED = 3;

    private final double[] logWeights = new double[N];
    private final double[][] mean = new double[N][S];
    private final double[][] variance = new double[N][S];
    private ShallowMixture mixture;

    @BeforeEach
    void buildMixture() {
        Random rng = new Random(7);
        float[] means = new float[N * S];
        float[] logVars = new float[N * S];
        double total = 0;
        for (int k = 0; k < N; k++) {
            logWeights[k] = 0.5 + rng.nextDouble();
            total += logWeights[k];
            for (int p = 0; p < S; p++) {
                means[k * S + p] = 0.1f + 0.8f * rng.nextFloat();
                logVars[k * S + p] = (float) Math.log(0.01 + 0.05 * rng.nextDouble());
                mean[k][p] = means[k * S + p];
                variance[k][p] = Math.exp(logVars[k * S + p]);
            }
        }
        for (int k = 0; k < N; k++) {
            logWeights[k] = Math.log(logWeights[k] / total);
        }
        try (Tensor m = BACKEND.of(means, N, S); Tensor v = BACKEND.of(logVars, N, S)) {
            mixture = ShallowMixture.builder(new GaussianFamily()).parameters(Map.of("mean", m, "log_var", v))
                    .logWeights(logWeights).build();
        }
    }

    @AfterEach
    void close() {
        mixture.close();
    }

    @Test
    void temperedRowsMatchBruteForceAndTemperatureOneIsTheCircuitsOwnConditional() {
        ImageSet train = images(30, 1);
        ImageSet test = images(17, 2);
        List<Double> temperatures = List.of(1.0, 0.5, 4.0);
        InpaintingScores scores = InpaintingScores.run(BACKEND, mixture, train, test, new InpaintingScores.Settings(
                List.of(Inpainting.Mask.LEFT, Inpainting.Mask.CENTRE), temperatures, List.of(), SEED),
                ProgressListener.NONE);
        assertThat(scores.rows()).extracting(InpaintingScores.Row::model).containsExactly("circuit", "circuit T=1",
                "circuit T=0.5", "circuit T=4", "mean image", "circuit", "circuit T=1", "circuit T=0.5", "circuit T=4",
                "mean image");
        float[] x = PixelEncoding.DEQUANTISED.values(test, range(test.size()), new SplittableRandom(SEED));
        int[] levels = test.levels(range(test.size()));
        for (Inpainting.Mask mask : List.of(Inpainting.Mask.LEFT, Inpainting.Mask.CENTRE)) {
            List<InpaintingScores.Row> rows = scores.rows().stream().filter(r -> r.mask() == mask).toList();
            assertThat(rows.get(1).mse()).isCloseTo(rows.get(0).mse(), within(1e-6));
            assertThat(rows.get(1).conditionalBpd()).isCloseTo(rows.get(0).conditionalBpd(), within(1e-4));
            for (int j = 0; j < temperatures.size(); j++) {
                double[] expected = bruteForce(mask, temperatures.get(j), x, levels, test.size());
                assertThat(rows.get(1 + j).mse()).as("%s T=%s", mask, temperatures.get(j))
                        .isCloseTo(expected[0], within(1e-5 * expected[0]));
                assertThat(rows.get(1 + j).conditionalBpd()).as("%s T=%s", mask, temperatures.get(j))
                        .isCloseTo(expected[1], within(1e-4));
            }
            assertThat(rows.get(2).mse()).isNotCloseTo(rows.get(3).mse(), within(1e-6));
        }
    }

    @Test
    void nearestRowsAverageTheTrainingImagesClosestOnTheVisiblePixels() {
        ImageSet train = images(40, 3);
        ImageSet test = images(9, 4);
        InpaintingScores scores = InpaintingScores.run(BACKEND, mixture, train, test, new InpaintingScores.Settings(
                List.of(Inpainting.Mask.BOTTOM), List.of(), List.of(1, 3, 40), SEED), ProgressListener.NONE);
        assertThat(scores.rows()).extracting(InpaintingScores.Row::model).containsExactly("circuit", "1 nearest",
                "3 nearest", "40 nearest", "mean image");
        int[] trainLevels = train.levels(range(train.size()));
        int[] testLevels = test.levels(range(test.size()));
        boolean[] hidden = hidden(Inpainting.Mask.BOTTOM);
        int[] ks = {1, 3, 40};
        for (int q = 0; q < ks.length; q++) {
            double squared = 0;
            int count = 0;
            for (int i = 0; i < test.size(); i++) {
                Integer[] order = new Integer[train.size()];
                double[] distance = new double[train.size()];
                for (int t = 0; t < train.size(); t++) {
                    order[t] = t;
                    for (int p = 0; p < S; p++) {
                        double d = hidden[p] ? 0 : (testLevels[i * S + p] - trainLevels[t * S + p]) / 255.0;
                        distance[t] += d * d;
                    }
                }
                Arrays.sort(order, (a, b) -> Double.compare(distance[a], distance[b]));
                for (int p = 0; p < S; p++) {
                    if (hidden[p]) {
                        double sum = 0;
                        for (int r = 0; r < ks[q]; r++) {
                            sum += trainLevels[order[r] * S + p];
                        }
                        double error = (sum / ks[q] - testLevels[i * S + p]) / 255.0;
                        squared += error * error;
                        count++;
                    }
                }
            }
            InpaintingScores.Row row = scores.rows().get(1 + q);
            assertThat(row.mse()).as("k = %d", ks[q]).isCloseTo(squared / count, within(1e-6));
            assertThat(row.conditionalBpd()).isNaN();
        }
        assertThat(scores.rows().get(3).mse()).as("all 40: the training mean image on the hidden pixels")
                .isCloseTo(scores.rows().get(4).mse(), within(1e-3));
        assertThat(scores.csv()).contains("bottom,1 nearest,8,9,").contains("\nbottom,circuit,8,9,");
        assertThat(scores.csv().lines().filter(l -> l.contains("nearest")).allMatch(l -> l.endsWith(","))).isTrue();
    }

    @Test
    void badSettingsAreRefusedNamingTheValue() {
        ImageSet train = images(4, 5);
        ImageSet test = images(2, 6);
        List<Inpainting.Mask> left = List.of(Inpainting.Mask.LEFT);
        assertThatThrownBy(() -> new InpaintingScores.Settings(left, List.of(0.0), List.of(), 0))
                .isInstanceOf(InvalidArgumentException.class).hasMessageContaining("finite and positive, found 0.0");
        assertThatThrownBy(() -> new InpaintingScores.Settings(left, List.of(Double.POSITIVE_INFINITY), List.of(), 0))
                .isInstanceOf(InvalidArgumentException.class).hasMessageContaining("found Infinity");
        assertThatThrownBy(() -> new InpaintingScores.Settings(left, List.of(), List.of(0), 0))
                .isInstanceOf(InvalidArgumentException.class).hasMessageContaining("at least 1, found 0");
        assertThatThrownBy(() -> new InpaintingScores.Settings(List.of(), List.of(), List.of(), 0))
                .isInstanceOf(InvalidArgumentException.class).hasMessageContaining("at least one mask");
        assertThatThrownBy(() -> InpaintingScores.run(BACKEND, mixture, train, test,
                new InpaintingScores.Settings(left, List.of(), List.of(5), 0), ProgressListener.NONE))
                .isInstanceOf(InvalidArgumentException.class)
                .hasMessageContaining("asked for the 5 nearest training images but there are 4");
        try (DagCircuit dag = mixture.toDag()) {
            assertThatThrownBy(() -> InpaintingScores.run(BACKEND, dag, train, test,
                    new InpaintingScores.Settings(left, List.of(2.0), List.of(), 0), ProgressListener.NONE))
                    .isInstanceOf(InvalidArgumentException.class)
                    .hasMessageContaining("tempered posteriors need a shallow mixture");
        }
    }

    /** {MSE, conditional bits per hidden pixel} of the posterior tempered by t, in double precision. */
    private double[] bruteForce(Inpainting.Mask mask, double t, float[] x, int[] levels, int n) {
        boolean[] hidden = hidden(mask);
        int hiddenCount = 0;
        for (boolean h : hidden) {
            hiddenCount += h ? 1 : 0;
        }
        double squared = 0;
        double conditional = 0;
        for (int i = 0; i < n; i++) {
            double[] visible = new double[N];
            double[] unseen = new double[N];
            for (int k = 0; k < N; k++) {
                visible[k] = logWeights[k];
                for (int p = 0; p < S; p++) {
                    double v = variance[k][p];
                    double d = x[i * S + p] - mean[k][p];
                    double ll = -0.5 * (Math.log(2 * Math.PI * v) + d * d / v);
                    if (hidden[p]) {
                        unseen[k] += ll;
                    } else {
                        visible[k] += ll;
                    }
                }
            }
            double top = Arrays.stream(visible).max().orElseThrow();
            double[] weight = new double[N];
            double sum = 0;
            for (int k = 0; k < N; k++) {
                weight[k] = Math.exp((visible[k] - top) / t);
                sum += weight[k];
            }
            double predictive = 0;
            for (int k = 0; k < N; k++) {
                weight[k] /= sum;
                predictive += weight[k] * Math.exp(unseen[k]);
            }
            conditional += Math.log(predictive);
            for (int p = 0; p < S; p++) {
                if (hidden[p]) {
                    double completion = 0;
                    for (int k = 0; k < N; k++) {
                        completion += weight[k] * mean[k][p];
                    }
                    double error = (256 * completion - 0.5 - levels[i * S + p]) / 255.0;
                    squared += error * error;
                }
            }
        }
        return new double[] {squared / (n * hiddenCount),
            -conditional / n / hiddenCount / Math.log(2) + PixelEncoding.DEQUANTISED.offsetBits()};
    }

    private static boolean[] hidden(Inpainting.Mask mask) {
        boolean[] out = new boolean[S];
        for (int p = 0; p < S; p++) {
            out[p] = mask.hides(p / IMAGE.width(), p % IMAGE.width(), IMAGE.height(), IMAGE.width());
        }
        return out;
    }

    private static ImageSet images(int n, long seed) {
        Random rng = new Random(seed);
        byte[] pixels = new byte[n * S];
        rng.nextBytes(pixels);
        return new ImageSet(IMAGE, pixels, new int[n], 1, "toy images");
    }

    private static int[] range(int n) {
        int[] idx = new int[n];
        Arrays.setAll(idx, i -> i);
        return idx;
    }
}
