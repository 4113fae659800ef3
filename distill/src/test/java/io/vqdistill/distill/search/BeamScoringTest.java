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
import java.util.Comparator;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.ToDoubleFunction;
import org.junit.jupiter.api.Test;

/**
 * The ranking of the beam search against Algorithms 1-2 computed by brute force: on a 2x2 grid with
 * K = 3 every prefix can be enumerated, so a prefix's score is the log of the summed probabilities
 * of all its completions, independently of the chain rule the search uses.
 */
class BeamScoringTest {
    private static final Backend BACKEND = BackendSelector.discover().select("fake", BackendOptions.defaults());
    private static final LatentShape SHAPE = new LatentShape(2, 2, 3);
    private static final int K = 3;
    private static final double[] CLASS_PRIOR = {0.5, 0.3, 0.2};
    private static final TablePrior PRIOR = TablePrior.random(BACKEND, SHAPE, CLASS_PRIOR, 1.5, 11);
    private static final SearchOptions DETERMINISTIC = SearchOptions.defaults().withStochastic(false);

    /** log p(c) + log p(prefix | c), summing p(z | c) over every completion z of the prefix. */
    private static double classPrefixScore(TablePrior prior, int c, int[] prefix) {
        List<int[]> completions = Brute.grids(SHAPE, prefix);
        double[] v = new double[completions.size()];
        for (int i = 0; i < v.length; i++) {
            v[i] = prior.logJoint(completions.get(i), c);
        }
        return Brute.logSumExp(v);
    }

    /** log p(prefix) = logsumexp_c [log p(c) + log p(prefix | c)], by enumeration. */
    private static double marginalPrefixScore(TablePrior prior, int[] prefix) {
        double[] v = new double[prior.numClasses()];
        for (int c = 0; c < v.length; c++) {
            v[c] = classPrefixScore(prior, c, prefix);
        }
        return Brute.logSumExp(v);
    }

    /**
     * Algorithm 2, deterministic, over enumerated prefixes: from {@code start}, extend every prefix by
     * every code, rank by {@code score} (ties by grid) and keep {@code width}, or {@code keepLast} at the
     * last position. Complete grids, best first.
     */
    private static List<int[]> referenceBeam(int[] start, int width, int keepLast, ToDoubleFunction<int[]> score) {
        List<int[]> beam = List.of(start);
        for (int length = start.length + 1; length <= SHAPE.positions(); length++) {
            List<int[]> candidates = new ArrayList<>();
            for (int[] prefix : beam) {
                for (int code = 0; code < K; code++) {
                    int[] next = Arrays.copyOf(prefix, length);
                    next[length - 1] = code;
                    candidates.add(next);
                }
            }
            candidates.sort(Comparator.comparingDouble(score).reversed().thenComparing(Arrays::compare));
            int keep = length == SHAPE.positions() ? keepLast : width;
            beam = candidates.subList(0, Math.min(keep, candidates.size()));
        }
        return beam;
    }

    private record Slot(int cls, int code, int quota, List<int[]> found) {
    }

    /**
     * Algorithm 1 with the search's dealing, by brute force: each class's s best first codes, the
     * slots' shares, one beam per slot (per class) or per start (class-marginal), the grids dealt so
     * that they are distinct, interleaved slot after slot. Grids and class tags of the result.
     */
    private static List<int[]> expected(TablePrior prior, int n, int s, int beamWidth, BeamScoring scoring,
                                        List<Integer> tags) {
        int classes = prior.numClasses();
        List<Slot> slots = new ArrayList<>();
        List<List<Integer>> starts = new ArrayList<>();
        for (int c = 0; c < classes; c++) {
            int cls = c;
            List<Integer> codes = new ArrayList<>(List.of(0, 1, 2));
            codes.sort(Comparator.comparingDouble((Integer code) -> classPrefixScore(prior, cls, new int[] {code}))
                    .reversed().thenComparing(Comparator.naturalOrder()));
            starts.add(codes.subList(0, s));
        }
        int count = s * classes;
        for (int j = 0; j < s; j++) {
            for (int c = 0; c < classes; c++) {
                int i = slots.size();
                slots.add(new Slot(c, starts.get(c).get(j), n / count + (i < n % count ? 1 : 0), new ArrayList<>()));
            }
        }
        int capacity = K * K * K;
        if (scoring == BeamScoring.PER_CLASS) {
            List<List<int[]>> beams = new ArrayList<>();
            List<Slot> owners = new ArrayList<>();
            for (Slot slot : slots) {
                if (slot.quota() == 0) {
                    continue;
                }
                int extra = 0;
                for (Slot other : slots) {
                    if (other != slot && other.code() == slot.code()) {
                        extra += other.quota();
                    }
                }
                int width = Math.min(capacity, Math.max(slot.quota(), beamWidth));
                beams.add(referenceBeam(new int[] {slot.code()}, width, width + extra,
                        z -> classPrefixScore(prior, slot.cls(), z)));
                owners.add(slot);
            }
            Set<String> taken = new HashSet<>();
            int[] next = new int[beams.size()];
            boolean dealt = true;
            while (dealt) {
                dealt = false;
                for (int g = 0; g < beams.size(); g++) {
                    Slot slot = owners.get(g);
                    List<int[]> grids = beams.get(g);
                    if (slot.found().size() >= slot.quota()) {
                        continue;
                    }
                    while (next[g] < grids.size() && !taken.add(Arrays.toString(grids.get(next[g])))) {
                        next[g]++;
                    }
                    if (next[g] < grids.size()) {
                        slot.found().add(grids.get(next[g]++));
                        dealt = true;
                    }
                }
            }
        } else {
            Map<Integer, List<Slot>> byCode = new LinkedHashMap<>();
            for (Slot slot : slots) {
                if (slot.quota() > 0) {
                    byCode.computeIfAbsent(slot.code(), c -> new ArrayList<>()).add(slot);
                }
            }
            byCode.forEach((code, sharing) -> {
                int width = Math.min(capacity, Math.max(sharing.stream().mapToInt(Slot::quota).sum(), beamWidth));
                int next = 0;
                int room = sharing.stream().mapToInt(Slot::quota).sum();
                for (int[] grid : referenceBeam(new int[] {code}, width, width, z -> marginalPrefixScore(prior, z))) {
                    if (room-- == 0) {
                        break;
                    }
                    while (sharing.get(next).found().size() >= sharing.get(next).quota()) {
                        next = (next + 1) % sharing.size();
                    }
                    sharing.get(next).found().add(grid);
                    next = (next + 1) % sharing.size();
                }
            });
        }
        List<int[]> out = new ArrayList<>();
        int rounds = slots.stream().mapToInt(slot -> slot.found().size()).max().orElse(0);
        for (int t = 0; t < rounds; t++) {
            for (Slot slot : slots) {
                if (t < slot.found().size()) {
                    out.add(slot.found().get(t));
                    tags.add(slot.cls());
                }
            }
        }
        return out;
    }

