package io.vqdistill.api.search;

import io.vqdistill.api.InvalidArgumentException;
import java.util.Objects;

/**
 * What a latent search is asked for.
 *
 * @param count       N, the number of distinct grids wanted, >= 1
 * @param seed        the seed of every random choice; equal seeds give equal results
 * @param fixedPrefix codes of the first positions that every returned grid must keep (constrained
 *                    generation); empty for an unconstrained search
 * @param progress    receives the search's progress (see {@link ProgressListener});
 *                    {@link ProgressListener#NONE} to ignore it
 * @param encoded     the grids the encoder assigns to the training images, for a search that
 *                    {@linkplain LatentSearch#usesEncodedImages() uses them}; null when not given
 */
public record SearchRequest(int count, long seed, int[] fixedPrefix, ProgressListener progress,
                            EncodedImages encoded) {
    /** Validates and copies. */
    public SearchRequest {
        if (count < 1) {
            throw new InvalidArgumentException("count must be >= 1, found " + count);
        }
        fixedPrefix = fixedPrefix.clone();
        Objects.requireNonNull(progress, "progress");
    }

    /** A request without encoded images. */
    public SearchRequest(int count, long seed, int[] fixedPrefix, ProgressListener progress) {
        this(count, seed, fixedPrefix, progress, null);
    }

    /** A request whose progress is not reported. */
    public SearchRequest(int count, long seed, int[] fixedPrefix) {
        this(count, seed, fixedPrefix, ProgressListener.NONE);
    }

    /** An unconstrained request. */
    public static SearchRequest of(int count, long seed) {
        return new SearchRequest(count, seed, new int[0]);
    }

    /** This request with its progress reported to {@code listener}. */
    public SearchRequest withProgress(ProgressListener listener) {
        return new SearchRequest(count, seed, fixedPrefix, listener, encoded);
    }

    /** This request with the training images' grids {@code images}, for a data-guided search. */
    public SearchRequest withEncoded(EncodedImages images) {
        return new SearchRequest(count, seed, fixedPrefix, progress, Objects.requireNonNull(images, "images"));
    }

    @Override
    public int[] fixedPrefix() {
        return fixedPrefix.clone();
    }
}
