package io.vqdistill.api.search;

import io.vqdistill.api.InvalidArgumentException;

/**
 * What a latent search is asked for.
 *
 * @param count       N, the number of distinct grids wanted, >= 1
 * @param seed        the seed of every random choice; equal seeds give equal results
 * @param fixedPrefix codes of the first positions that every returned grid must keep (constrained
 *                    generation); empty for an unconstrained search
 */
public record SearchRequest(int count, long seed, int[] fixedPrefix) {
    /** Validates and copies. */
    public SearchRequest {
        if (count < 1) {
            throw new InvalidArgumentException("count must be >= 1, found " + count);
        }
        fixedPrefix = fixedPrefix.clone();
    }

    /** An unconstrained request. */
    public static SearchRequest of(int count, long seed) {
        return new SearchRequest(count, seed, new int[0]);
    }

    @Override
    public int[] fixedPrefix() {
        return fixedPrefix.clone();
    }
}
