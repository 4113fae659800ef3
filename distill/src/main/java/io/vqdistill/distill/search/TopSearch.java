package io.vqdistill.distill.search;

import io.vqdistill.api.model.Prior;
import io.vqdistill.api.search.LatentSearch;
import io.vqdistill.api.search.LatentSet;
import io.vqdistill.api.search.SearchOptions;
import io.vqdistill.api.search.SearchRequest;
import io.vqdistill.circuits.Numerics;
import jakarta.inject.Inject;
import java.util.List;
import java.util.Objects;

/**
 * {@code top}: the N grids of highest class-marginal p(z) = sum_c p(c) p(z | c) found by one
 * deterministic beam search of width {@code topWidthFactor * N} from the fixed prefix: a mixture of the
 * most probable grids, whose components tend to explain the same images alike. Beam search is exact when the beam holds every prefix that leads to a top-N
 * grid, and in any case returns N distinct grids. Results are sorted by log p(z), best first, without
 * class tags (-1); when N reaches the number of grids, all are enumerated. The seed is not used.
 * The beam holds |C| prior rows per prefix, answered statelessly in blocks so that its memory stays
 * bounded; progress counts those rows.
 */
public final class TopSearch implements LatentSearch {
    /** The name it is registered under. */
    public static final String NAME = "top";

    private final SearchOptions options;

    /** A search with the given options. */
    @Inject
    public TopSearch(SearchOptions options) {
        this.options = Objects.requireNonNull(options, "options");
    }

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public LatentSet search(Prior prior, SearchRequest request) {
        PriorCalls calls = PriorCalls.of(NAME + " search", prior, request);
        int n = request.count();
        Progress progress = new Progress(request.progress());
        if (n >= calls.completions()) {
            return Enumerated.best(calls, n, options, progress);
        }
        long wanted = Math.min(calls.completions(), (long) n * options.topWidthFactor());
        int width = (int) Math.min(Integer.MAX_VALUE, wanted);
        double[] joint = calls.prefixLogJoint();
        double logMarginal = Numerics.logSumExp(joint);
        BeamEngine.Entry root = new BeamEngine.Entry(0, calls.prefixGrid(), joint, logMarginal, logMarginal);
        progress.expect(BeamEngine.expectedRows(new int[] {width}, calls.positions() - calls.firstFree(),
                calls.codebookSize(), calls.classes()));
        List<BeamEngine.Entry> found = new BeamEngine(calls, options.maxBlockElements(), progress)
                .run(List.of(root), calls.firstFree(), new int[] {width}, null, new BeamEngine.Ranking(null, false),
                        null).get(0);
        int p = calls.positions();
        int[] codes = new int[n * p];
        int[] classes = new int[n];
        double[] scores = new double[n];
        for (int i = 0; i < n; i++) {
            BeamEngine.Entry e = found.get(i);
            System.arraycopy(e.codes(), 0, codes, i * p, p);
            classes[i] = -1;
            scores[i] = e.logScore();
        }
        progress.finish();
        return new LatentSet(calls.shape(), codes, classes, scores);
    }

    @Override
    public String toString() {
        return NAME + " (width " + options.topWidthFactor() + " x N)";
    }
}
