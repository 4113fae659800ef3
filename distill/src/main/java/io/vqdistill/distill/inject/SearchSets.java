package io.vqdistill.distill.inject;

import io.vqdistill.api.search.SearchOptions;
import io.vqdistill.distill.search.LatentSearches;

/**
 * Creates the latent searches of {@link PipelineModule} (the shipped strategies and its plug-ins)
 * configured by other {@link SearchOptions} than the two sets it binds, for a piece of work that
 * changes them (the command line's search flags).
 */
@FunctionalInterface
public interface SearchSets {
    /** Every strategy, configured by {@code options}; created anew on each call. */
    LatentSearches create(SearchOptions options);
}
