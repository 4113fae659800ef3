package io.vqdistill.distill.search;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import io.vqdistill.api.Backend;
import io.vqdistill.api.BackendSelector;
import io.vqdistill.api.VqdistillException;
import io.vqdistill.api.model.LatentShape;
import io.vqdistill.api.search.LatentSet;
import io.vqdistill.api.search.RandomClasses;
import io.vqdistill.api.search.SearchOptions;
import io.vqdistill.api.search.SearchRequest;
import io.vqdistill.api.spi.BackendOptions;
import io.vqdistill.distill.toy.Brute;
import io.vqdistill.distill.toy.TablePrior;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;

class RandomSearchTest {
    private static final Backend BACKEND = BackendSelector.discover().select("fake", BackendOptions.defaults());
    private static final LatentShape SHAPE = new LatentShape(2, 2, 3);
    private static final TablePrior PRIOR = TablePrior.random(BACKEND, SHAPE, new double[] {0.5, 0.3, 0.2}, 1.0, 3);

    private static int index(int[] grid) {
        int n = 0;
        for (int code : grid) {
            n = n * SHAPE.codebookSize() + code;
        }
        return n;
    }

    /** p(z) under the uniform class prior the random search draws classes from. */
    private static double uniformClassProbability(int[] grid) {
        double p = 0;
        for (int c = 0; c < 3; c++) {
            p += Math.exp(PRIOR.logProb(grid, c)) / 3;
        }
        return p;
    }

    @Test
    void returnsDistinctGridsWithTheirDrawnClassesAndMarginalScores() {
        LatentSet found = new RandomSearch(SearchOptions.defaults()).search(PRIOR, SearchRequest.of(40, 1));
        assertThat(found.size()).isEqualTo(40);
        assertThat(found.distinctGrids()).isEqualTo(40);
        assertThat(Arrays.stream(found.classes()).distinct().sorted().toArray()).containsExactly(0, 1, 2);
        for (int i = 0; i < found.size(); i++) {
            assertThat(found.logProbs()[i]).isCloseTo(PRIOR.marginalLogProb(found.grid(i)), within(1e-5));
        }
    }

    @Test
    void theFirstGridIsDrawnWithProbabilityPz() {
        RandomSearch random = new RandomSearch(SearchOptions.defaults().withSamplingBatch(1));
        List<int[]> all = Brute.grids(SHAPE);
        long[] counts = new long[all.size()];
        for (int seed = 0; seed < 4000; seed++) {
            counts[index(random.search(PRIOR, SearchRequest.of(1, seed)).grid(0))]++;
        }
        double[] p = all.stream().mapToDouble(RandomSearchTest::uniformClassProbability).toArray();
        double[] chi = Brute.chiSquare(counts, p);
        assertThat(chi[0]).as("chi-square with %s degrees of freedom", chi[1])
                .isLessThan(Brute.chiSquareCritical(chi[1]));
    }

    @Test
    void classesAreUniformByDefaultAndFollowTheClassPriorWhenAsked() {
        for (RandomClasses distribution : RandomClasses.values()) {
            RandomSearch random = new RandomSearch(SearchOptions.defaults().withSamplingBatch(1)
                    .withRandomClasses(distribution));
            long[] counts = new long[3];
            for (int seed = 0; seed < 3000; seed++) {
                counts[random.search(PRIOR, SearchRequest.of(1, seed)).classes()[0]]++;
            }
            double[] p = distribution == RandomClasses.UNIFORM ? new double[] {1 / 3.0, 1 / 3.0, 1 / 3.0}
                    : new double[] {PRIOR.classProbability(0), PRIOR.classProbability(1), PRIOR.classProbability(2)};
            double[] chi = Brute.chiSquare(counts, p);
            assertThat(chi[0]).as("%s: class counts %s", distribution, Arrays.toString(counts))
                    .isLessThan(Brute.chiSquareCritical(chi[1]));
        }
    }

