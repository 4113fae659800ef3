package io.vqdistill.api.search;

import io.vqdistill.api.InvalidArgumentException;
import io.vqdistill.api.model.LatentShape;
import java.util.Arrays;
import java.util.HashSet;
import java.util.Set;

/**
 * The result of a latent search: N distinct code grids, each with the class it was found under and
 * its log-probability, in an order where every prefix is a fair subset (classes interleaved or
 * sorted by score), so {@link #prefix(int)} of a large set is a sensible smaller set.
 * Held on the host: N * h*w ints.
 */
public final class LatentSet {
    private final LatentShape shape;
    private final int[] codes;
    private final int[] classes;
    private final double[] logProbs;

    /**
     * @param shape    the grid shape
     * @param codes    N * h*w codes in [0, K), grid after grid in raster order
     * @param classes  N class tags (-1 when a grid was found without a class)
     * @param logProbs N scores in nats (the search's log p(z) or log p(z|c)); NaN when unknown
     */
    public LatentSet(LatentShape shape, int[] codes, int[] classes, double[] logProbs) {
        this.shape = shape;
        int n = classes.length;
        if (logProbs.length != n || codes.length != (long) n * shape.positions()) {
            throw new InvalidArgumentException("latent set: " + n + " classes, " + logProbs.length + " scores and "
                    + codes.length + " codes do not describe N grids of " + shape.positions() + " positions");
        }
        for (int i = 0; i < codes.length; i++) {
            if (codes[i] < 0 || codes[i] >= shape.codebookSize()) {
                throw new InvalidArgumentException("latent set: code " + codes[i] + " at grid " + i / shape.positions()
                        + " position " + i % shape.positions() + " is outside [0, " + shape.codebookSize() + ")");
            }
        }
        this.codes = codes.clone();
        this.classes = classes.clone();
        this.logProbs = logProbs.clone();
    }

    /** The grid shape. */
    public LatentShape shape() {
        return shape;
    }

    /** N, the number of grids. */
    public int size() {
        return classes.length;
    }

    /** Grid {@code i} as h*w codes. */
    public int[] grid(int i) {
        int p = shape.positions();
        return Arrays.copyOfRange(codes, i * p, (i + 1) * p);
    }

    /** All codes, N * h*w, grid after grid. */
    public int[] codes() {
        return codes.clone();
    }

    /** The class tag of each grid. */
    public int[] classes() {
        return classes.clone();
    }

    /** The score of each grid in nats. */
    public double[] logProbs() {
        return logProbs.clone();
    }

    /** The first {@code n} grids. */
    public LatentSet prefix(int n) {
        if (n < 0 || n > size()) {
            throw new InvalidArgumentException("prefix length must be in [0, " + size() + "], found " + n);
        }
        int p = shape.positions();
        return new LatentSet(shape, Arrays.copyOf(codes, n * p), Arrays.copyOf(classes, n),
                Arrays.copyOf(logProbs, n));
    }

    /** Number of distinct grids (equal to {@link #size()} for a well-formed search result). */
    public int distinctGrids() {
        Set<String> seen = new HashSet<>();
        for (int i = 0; i < size(); i++) {
            seen.add(Arrays.toString(grid(i)));
        }
        return seen.size();
    }
}
