package io.vqdistill.distill;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import io.vqdistill.api.Backend;
import io.vqdistill.api.BackendSelector;
import io.vqdistill.api.InvalidArgumentException;
import io.vqdistill.api.Tensor;
import io.vqdistill.api.circuit.Circuit;
import io.vqdistill.api.model.ImageShape;
import io.vqdistill.api.model.LatentShape;
import io.vqdistill.api.search.LatentSet;
import io.vqdistill.api.search.SearchOptions;
import io.vqdistill.api.search.SearchRequest;
import io.vqdistill.api.spi.BackendOptions;
import io.vqdistill.circuits.ShallowMixture;
import io.vqdistill.circuits.io.CircuitFiles;
import io.vqdistill.distill.search.BeamSearch;
import io.vqdistill.distill.toy.Brute;
import io.vqdistill.distill.toy.TableDecoder;
import io.vqdistill.distill.toy.TablePrior;
import java.nio.file.Path;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class DistillerTest {
    private static final Backend BACKEND = BackendSelector.discover().select("fake", BackendOptions.defaults());
    private static final LatentShape SHAPE = new LatentShape(2, 2, 3);
    private static final ImageShape IMAGE = new ImageShape(1, 2, 3);
    private static final TablePrior PRIOR = TablePrior.random(BACKEND, SHAPE, new double[] {0.5, 0.3, 0.2}, 1.0, 21);

    private static LatentSet latents(int n) {
        return new BeamSearch(SearchOptions.defaults().withBeamStarts(2)).search(PRIOR, SearchRequest.of(n, 4));
    }

    private static float[] data(int rows, long seed) {
        Random rng = new Random(seed);
        float[] x = new float[rows * IMAGE.pixels()];
        for (int i = 0; i < x.length; i++) {
            x[i] = (float) (0.6 * rng.nextGaussian());
        }
        return x;
    }

    @Test
    void decodesEachGridOnceInBatchesIntoAUniformMixture() {
        TableDecoder decoder = new TableDecoder(BACKEND, SHAPE, IMAGE, 1);
        LatentSet set = latents(10);
        try (Distillation d = new Distiller(BACKEND, decoder, 4).distil(set, Weighting.uniform())) {
            ShallowMixture m = d.mixture();
            assertThat(decoder.calls()).isEqualTo(3);
            assertThat(decoder.decoded()).isEqualTo(10);
            assertThat(m.components()).isEqualTo(10);
            assertThat(m.logWeights()).containsOnly(-Math.log(10));
            float[] means = m.parameters().get("mean").toFloatArray();
            for (int n = 0; n < 10; n++) {
                float[] expected = decoder.mean(set.grid(n));
                for (int s = 0; s < IMAGE.pixels(); s++) {
                    assertThat(means[n * IMAGE.pixels() + s]).isEqualTo(expected[s]);
                }
            }
            assertThat(m.latents()).isPresent();
            assertThat(m.latents().get().codes()).containsExactly(set.codes());
            assertThat(m.latents().get().classes()).containsExactly(set.classes());
            assertThat(m.parameterCount()).isEqualTo(9 + 10L * IMAGE.pixels() * 2);
            assertThat(d.provenance()).containsEntry("distill.weighting", "uniform")
                    .containsEntry("distill.components", "10");
        }
    }

    @Test
    void priorWeightsAreProportionalToPz() {
        LatentSet set = latents(8);
        try (Distillation d = new Distiller(BACKEND, new TableDecoder(BACKEND, SHAPE, IMAGE, 1))
                .distil(set, Weighting.prior())) {
            double lse = Brute.logSumExp(set.logProbs());
            double[] w = d.mixture().logWeights();
            for (int n = 0; n < 8; n++) {
                assertThat(w[n]).isCloseTo(PRIOR.marginalLogProb(set.grid(n)) - lse, within(1e-6));
            }
        }
    }

    @Test
    void priorWeightsNeedScores() {
        LatentSet unscored = new LatentSet(SHAPE, new int[] {0, 0, 0, 0, 1, 1, 1, 1}, new int[] {-1, -1},
                new double[] {-1, Double.NaN});
        Distiller distiller = new Distiller(BACKEND, new TableDecoder(BACKEND, SHAPE, IMAGE, 1));
        assertThatThrownBy(() -> distiller.distil(unscored, Weighting.prior()))
                .isInstanceOf(InvalidArgumentException.class)
                .hasMessageContaining("grid 1 has no score (NaN)");
    }

    @Test
    void oneEmUpdateSetsEachWeightToItsMeanResponsibility() {
        TableDecoder decoder = new TableDecoder(BACKEND, SHAPE, IMAGE, 2);
        LatentSet set = latents(6);
        int rows = 40;
        float[] x = data(rows, 5);
        double[] expected = new double[6];
        for (int r = 0; r < rows; r++) {
            float[] xr = java.util.Arrays.copyOfRange(x, r * IMAGE.pixels(), (r + 1) * IMAGE.pixels());
            double[] joint = new double[6];
            for (int n = 0; n < 6; n++) {
                joint[n] = decoder.logDensity(set.grid(n), xr) - Math.log(6);
            }
            double lse = Brute.logSumExp(joint);
            for (int n = 0; n < 6; n++) {
                expected[n] += Math.exp(joint[n] - lse) / rows;
            }
        }
        try (Tensor data = BACKEND.of(x, rows, IMAGE.pixels());
             Distillation d = new Distiller(BACKEND, decoder).distil(set, Weighting.em(data, 1, 0))) {
            double[] w = d.mixture().logWeights();
            for (int n = 0; n < 6; n++) {
                assertThat(Math.exp(w[n])).isCloseTo(expected[n], within(1e-5));
            }
            assertThat(d.emLogLikelihoods()).hasSize(2);
            assertThat(d.provenance()).containsEntry("distill.em_updates", "1");
        }
    }

    @Test
    void emNeverLowersTheLikelihoodAndStopsAtTheTolerance() {
        TableDecoder decoder = new TableDecoder(BACKEND, SHAPE, IMAGE, 3);
        float[] x = data(30, 6);
        try (Tensor data = BACKEND.of(x, 30, IMAGE.pixels());
             Distillation d = new Distiller(BACKEND, decoder).distil(latents(12), Weighting.em(data, 200, 1e-3))) {
            double[] trace = d.emLogLikelihoods();
            assertThat(trace.length).isBetween(3, 201);
            for (int i = 1; i < trace.length; i++) {
                assertThat(trace[i]).isGreaterThanOrEqualTo(trace[i - 1] - 1e-5);
            }
            assertThat(trace[trace.length - 1] - trace[trace.length - 2]).isLessThan(1e-3);
            double[] ll = d.mixture().logLikelihood(data).toDoubleArray();
            assertThat(java.util.Arrays.stream(ll).average().orElseThrow())
                    .isCloseTo(trace[trace.length - 1], within(1e-4));
        }
    }

    @Test
    void aSavedMixtureReadsBackWithItsCodesClassesWeightsAndProvenance(@TempDir Path dir) {
        LatentSet set = latents(7);
        float[] x = data(5, 8);
        try (Distillation d = new Distiller(BACKEND, new TableDecoder(BACKEND, SHAPE, IMAGE, 4))
                .distil(set, Weighting.prior());
             Tensor xs = BACKEND.of(x, 5, IMAGE.pixels())) {
            d.save(dir, Map.of("seed", "4", "search", "beam"));
            try (Circuit read = CircuitFiles.read(dir, BACKEND)) {
                assertThat(read).isInstanceOf(ShallowMixture.class);
                ShallowMixture m = (ShallowMixture) read;
                LatentSet back = m.latents().orElseThrow();
                assertThat(back.codes()).containsExactly(set.codes());
                assertThat(back.classes()).containsExactly(set.classes());
                assertThat(back.logProbs()).containsExactly(set.logProbs());
                double[] w = d.mixture().logWeights();
                for (int n = 0; n < w.length; n++) {
                    assertThat(m.logWeights()[n]).isCloseTo(w[n], within(1e-6));
                }
                assertThat(m.logLikelihood(xs).toFloatArray()).containsExactly(d.mixture().logLikelihood(xs)
                        .toFloatArray());
            }
            assertThat(CircuitFiles.provenance(dir)).containsEntry("distill.weighting", "prior")
                    .containsEntry("seed", "4").containsEntry("search", "beam");
        }
    }

    @Test
    void aLatentSetOfAnotherShapeIsRejected() {
        LatentSet other = new LatentSet(new LatentShape(2, 2, 5), new int[] {4, 4, 4, 4}, new int[] {0},
                new double[] {0});
        Distiller distiller = new Distiller(BACKEND, new TableDecoder(BACKEND, SHAPE, IMAGE, 1));
        assertThatThrownBy(() -> distiller.distil(other, Weighting.uniform()))
                .isInstanceOf(InvalidArgumentException.class)
                .hasMessage("the latent set holds 2x2 K=5 grids but the decoder takes 2x2 K=3");
    }
}
