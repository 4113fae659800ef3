package io.vqdistill.api.search;

import io.vqdistill.api.model.Prior;

/**
 * A strategy that selects the set of latent grids Zbar the distilled mixture is built from, by
 * querying a {@link Prior}. Strategies are registered by name (random sampling, beam search, top-N,
 * exhaustive enumeration, or a user's own) and chosen at run time.
 */
public interface LatentSearch {

    /** The name users select the strategy by, e.g. {@code beam}. */
    String name();

    /**
     * Finds up to {@code request.count()} distinct grids. Fewer are returned only when fewer exist
     * (K^(h*w) &lt; N); a prior that cannot supply N distinct grids within the strategy's attempt
     * bound is an error saying how many were found.
     */
    LatentSet search(Prior prior, SearchRequest request);

    /**
     * Whether the search selects from data: the grids the encoder assigns to the training images,
     * which the caller then passes as {@link SearchRequest#encoded()}. False unless overridden.
     */
    default boolean usesEncodedImages() {
        return false;
    }
}