    @Test
    void withTheClassPriorTheFirstGridIsDrawnFromTheMarginal() {
        RandomSearch random = new RandomSearch(SearchOptions.defaults().withSamplingBatch(1)
                .withRandomClasses(RandomClasses.CLASS_PRIOR));
        List<int[]> all = Brute.grids(SHAPE);
        long[] counts = new long[all.size()];
        for (int seed = 0; seed < 4000; seed++) {
            counts[index(random.search(PRIOR, SearchRequest.of(1, seed)).grid(0))]++;
        }
        double[] p = all.stream().mapToDouble(g -> Math.exp(PRIOR.marginalLogProb(g))).toArray();
        double[] chi = Brute.chiSquare(counts, p);
        assertThat(chi[0]).as("chi-square with %s degrees of freedom", chi[1])
                .isLessThan(Brute.chiSquareCritical(chi[1]));
    }

    @Test
    void theDrawsDependOnNeitherTheBatchesNorTheBlocks() {
        LatentSet reference = new RandomSearch(SearchOptions.defaults()).search(PRIOR, SearchRequest.of(30, 6));
        for (SearchOptions options : List.of(SearchOptions.defaults().withSamplingBatch(1),
                SearchOptions.defaults().withSamplingBatch(7), SearchOptions.defaults().withMaxBlockElements(6))) {
            LatentSet found = new RandomSearch(options).search(PRIOR, SearchRequest.of(30, 6));
            assertThat(found.codes()).as("%s", options).containsExactly(reference.codes());
            assertThat(found.classes()).as("%s", options).containsExactly(reference.classes());
        }
    }

    @Test
    void everyPrefixOfAResultIsTheResultOfASmallerRequest() {
        RandomSearch random = new RandomSearch(SearchOptions.defaults().withSamplingBatch(16));
        LatentSet large = random.search(PRIOR, SearchRequest.of(50, 8));
        for (int n : new int[] {1, 7, 16, 33}) {
            LatentSet small = random.search(PRIOR, SearchRequest.of(n, 8));
            assertThat(small.codes()).containsExactly(large.prefix(n).codes());
            assertThat(small.classes()).containsExactly(large.prefix(n).classes());
        }
    }

    @Test
    void samplesOneBatchWithOneCallPerPosition() {
        int before = PRIOR.nextCalls();
        new RandomSearch(SearchOptions.defaults()).search(PRIOR, SearchRequest.of(20, 2));
        assertThat(PRIOR.nextCalls() - before).isEqualTo(SHAPE.positions());
    }

    @Test
    void aResumedSearchKeepsTheFixedPrefixAndSamplesTheRest() {
        int[] prefix = {2, 0};
        LatentSet found = new RandomSearch(SearchOptions.defaults()).search(PRIOR, new SearchRequest(6, 4, prefix));
        assertThat(found.distinctGrids()).isEqualTo(6);
        for (int i = 0; i < found.size(); i++) {
            assertThat(Arrays.copyOf(found.grid(i), 2)).containsExactly(prefix);
        }
    }

    @Test
    void enumeratesWhenNReachesTheNumberOfGrids() {
        LatentSet found = new RandomSearch(SearchOptions.defaults()).search(PRIOR, new SearchRequest(20, 4,
                new int[] {1, 1}));
        assertThat(found.size()).isEqualTo(9);
        assertThat(Brute.keys(List.of(found.grid(0)))).containsExactlyElementsOf(Brute.keys(Brute.best(
                Brute.grids(SHAPE, 1, 1), 1, PRIOR::marginalLogProb)));
    }

    @Test
    void givesUpAfterTheAttemptBoundSayingHowManyGridsItFound() {
        TablePrior peaked = TablePrior.random(BACKEND, SHAPE, new double[] {0.5, 0.5}, 12.0, 3);
        RandomSearch random = new RandomSearch(SearchOptions.defaults().withAttemptsPerGrid(2).withSamplingBatch(32));
        assertThatThrownBy(() -> random.search(peaked, SearchRequest.of(80, 0)))
                .isInstanceOf(VqdistillException.class)
                .hasMessageMatching("random search: found only \\d+ distinct grids of the 80 requested in 160 draws.*")
                .hasMessageContaining("attemptsPerGrid = 2");
    }
}