    private static List<int[]> grids(LatentSet set) {
        List<int[]> out = new ArrayList<>();
        for (int i = 0; i < set.size(); i++) {
            out.add(set.grid(i));
        }
        return out;
    }

    @Test
    void theDeterministicSearchIsAlgorithmsOneAndTwoComputedByBruteForce() {
        for (BeamScoring scoring : BeamScoring.values()) {
            for (int s : new int[] {1, 2}) {
                for (int width : new int[] {0, 4}) {
                    for (int n : new int[] {3, 7, 12, 25, 54}) {
                        if (n > s * 3 * 27) {
                            continue;
                        }
                        SearchOptions options = DETERMINISTIC.withBeamScoring(scoring).withBeamStarts(s)
                                .withBeamWidth(width);
                        LatentSet found = new BeamSearch(options).search(PRIOR, SearchRequest.of(n, 0));
                        List<Integer> tags = new ArrayList<>();
                        List<int[]> want = expected(PRIOR, n, s, width, scoring, tags);
                        String what = scoring + ", s = " + s + ", width " + width + ", N = " + n;
                        if (want.size() < n) {
                            // classes sharing a start with too few completions: the best remaining grids by p(z)
                            Set<String> taken = new HashSet<>(Brute.keys(want));
                            List<int[]> rest = Brute.grids(SHAPE).stream()
                                    .filter(z -> !taken.contains(Arrays.toString(z))).toList();
                            for (int[] z : Brute.best(rest, n - want.size(), PRIOR::marginalLogProb)) {
                                want.add(z);
                                tags.add(-1);
                            }
                        }
                        assertThat(Brute.keys(grids(found))).as(what).containsExactlyElementsOf(Brute.keys(want));
                        assertThat(found.classes()).as(what)
                                .containsExactly(tags.stream().mapToInt(Integer::intValue).toArray());
                        for (int i = 0; i < n; i++) {
                            assertThat(found.logProbs()[i]).as(what + ": log p(z) of grid %d", i)
                                    .isCloseTo(PRIOR.marginalLogProb(found.grid(i)), within(1e-5));
                        }
                    }
                }
            }
        }
    }

    @Test
    void perClassAndClassMarginalRankingsFindDifferentGridsWhenTheClassesDisagree() {
        int differing = 0;
        for (int n : new int[] {6, 12, 25, 54}) {
            SearchOptions options = DETERMINISTIC.withBeamStarts(2);
            LatentSet perClass = new BeamSearch(options).search(PRIOR, SearchRequest.of(n, 0));
            LatentSet marginal = new BeamSearch(options.withBeamScoring(BeamScoring.CLASS_MARGINAL))
                    .search(PRIOR, SearchRequest.of(n, 0));
            if (!new HashSet<>(Brute.keys(grids(perClass))).equals(new HashSet<>(Brute.keys(grids(marginal))))) {
                differing++;
            }
        }
        assertThat(differing).as("requests whose grid sets differ between the rankings").isGreaterThan(0);
        // a class whose own ranking disagrees with the marginal one: its per-class grids score higher under
        // p(z | c), the class-marginal ones under p(z)
        LatentSet perClass = new BeamSearch(DETERMINISTIC.withBeamStarts(1)).search(PRIOR, SearchRequest.of(9, 0));
        LatentSet marginal = new BeamSearch(DETERMINISTIC.withBeamStarts(1)
                .withBeamScoring(BeamScoring.CLASS_MARGINAL)).search(PRIOR, SearchRequest.of(9, 0));
        for (int c = 0; c < 3; c++) {
            double ownUnderOwn = 0;
            double marginalUnderOwn = 0;
            for (int i = 0; i < 9; i++) {
                if (perClass.classes()[i] == c) {
                    ownUnderOwn += Math.exp(PRIOR.logProb(perClass.grid(i), c));
                }
                if (marginal.classes()[i] == c) {
                    marginalUnderOwn += Math.exp(PRIOR.logProb(marginal.grid(i), c));
                }
            }
            assertThat(ownUnderOwn).as("class %d: p(z | c) mass of its per-class grids", c)
                    .isGreaterThanOrEqualTo(marginalUnderOwn - 1e-12);
        }
    }

