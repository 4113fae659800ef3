package io.vqdistill.distill.search;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import io.vqdistill.api.Backend;
import io.vqdistill.api.BackendSelector;
import io.vqdistill.api.InvalidArgumentException;
import io.vqdistill.api.model.LatentShape;
import io.vqdistill.api.search.EncodedImages;
import io.vqdistill.api.search.LatentSet;
import io.vqdistill.api.search.SearchOptions;
import io.vqdistill.api.search.SearchRequest;
import io.vqdistill.api.spi.BackendOptions;
import io.vqdistill.distill.toy.EncodedData;
import io.vqdistill.distill.toy.TablePrior;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** The data-guided searches against a brute-force ranking of the encoded training grids. */
class EncodedSearchTest {
    private static final Backend BACKEND = BackendSelector.discover().select("fake", BackendOptions.defaults());
    private static final LatentShape SHAPE = new LatentShape(2, 2, 3);
    private static final TablePrior PRIOR = TablePrior.random(BACKEND, SHAPE, new double[] {0.5, 0.3, 0.2}, 1.0, 5);
    private static final EncodedImages DATA = EncodedData.random(SHAPE, 400, 3, new Random(9));
    private static final SearchOptions OPTIONS = SearchOptions.defaults().withEnumerationChunk(7);

    /** A distinct grid of the data: count, first use and the labels' counts. */
    private record Use(String key, int[] grid, int first, int count, int[] labels) {
    }

    private static List<Use> uses(EncodedImages data) {
        Map<String, Use> byKey = new HashMap<>();
        int p = SHAPE.positions();
        for (int b = 0; b < data.size(); b++) {
            int[] grid = Arrays.copyOfRange(data.codes(), b * p, (b + 1) * p);
            String key = Arrays.toString(grid);
            Use u = byKey.getOrDefault(key, new Use(key, grid, b, 0, new int[3]));
            int[] labels = u.labels().clone();
            labels[data.labels()[b]]++;
            byKey.put(key, new Use(key, grid, u.first(), u.count() + 1, labels));
        }
        return new ArrayList<>(byKey.values());
    }

    private static int majority(int[] labels) {
        int best = 0;
        for (int c = 1; c < labels.length; c++) {
            if (labels[c] > labels[best]) {
                best = c;
            }
        }
        return best;
    }

    private static SearchRequest request(int n) {
        return SearchRequest.of(n, 0).withEncoded(DATA);
    }

    @Test
    void encodedRanksTheTrainingGridsByUseThenByTheJointPczUnderTheirMajorityClass() {
        List<Use> expected = uses(DATA);
        expected.sort(Comparator.comparingInt((Use u) -> -u.count())
                .thenComparingDouble(u -> -PRIOR.logJoint(u.grid(), majority(u.labels()))));
        LatentSet found = new EncodedSearch(OPTIONS, EncodedSearch.Ranking.COUNT).search(PRIOR, request(20));
        assertThat(found.size()).isEqualTo(20);
        assertThat(found.distinctGrids()).isEqualTo(20);
        for (int i = 0; i < 20; i++) {
            Use u = expected.get(i);
            assertThat(found.grid(i)).as("grid %d", i).containsExactly(u.grid());
            assertThat(found.classes()[i]).as("class of grid %d", i).isEqualTo(majority(u.labels()));
            assertThat(found.logProbs()[i]).as("log p(c, z) of grid %d", i)
                    .isCloseTo(PRIOR.logJoint(u.grid(), majority(u.labels())), within(1e-5));
        }
    }

    @Test
    void encodedPriorRanksTheDistinctTrainingGridsByPz() {
        List<Use> expected = uses(DATA);
        expected.sort(Comparator.comparingDouble((Use u) -> -PRIOR.marginalLogProb(u.grid())));
        LatentSet found = new EncodedSearch(OPTIONS, EncodedSearch.Ranking.PRIOR).search(PRIOR, request(15));
        for (int i = 0; i < 15; i++) {
            assertThat(found.grid(i)).as("grid %d", i).containsExactly(expected.get(i).grid());
        }
    }

