package io.vqdistill.distill.search;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import io.vqdistill.api.Backend;
import io.vqdistill.api.BackendSelector;
import io.vqdistill.api.InvalidArgumentException;
import io.vqdistill.api.model.LatentShape;
import io.vqdistill.api.search.LatentSet;
import io.vqdistill.api.search.SearchOptions;
import io.vqdistill.api.search.SearchRequest;
import io.vqdistill.api.spi.BackendOptions;
import io.vqdistill.distill.toy.Brute;
import io.vqdistill.distill.toy.TablePrior;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class TopAndExhaustiveSearchTest {
    private static final Backend BACKEND = BackendSelector.discover().select("fake", BackendOptions.defaults());
    private static final LatentShape SHAPE = new LatentShape(2, 2, 3);
    private static final TablePrior PRIOR = TablePrior.random(BACKEND, SHAPE, new double[] {0.5, 0.3, 0.2}, 1.5, 7);

    private static List<int[]> grids(LatentSet set) {
        List<int[]> out = new ArrayList<>();
        for (int i = 0; i < set.size(); i++) {
            out.add(set.grid(i));
        }
        return out;
    }

    private static List<String> bruteTop(int n, int... prefix) {
        return Brute.keys(Brute.best(Brute.grids(SHAPE, prefix), n, PRIOR::marginalLogProb));
    }

    @Test
    void aWideEnoughTopSearchReturnsTheTopNOfTheEnumerationInOrder() {
        TopSearch top = new TopSearch(SearchOptions.defaults().withTopWidthFactor(27));
        for (int n : new int[] {1, 3, 5, 20}) {
            LatentSet found = top.search(PRIOR, SearchRequest.of(n, 0));
            assertThat(Brute.keys(grids(found))).as("N = %d", n).containsExactlyElementsOf(bruteTop(n));
            for (int i = 0; i < n; i++) {
                assertThat(found.logProbs()[i]).isCloseTo(PRIOR.marginalLogProb(found.grid(i)), within(1e-9));
                assertThat(found.classes()[i]).isEqualTo(-1);
            }
        }
    }

    @Test
    void topWithWidthNReturnsNDistinctGridsBestFirstInOneCallPerPosition() {
        int before = PRIOR.nextCalls();
        LatentSet found = new TopSearch(SearchOptions.defaults()).search(PRIOR, SearchRequest.of(10, 0));
        assertThat(PRIOR.nextCalls() - before).isEqualTo(SHAPE.positions());
        assertThat(found.size()).isEqualTo(10);
        assertThat(found.distinctGrids()).isEqualTo(10);
        double[] scores = found.logProbs();
        for (int i = 1; i < scores.length; i++) {
            assertThat(scores[i]).isLessThanOrEqualTo(scores[i - 1]);
        }
    }

    @Test
    void topKeepsAFixedPrefixAndRanksItsCompletions() {
        TopSearch top = new TopSearch(SearchOptions.defaults().withTopWidthFactor(3));
        LatentSet found = top.search(PRIOR, new SearchRequest(4, 0, new int[] {2, 1}));
        assertThat(Brute.keys(grids(found))).containsExactlyElementsOf(bruteTop(4, 2, 1));
    }

    @Test
    void exhaustiveReturnsEveryGridBestFirstOrTheExactTopN() {
        ExhaustiveSearch all = new ExhaustiveSearch(SearchOptions.defaults().withEnumerationChunk(7));
        LatentSet every = all.search(PRIOR, SearchRequest.of(1000, 0));
        assertThat(every.size()).isEqualTo(81);
        assertThat(Brute.keys(grids(every))).containsExactlyElementsOf(bruteTop(81));
        LatentSet best = all.search(PRIOR, SearchRequest.of(12, 0));
        assertThat(Brute.keys(grids(best))).containsExactlyElementsOf(bruteTop(12));
        double total = 0;
        for (double lp : every.logProbs()) {
            total += Math.exp(lp);
        }
        assertThat(total).isCloseTo(1, within(1e-5));
    }

    @Test
    void exhaustiveEnumeratesTheCompletionsOfAPrefix() {
        LatentSet found = new ExhaustiveSearch(SearchOptions.defaults())
                .search(PRIOR, new SearchRequest(100, 0, new int[] {0, 2, 1}));
        assertThat(Brute.keys(grids(found))).containsExactlyElementsOf(bruteTop(3, 0, 2, 1));
    }

    @Test
    void exhaustiveRefusesEnumerationsBeyondItsBound() {
        ExhaustiveSearch all = new ExhaustiveSearch(SearchOptions.defaults().withMaxEnumeratedGrids(80));
        assertThatThrownBy(() -> all.search(PRIOR, SearchRequest.of(5, 0)))
                .isInstanceOf(InvalidArgumentException.class)
                .hasMessageContaining("3^4 = 81 grids")
                .hasMessageContaining("bound of 80");
    }

    @Test
    void aBadPrefixIsRejectedNamingTheCode() {
        assertThatThrownBy(() -> new TopSearch(SearchOptions.defaults()).search(PRIOR, new SearchRequest(2, 0,
                new int[] {1, 3})))
                .isInstanceOf(InvalidArgumentException.class)
                .hasMessageContaining("code 3 at position 1 is outside [0, 3)");
        assertThatThrownBy(() -> new ExhaustiveSearch(SearchOptions.defaults()).search(PRIOR, new SearchRequest(2, 0,
                new int[] {0, 0, 0, 0, 0})))
                .isInstanceOf(InvalidArgumentException.class)
                .hasMessageContaining("5 codes but a 2x2 K=3 grid has 4 positions");
    }
}
