package io.vqdistill.distill.search;

import static org.assertj.core.api.Assertions.assertThat;

import io.vqdistill.api.Backend;
import io.vqdistill.api.BackendSelector;
import io.vqdistill.api.model.LatentShape;
import io.vqdistill.api.search.BeamScoring;
import io.vqdistill.api.search.EncodedImages;
import io.vqdistill.api.search.LatentSearch;
import io.vqdistill.api.search.LatentSet;
import io.vqdistill.api.search.ProgressListener;
import io.vqdistill.api.search.SearchOptions;
import io.vqdistill.api.search.SearchRequest;
import io.vqdistill.api.spi.BackendOptions;
import io.vqdistill.distill.toy.EncodedData;
import io.vqdistill.distill.toy.TablePrior;
import java.util.Random;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Every shipped search reports its progress under the {@link ProgressListener} rules. */
class SearchProgressTest {
    private static final Backend BACKEND = BackendSelector.discover().select("fake", BackendOptions.defaults());
    private static final LatentShape SHAPE = new LatentShape(2, 2, 3);
    private static final TablePrior PRIOR = TablePrior.random(BACKEND, SHAPE, new double[] {0.5, 0.3, 0.2}, 1.0, 3);

    /** The reports of one search, as (done, total) pairs. */
    private static List<long[]> reports(LatentSearch search, SearchRequest request) {
        List<long[]> out = new ArrayList<>();
        search.search(PRIOR, request.withProgress((done, total) -> out.add(new long[] {done, total})));
        return out;
    }

    @Test
    void everySearchReportsMonotoneProgressThatEndsComplete() {
        SearchOptions options = SearchOptions.defaults().withBeamStarts(2).withMaxBlockElements(12);
        List<LatentSearch> searches = List.of(new BeamSearch(options),
                new BeamSearch(options.withBeamScoring(BeamScoring.CLASS_MARGINAL)), new RandomSearch(options),
                new TopSearch(options), new ExhaustiveSearch(options),
                new EncodedSearch(options, EncodedSearch.Ranking.COUNT),
                new EncodedSearch(options, EncodedSearch.Ranking.PRIOR));
        EncodedImages everyGrid = EncodedData.withEveryGrid(SHAPE, 400, 3, new Random(4));
        for (LatentSearch search : searches) {
            for (SearchRequest request : List.of(SearchRequest.of(20, 1), new SearchRequest(5, 2, new int[] {1}),
                    SearchRequest.of(81, 0))) {
                List<long[]> reports = reports(search, request.withEncoded(everyGrid));
                String what = search + " for " + request.count() + " grids";
                assertThat(reports.size()).as(what + ": reports").isGreaterThan(1);
                long done = 0;
                long total = 1;
                for (long[] r : reports) {
                    assertThat(r[0]).as(what + ": done").isGreaterThanOrEqualTo(done).isLessThanOrEqualTo(r[1]);
                    assertThat(r[1]).as(what + ": total").isGreaterThanOrEqualTo(total);
                    done = r[0];
                    total = r[1];
                }
                long[] last = reports.get(reports.size() - 1);
                assertThat(last[0]).as(what + ": the last report is complete").isEqualTo(last[1]);
            }
        }
    }

    @Test
    void withoutScoresTheSearchesReturnTheSameGridsWithNaNAndNeverScoreWholeGrids() {
        SearchOptions scored = SearchOptions.defaults().withBeamStarts(2);
        for (boolean beam : new boolean[] {true, false}) {
            LatentSearch with = beam ? new BeamSearch(scored) : new RandomSearch(scored);
            LatentSearch without = beam ? new BeamSearch(scored.withScoreGrids(false))
                    : new RandomSearch(scored.withScoreGrids(false));
            LatentSet a = with.search(PRIOR, SearchRequest.of(25, 3));
            int before = PRIOR.logProbCalls();
            LatentSet b = without.search(PRIOR, SearchRequest.of(25, 3));
            assertThat(PRIOR.logProbCalls()).as("%s: whole-grid evaluations", without).isEqualTo(before);
            assertThat(b.codes()).containsExactly(a.codes());
            assertThat(b.classes()).containsExactly(a.classes());
            assertThat(java.util.Arrays.stream(b.logProbs()).allMatch(Double::isNaN)).isTrue();
            assertThat(java.util.Arrays.stream(a.logProbs()).noneMatch(Double::isNaN)).isTrue();
        }
    }

    @Test
    void theBeamSearchCountsTheRowsItAsksTheIncrementalPriorFor() {
        // per-class: one row per entry per position plus |C| start rows and |C| rows per grid for its score
        List<long[]> reports = reports(new BeamSearch(SearchOptions.defaults().withStochastic(false)),
                SearchRequest.of(30, 0));
        long[] last = reports.get(reports.size() - 1);
        // K = 3 gives 3 classes x 3 starts = 9 slots with shares 4, 4, 4, 3, ..., 3 and beams of those widths;
        // over 3 steps a beam of width w holds 1, min(w, 3), min(w, 9) entries: 8 rows for w = 4, 7 for w = 3
        assertThat(last[1]).isEqualTo(3 + (3 * 8 + 6 * 7) + 30 * 3);
    }
}
