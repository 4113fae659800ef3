package io.vqdistill.distill;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import io.vqdistill.api.Backend;
import io.vqdistill.api.BackendSelector;
import io.vqdistill.api.InvalidArgumentException;
import io.vqdistill.api.Tensor;
import io.vqdistill.api.circuit.Precision;
import io.vqdistill.api.model.ImageShape;
import io.vqdistill.api.model.LatentShape;
import io.vqdistill.api.search.LatentSet;
import io.vqdistill.api.search.SearchOptions;
import io.vqdistill.api.search.SearchRequest;
import io.vqdistill.api.spi.BackendOptions;
import io.vqdistill.circuits.Numerics;
import io.vqdistill.distill.search.ExhaustiveSearch;
import io.vqdistill.distill.toy.Brute;
import io.vqdistill.distill.toy.TableDecoder;
import io.vqdistill.distill.toy.TablePrior;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

class ExactModelTest {
    private static final Backend BACKEND = BackendSelector.discover().select("fake", BackendOptions.defaults());
    private static final ImageShape IMAGE = new ImageShape(1, 2, 3);

    private static float[] data(int rows, long seed) {
        Random rng = new Random(seed);
        float[] x = new float[rows * IMAGE.pixels()];
        for (int i = 0; i < x.length; i++) {
            x[i] = (float) (0.7 * rng.nextGaussian());
        }
        return x;
    }

    /** logsumexp_z log p(z) + log p(x | z) over every grid, in double. */
    private static double bruteForce(TablePrior prior, TableDecoder decoder, float[] x) {
        List<int[]> grids = Brute.grids(prior.latentShape());
        double[] terms = new double[grids.size()];
        for (int g = 0; g < terms.length; g++) {
            terms[g] = prior.marginalLogProb(grids.get(g)) + decoder.logDensity(grids.get(g), x);
        }
        return Brute.logSumExp(terms);
    }

    @Test
    void streamedChunksEqualTheBruteForceSumWithPriorWeights() {
        LatentShape shape = new LatentShape(2, 2, 3);
        TablePrior prior = TablePrior.random(BACKEND, shape, new double[] {0.6, 0.4}, 1.2, 2);
        TableDecoder decoder = new TableDecoder(BACKEND, shape, IMAGE, 3);
        ExactModel exact = new ExactModel(BACKEND, prior, decoder, 10, 1000);
        assertThat(exact.components()).isEqualTo(81);
        int rows = 6;
        float[] x = data(rows, 1);
        double[] ll;
        try (Tensor xs = BACKEND.of(x, rows, IMAGE.pixels())) {
            ll = exact.logLikelihood(xs);
        }
        assertThat(decoder.decoded()).isEqualTo(81);
        assertThat(decoder.calls()).isEqualTo(9);
        for (int r = 0; r < rows; r++) {
            float[] xr = Arrays.copyOfRange(x, r * IMAGE.pixels(), (r + 1) * IMAGE.pixels());
            assertThat(ll[r]).isCloseTo(bruteForce(prior, decoder, xr), within(1e-4));
        }
    }

    @Test
    void equalsTheExplicitPriorWeightedCircuitAndDiffersFromTheUnweightedOne() {
        LatentShape shape = new LatentShape(2, 2, 2);
        TablePrior prior = TablePrior.random(BACKEND, shape, new double[] {0.2, 0.3, 0.5}, 2.0, 4);
        TableDecoder decoder = new TableDecoder(BACKEND, shape, IMAGE, 5);
        LatentSet all = new ExhaustiveSearch(SearchOptions.defaults()).search(prior, SearchRequest.of(16, 0));
        Distiller distiller = new Distiller(BACKEND, decoder);
        float[] x = data(8, 2);
        try (Tensor xs = BACKEND.of(x, 8, IMAGE.pixels());
             Distillation weighted = distiller.distil(all, Weighting.prior());
             Distillation uniform = distiller.distil(all, Weighting.uniform())) {
            double[] exact = new ExactModel(BACKEND, prior, decoder, 5, 100).logLikelihood(xs);
            double[] explicit = weighted.mixture().logLikelihood(xs).toDoubleArray();
            double[] unweighted = uniform.mixture().logLikelihood(xs).toDoubleArray();
            double gap = 0;
            for (int r = 0; r < 8; r++) {
                assertThat(exact[r]).isCloseTo(explicit[r], within(1e-4));
                gap = Math.max(gap, Math.abs(exact[r] - unweighted[r]));
            }
            assertThat(gap).as("the prior weights matter").isGreaterThan(0.1);
        }
    }