    @Test
    void withoutScoresTiesGoByFirstUseAndThePriorIsNeverAskedForWholeGrids() {
        List<Use> expected = uses(DATA);
        expected.sort(Comparator.comparingInt((Use u) -> -u.count()).thenComparingInt(Use::first));
        int before = PRIOR.logProbCalls();
        LatentSet found = new EncodedSearch(OPTIONS.withScoreGrids(false), EncodedSearch.Ranking.COUNT)
                .search(PRIOR, request(30));
        assertThat(PRIOR.logProbCalls()).isEqualTo(before);
        for (int i = 0; i < 30; i++) {
            assertThat(found.grid(i)).as("grid %d", i).containsExactly(expected.get(i).grid());
            assertThat(found.logProbs()[i]).isNaN();
        }
    }

    @Test
    void everyPrefixOfAResultIsTheResultOfASmallerRequestAndAFixedPrefixIsKept() {
        EncodedSearch search = new EncodedSearch(OPTIONS, EncodedSearch.Ranking.COUNT);
        LatentSet large = search.search(PRIOR, request(25));
        LatentSet small = search.search(PRIOR, request(9));
        assertThat(small.codes()).containsExactly(large.prefix(9).codes());
        LatentSet kept = search.search(PRIOR, new SearchRequest(4, 0, new int[] {2}).withEncoded(DATA));
        for (int i = 0; i < kept.size(); i++) {
            assertThat(kept.grid(i)[0]).isEqualTo(2);
        }
    }

    @Test
    void encodedSampledTakesTheGridsInASeededRandomDrawOfTheImagesWithoutAskingThePrior() {
        EncodedSearch search = new EncodedSearch(OPTIONS, EncodedSearch.Ranking.SAMPLED);
        int before = PRIOR.logProbCalls();
        LatentSet large = search.search(PRIOR, SearchRequest.of(25, 3).withEncoded(DATA));
        assertThat(PRIOR.logProbCalls()).isEqualTo(before);
        assertThat(large.distinctGrids()).isEqualTo(25);
        assertThat(search.search(PRIOR, SearchRequest.of(9, 3).withEncoded(DATA)).codes())
                .containsExactly(large.prefix(9).codes());
        assertThat(search.search(PRIOR, SearchRequest.of(25, 4).withEncoded(DATA)).codes())
                .isNotEqualTo(large.codes());
        Map<String, Use> byKey = new HashMap<>();
        uses(DATA).forEach(u -> byKey.put(u.key(), u));
        for (int i = 0; i < large.size(); i++) {
            Use u = byKey.get(Arrays.toString(large.grid(i)));
            assertThat(u).as("grid %d is a training grid", i).isNotNull();
            assertThat(large.classes()[i]).isEqualTo(majority(u.labels()));
        }
        // a draw from the images: a grid that k of the 400 images use comes first with probability k / 400
        EncodedImages skewed = EncodedData.random(SHAPE, 400, 3, new Random(10));
        List<Use> all = uses(skewed);
        Use common = all.stream().max(Comparator.comparingInt(Use::count)).orElseThrow();
        int trials = 4000;
        int first = 0;
        for (int seed = 0; seed < trials; seed++) {
            LatentSet one = search.search(PRIOR, SearchRequest.of(1, seed).withEncoded(skewed));
            first += Arrays.equals(one.grid(0), common.grid()) ? 1 : 0;
        }
        double p = common.count() / 400.0;
        assertThat((double) first / trials).isCloseTo(p, within(4 * Math.sqrt(p * (1 - p) / trials)));
    }

    @Test
    void tooFewDistinctGridsOrNoEncodedImagesAreErrorsSayingWhy() {
        EncodedSearch search = new EncodedSearch(OPTIONS, EncodedSearch.Ranking.COUNT);
        int distinct = uses(DATA).size();
        assertThatThrownBy(() -> search.search(PRIOR, request(distinct + 1)))
                .isInstanceOf(InvalidArgumentException.class)
                .hasMessageContaining("assigns " + distinct + " distinct grids to the 400 training images");
        assertThatThrownBy(() -> search.search(PRIOR, SearchRequest.of(3, 0)))
                .isInstanceOf(InvalidArgumentException.class).hasMessageContaining("none were given");
        assertThat(search.usesEncodedImages()).isTrue();
    }
}
