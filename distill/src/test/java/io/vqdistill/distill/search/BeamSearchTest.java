package io.vqdistill.distill.search;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import io.vqdistill.api.Backend;
import io.vqdistill.api.BackendSelector;
import io.vqdistill.api.model.LatentShape;
import io.vqdistill.api.search.BeamScoring;
import io.vqdistill.api.search.LatentSet;
import io.vqdistill.api.search.SearchOptions;
import io.vqdistill.api.search.SearchRequest;
import io.vqdistill.api.spi.BackendOptions;
import io.vqdistill.distill.toy.Brute;
import io.vqdistill.distill.toy.TablePrior;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class BeamSearchTest {
    private static final Backend BACKEND = BackendSelector.discover().select("fake", BackendOptions.defaults());
    private static final LatentShape SHAPE = new LatentShape(2, 2, 3);
    private static final TablePrior PRIOR = TablePrior.random(BACKEND, SHAPE, new double[] {0.5, 0.3, 0.2}, 1.5, 11);
    private static final SearchOptions DETERMINISTIC = SearchOptions.defaults().withStochastic(false).withBeamStarts(2);

    /** The grids of a result grouped by the code at {@code position}. */
    private static Map<Integer, List<int[]>> byCode(LatentSet set, int position) {
        Map<Integer, List<int[]>> out = new LinkedHashMap<>();
        for (int i = 0; i < set.size(); i++) {
            out.computeIfAbsent(set.grid(i)[position], c -> new ArrayList<>()).add(set.grid(i));
        }
        return out;
    }

    @Test
    void aWideClassMarginalBeamReturnsTheExactTopCompletionsOfEachStart() {
        // 3 classes x 2 starts and N = 54: 9 grids per slot, as wide as the 9 prefixes of length 3 of a start
        LatentSet found = new BeamSearch(DETERMINISTIC.withBeamScoring(BeamScoring.CLASS_MARGINAL))
                .search(PRIOR, SearchRequest.of(54, 0));
        assertThat(found.size()).isEqualTo(54);
        assertThat(found.distinctGrids()).isEqualTo(54);
        byCode(found, 0).forEach((start, grids) -> assertThat(Brute.keys(grids))
                .as("start %d", start)
                .containsExactlyInAnyOrderElementsOf(Brute.keys(Brute.best(Brute.grids(SHAPE, start), grids.size(),
                        PRIOR::marginalLogProb))));
        for (int i = 0; i < found.size(); i++) {
            assertThat(found.logProbs()[i]).isCloseTo(PRIOR.marginalLogProb(found.grid(i)), within(1e-9));
        }
    }

    @Test
    void startsAreEachClasssMostProbableCodesAndEveryClassGetsItsShare() {
        LatentSet found = new BeamSearch(DETERMINISTIC).search(PRIOR, SearchRequest.of(30, 0));
        int[] perClass = new int[3];
        for (int i = 0; i < found.size(); i++) {
            int c = found.classes()[i];
            perClass[c]++;
            double[] first = new double[3];
            for (int code = 0; code < 3; code++) {
                first[code] = firstPositionLogProb(c, code);
            }
            double worstStart = Arrays.stream(first).sorted().toArray()[1];
            assertThat(first[found.grid(i)[0]]).as("grid %d of class %d starts with one of its 2 best codes", i, c)
                    .isGreaterThanOrEqualTo(worstStart);
        }
        assertThat(perClass).containsExactly(10, 10, 10);
    }

    private static double firstPositionLogProb(int c, int code) {
        double[] v = new double[27];
        List<int[]> completions = Brute.grids(SHAPE, code);
        for (int i = 0; i < v.length; i++) {
            v[i] = PRIOR.logProb(completions.get(i), c);
        }
        return Brute.logSumExp(v);
    }

    @Test
    void everyPrefixOfTheResultHoldsTheClassesInEqualShares() {
        for (SearchOptions options : List.of(DETERMINISTIC, SearchOptions.defaults().withBeamStarts(2))) {
            LatentSet found = new BeamSearch(options).search(PRIOR, SearchRequest.of(25, 3));
            int[] counts = new int[3];
            for (int i = 0; i < found.size(); i++) {
                counts[found.classes()[i]]++;
                int max = Arrays.stream(counts).max().orElseThrow();
                int min = Arrays.stream(counts).min().orElseThrow();
                assertThat(max - min).as("class counts %s after %d grids", Arrays.toString(counts), i + 1)
                        .isLessThanOrEqualTo(1);
            }
        }
    }

    @Test
    void smallRequestsTakeOneGridFromEachClassFirst() {
        LatentSet two = new BeamSearch(DETERMINISTIC).search(PRIOR, SearchRequest.of(2, 0));
        assertThat(two.classes()).containsExactly(0, 1);
        assertThat(two.distinctGrids()).isEqualTo(2);
        LatentSet one = new BeamSearch(SearchOptions.defaults()).search(PRIOR, SearchRequest.of(1, 5));
        assertThat(one.size()).isEqualTo(1);
        assertThat(one.classes()).containsExactly(0);
    }

    @Test
    void oneCallPerPositionServesEveryClassAndBeam() {
        for (BeamScoring scoring : BeamScoring.values()) {
            SearchOptions options = SearchOptions.defaults().withBeamScoring(scoring);
            int before = PRIOR.nextCalls();
            new BeamSearch(options).search(PRIOR, SearchRequest.of(40, 1));
            assertThat(PRIOR.nextCalls() - before).as("%s", scoring).isEqualTo(SHAPE.positions());
            before = PRIOR.nextCalls();
            new BeamSearch(options.withMaxBlockElements(9)).search(PRIOR, SearchRequest.of(40, 1));
            assertThat(PRIOR.nextCalls() - before).as("%s: blocks of at most 9 / K = 3 rows", scoring)
                    .isGreaterThan(SHAPE.positions());
        }
    }

    @Test
    void theStochasticSearchIsReproducibleAndVariesWithTheSeed() {
        BeamSearch beam = new BeamSearch(SearchOptions.defaults().withBeamStarts(2));
        LatentSet a = beam.search(PRIOR, SearchRequest.of(20, 42));
        LatentSet b = beam.search(PRIOR, SearchRequest.of(20, 42));
        assertThat(a.codes()).containsExactly(b.codes());
        assertThat(a.distinctGrids()).isEqualTo(20);
        boolean differs = false;
        for (long seed = 0; seed < 5 && !differs; seed++) {
            differs = !Arrays.equals(beam.search(PRIOR, SearchRequest.of(20, seed)).codes(), a.codes());
        }
        assertThat(differs).isTrue();
    }

    @Test
    void theStochasticSearchSamplesGridsInProportionToTheirProbability() {
        // one class and one start: the first grid of a beam of width 3 is an exact sample of p(z)
        TablePrior single = TablePrior.random(BACKEND, SHAPE, new double[] {1}, 1.0, 5);
        BeamSearch beam = new BeamSearch(SearchOptions.defaults().withBeamStarts(1));
        List<int[]> all = Brute.grids(SHAPE);
        long[] counts = new long[all.size()];
        int draws = 3000;
        for (int seed = 0; seed < draws; seed++) {
            int[] first = beam.search(single, SearchRequest.of(3, seed)).grid(0);
            counts[index(first)]++;
        }
        double[] p = all.stream().mapToDouble(g -> Math.exp(single.marginalLogProb(g))).toArray();
        double[] chi = Brute.chiSquare(counts, p);
        assertThat(chi[0]).as("chi-square with %s degrees of freedom", chi[1])
                .isLessThan(Brute.chiSquareCritical(chi[1]));
    }

    private static int index(int[] grid) {
        int n = 0;
        for (int code : grid) {
            n = n * 3 + code;
        }
        return n;
    }

    @Test
    void aResumedSearchKeepsTheFixedPrefix() {
        int[] prefix = {1, 2};
        for (SearchOptions options : List.of(DETERMINISTIC, SearchOptions.defaults())) {
            LatentSet found = new BeamSearch(options).search(PRIOR, new SearchRequest(5, 9, prefix));
            assertThat(found.size()).isEqualTo(5);
            assertThat(found.distinctGrids()).isEqualTo(5);
            for (int i = 0; i < found.size(); i++) {
                assertThat(Arrays.copyOf(found.grid(i), 2)).containsExactly(prefix);
            }
        }
    }

    @Test
    void startsWithTooFewCompletionsAreToppedUpFromOtherStarts() {
        // one free position: every start is a whole grid, so each slot's beam holds one grid
        LatentSet found = new BeamSearch(DETERMINISTIC.withBeamStarts(1))
                .search(PRIOR, new SearchRequest(2, 0, new int[] {0, 1, 2}));
        assertThat(found.size()).isEqualTo(2);
        assertThat(found.distinctGrids()).isEqualTo(2);
        LatentSet all = new BeamSearch(DETERMINISTIC).search(PRIOR, new SearchRequest(3, 0, new int[] {0, 1, 2}));
        assertThat(Brute.keys(List.of(all.grid(0), all.grid(1), all.grid(2))))
                .containsExactlyElementsOf(Brute.keys(Brute.best(Brute.grids(SHAPE, 0, 1, 2), 3,
                        PRIOR::marginalLogProb)));
    }
}