    @Test
    void aSumResumedFromAPartialEqualsTheUninterruptedOneAndBothPrecisionsMatchBruteForce() {
        LatentShape shape = new LatentShape(2, 2, 3);
        TablePrior prior = TablePrior.random(BACKEND, shape, new double[] {0.6, 0.4}, 1.2, 7);
        TableDecoder decoder = new TableDecoder(BACKEND, shape, IMAGE, 8);
        int rows = 5;
        float[] x = data(rows, 9);
        for (Precision precision : Precision.values()) {
            ExactModel exact = new ExactModel(BACKEND, prior, decoder, 10, 1000, precision);
            try (Tensor xs = BACKEND.of(x, rows, IMAGE.pixels())) {
                List<ExactModel.Partial> partials = new ArrayList<>();
                ExactModel.Partial whole = exact.logLikelihood(xs, ExactModel.Partial.start(rows), partials::add);
                assertThat(partials).extracting(ExactModel.Partial::grids)
                        .containsExactly(10L, 20L, 30L, 40L, 50L, 60L, 70L, 80L, 81L);
                assertThat(partials.get(partials.size() - 1).logSums()).containsExactly(whole.logSums());
                List<Long> after = new ArrayList<>();
                ExactModel.Partial resumed = exact.logLikelihood(xs, partials.get(2), p -> after.add(p.grids()));
                assertThat(after).containsExactly(40L, 50L, 60L, 70L, 80L, 81L);
                for (int r = 0; r < rows; r++) {
                    assertThat(resumed.logSums()[r]).isCloseTo(whole.logSums()[r], within(1e-9));
                    float[] xr = Arrays.copyOfRange(x, r * IMAGE.pixels(), (r + 1) * IMAGE.pixels());
                    assertThat(whole.logSums()[r]).as("%s", precision)
                            .isCloseTo(bruteForce(prior, decoder, xr), within(1e-4));
                }
                assertThatThrownBy(() -> exact.logLikelihood(xs, ExactModel.Partial.start(rows + 1), p -> { }))
                        .isInstanceOf(InvalidArgumentException.class)
                        .hasMessage("the partial sum covers 6 examples but x holds 5");
                assertThatThrownBy(() -> exact.logLikelihood(xs, new ExactModel.Partial(82, whole.logSums()),
                        p -> { })).isInstanceOf(InvalidArgumentException.class)
                        .hasMessage("the partial sum covers 82 grids but the model has 81");
            }
        }
    }

    @Test
    void shardsAtChunkBoundsCombineIntoTheWholeModelAndEmptyShardsAreMinusInfinity() {
        LatentShape shape = new LatentShape(2, 2, 3);
        TablePrior prior = TablePrior.random(BACKEND, shape, new double[] {0.6, 0.4}, 1.2, 2);
        TableDecoder decoder = new TableDecoder(BACKEND, shape, IMAGE, 3);
        ExactModel exact = new ExactModel(BACKEND, prior, decoder, 10, 1000);
        int rows = 5;
        try (Tensor xs = BACKEND.of(data(rows, 4), rows, IMAGE.pixels())) {
            double[] whole = exact.logLikelihood(xs);
            List<Long> summed = new ArrayList<>();
            double[] a = exact.logLikelihood(xs, 0, 30, summed::add);
            double[] b = exact.logLikelihood(xs, 30, 81, done -> { });
            double[] empty = exact.logLikelihood(xs, 40, 40, done -> { });
            assertThat(summed).containsExactly(10L, 20L, 30L);
            for (int r = 0; r < rows; r++) {
                assertThat(Numerics.logAddExp(a[r], b[r])).isCloseTo(whole[r], within(1e-12));
                assertThat(a[r]).isLessThan(whole[r]);
                assertThat(empty[r]).isEqualTo(Double.NEGATIVE_INFINITY);
            }
            assertThatThrownBy(() -> exact.logLikelihood(xs, 80, 82, done -> { }))
                    .isInstanceOf(IndexOutOfBoundsException.class).hasMessageContaining("[80, 82)");
        }
    }

    @Test
    void aSingleCodeGridHasOneComponent() {
        LatentShape shape = new LatentShape(2, 2, 1);
        TablePrior prior = TablePrior.random(BACKEND, shape, new double[] {1}, 1.0, 1);
        TableDecoder decoder = new TableDecoder(BACKEND, shape, IMAGE, 1);
        float[] x = data(1, 3);
        try (Tensor xs = BACKEND.of(x, 1, IMAGE.pixels())) {
            double ll = new ExactModel(BACKEND, prior, decoder, 4, 10).logLikelihood(xs)[0];
            assertThat(ll).isCloseTo(decoder.logDensity(new int[4], x), within(1e-4));
        }
    }

    @Test
    void refusesEnumerationsBeyondTheBoundAndMismatchedNetworks() {
        LatentShape shape = new LatentShape(2, 2, 3);
        TablePrior prior = TablePrior.random(BACKEND, shape, new double[] {1}, 1.0, 1);
        TableDecoder decoder = new TableDecoder(BACKEND, shape, IMAGE, 1);
        assertThatThrownBy(() -> new ExactModel(BACKEND, prior, decoder, 4, 80))
                .isInstanceOf(InvalidArgumentException.class).hasMessageContaining("bound of 80");
        TableDecoder other = new TableDecoder(BACKEND, new LatentShape(2, 2, 4), IMAGE, 1);
        assertThatThrownBy(() -> new ExactModel(BACKEND, prior, other, 4, 1000))
                .isInstanceOf(InvalidArgumentException.class)
                .hasMessage("the prior describes 2x2 K=3 grids but the decoder takes 2x2 K=4");
    }
}