    @Test
    void withOneClassBothRankingsAreTheSame() {
        TablePrior single = TablePrior.random(BACKEND, SHAPE, new double[] {1}, 1.5, 12);
        for (int n : new int[] {2, 5, 14}) {
            for (boolean stochastic : new boolean[] {false, true}) {
                SearchOptions options = SearchOptions.defaults().withStochastic(stochastic).withBeamStarts(2);
                LatentSet perClass = new BeamSearch(options).search(single, SearchRequest.of(n, 4));
                LatentSet marginal = new BeamSearch(options.withBeamScoring(BeamScoring.CLASS_MARGINAL))
                        .search(single, SearchRequest.of(n, 4));
                assertThat(perClass.codes()).containsExactly(marginal.codes());
            }
        }
    }

    @Test
    void classesSharingAStartNeverReturnAGridTwice() {
        // two classes that agree: their beams from the same start find the same grids, and the dealing
        // replaces each duplicate by the losing beam's next candidate
        for (long seed = 0; seed < 12; seed++) {
            TablePrior prior = TablePrior.random(BACKEND, SHAPE, new double[] {0.5, 0.5}, 2.5, seed);
            for (boolean stochastic : new boolean[] {false, true}) {
                for (int n : new int[] {4, 10, 40, 80}) {
                    SearchOptions options = SearchOptions.defaults().withStochastic(stochastic).withBeamStarts(2);
                    LatentSet found = new BeamSearch(options).search(prior, SearchRequest.of(n, seed));
                    assertThat(found.size()).isEqualTo(n);
                    assertThat(found.distinctGrids()).as("seed %d, N = %d", seed, n).isEqualTo(n);
                }
            }
        }
    }

    @Test
    void aWiderBeamFindsAtLeastAsProbableGridsPerClass() {
        SearchOptions narrow = DETERMINISTIC.withBeamStarts(1);
        LatentSet paper = new BeamSearch(narrow).search(PRIOR, SearchRequest.of(3, 0));
        LatentSet wide = new BeamSearch(narrow.withBeamWidth(27)).search(PRIOR, SearchRequest.of(3, 0));
        assertThat(wide.classes()).containsExactly(paper.classes());
        for (int i = 0; i < 3; i++) {
            int c = wide.classes()[i];
            int start = wide.grid(i)[0];
            // width 27 holds every prefix: the exact best completion of the start under p(z | c), unless taken
            double best = Brute.grids(SHAPE, start).stream().mapToDouble(z -> PRIOR.logProb(z, c)).max().orElseThrow();
            assertThat(PRIOR.logProb(wide.grid(i), c)).isGreaterThanOrEqualTo(PRIOR.logProb(paper.grid(i), c) - 1e-9);
            if (i == 0) {
                assertThat(PRIOR.logProb(wide.grid(i), c)).isCloseTo(best, within(1e-9));
            }
        }
    }

    @Test
    void theStochasticPerClassSearchSamplesTheFirstClassFromItsOwnConditional() {
        // s = 1 and N = 2: slot (class 0) comes first and owns a beam of width 1 started by a Gumbel
        // draw, so its grid is an exact sample of p(z | c = 0), not of p(z)
        TablePrior prior = TablePrior.random(BACKEND, SHAPE, new double[] {0.2, 0.8}, 1.2, 7);
        BeamSearch beam = new BeamSearch(SearchOptions.defaults().withBeamStarts(1));
        List<int[]> all = Brute.grids(SHAPE);
        long[] counts = new long[all.size()];
        int draws = 3000;
        for (int seed = 0; seed < draws; seed++) {
            LatentSet found = beam.search(prior, SearchRequest.of(2, seed));
            assertThat(found.classes()[0]).isEqualTo(0);
            int[] first = found.grid(0);
            int index = 0;
            for (int code : first) {
                index = index * K + code;
            }
            counts[index]++;
        }
        double[] p = all.stream().mapToDouble(z -> Math.exp(prior.logProb(z, 0))).toArray();
        double[] chi = Brute.chiSquare(counts, p);
        assertThat(chi[0]).as("chi-square against p(z | 0) with %s degrees of freedom", chi[1])
                .isLessThan(Brute.chiSquareCritical(chi[1]));
    }
}
