package io.vqdistill.distill.search;

import io.vqdistill.api.model.Prior;
import io.vqdistill.api.search.LatentSearch;
import io.vqdistill.api.search.LatentSet;
import io.vqdistill.api.search.SearchOptions;
import io.vqdistill.api.search.SearchRequest;
import jakarta.inject.Inject;
import java.util.Objects;

/**
 * {@code exhaustive}: enumerates every grid that keeps the fixed prefix, K^(free positions) of them,
 * scoring them by the class-marginal p(z) in chunks of {@link SearchOptions#enumerationChunk()}, and
 * returns all of them when N is at least their number, else the exact N most probable. Results are
 * sorted by log p(z), best first, without class tags (-1). Feasible only for tiny grids: more than
 * {@link SearchOptions#maxEnumeratedGrids()} grids is an error. The seed is not used. Progress
 * counts |C| prior rows per grid.
 */
public final class ExhaustiveSearch implements LatentSearch {
    /** The name it is registered under. */
    public static final String NAME = "exhaustive";

    private final SearchOptions options;

    /** A search with the given options. */
    @Inject
    public ExhaustiveSearch(SearchOptions options) {
        this.options = Objects.requireNonNull(options, "options");
    }

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public LatentSet search(Prior prior, SearchRequest request) {
        PriorCalls calls = PriorCalls.of(NAME + " search", prior, request);
        return Enumerated.best(calls, request.count(), options, new Progress(request.progress()));
    }

    @Override
    public String toString() {
        return NAME;
    }
}
