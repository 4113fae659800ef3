package io.vqdistill.api.model;

import io.vqdistill.api.Backend;
import io.vqdistill.api.InvalidArgumentException;
import io.vqdistill.api.Tensor;
import io.vqdistill.api.TensorException;
import io.vqdistill.api.TensorScope;
import java.util.Arrays;

/**
 * The stateless {@link PrefixBatch} of {@link Prior#prefixes}' default: the prefixes and classes
 * on the host, and one {@link Prior#nextLogProbs} call per answer.
 */
final class HostPrefixBatch implements PrefixBatch {
    private final Prior prior;
    private final Backend backend;
    private final LatentShape shape;
    private final long[] grids;
    private final long[] classes;
    private final int position;
    private boolean closed;

    HostPrefixBatch(Prior prior, Backend backend, long[] grids, long[] classes, int position) {
        this.prior = prior;
        this.backend = backend;
        this.shape = prior.latentShape();
        this.grids = grids;
        this.classes = classes;
        this.position = position;
    }

    /** The batch of {@code grids} [B, h*w] (positions from {@code position} on are ignored) and {@code classes} [B]. */
    static HostPrefixBatch of(Prior prior, Tensor grids, Tensor classes, int position) {
        LatentShape shape = prior.latentShape();
        int p = shape.positions();
        if (position < 0 || position > p) {
            throw new InvalidArgumentException("prefixes: position must be in [0, " + p + "], found " + position);
        }
        if (grids.rank() != 2 || grids.shape(1) != p || !grids.dtype().isInteger() || classes.rank() != 1
                || classes.shape(0) != grids.shape(0) || !classes.dtype().isInteger()) {
            throw new InvalidArgumentException("prefixes: grids must be integer [B, " + p + "] and classes integer [B],"
                    + " found " + Arrays.toString(grids.shape()) + " and " + Arrays.toString(classes.shape()));
        }
        long[] codes = grids.toLongArray();
        for (int i = 0; i < codes.length; i++) {
            if (i % p >= position) {
                codes[i] = 0;
            } else if (codes[i] < 0 || codes[i] >= shape.codebookSize()) {
                throw new InvalidArgumentException("prefixes: code " + codes[i] + " of grid " + i / p + " at position "
                        + i % p + " is outside [0, " + shape.codebookSize() + ")");
            }
        }
        long[] cls = classes.toLongArray();
        for (int r = 0; r < cls.length; r++) {
            if (cls[r] < 0 || cls[r] >= prior.numClasses()) {
                throw new InvalidArgumentException("prefixes: class " + cls[r] + " of row " + r + " is outside [0, "
                        + prior.numClasses() + ")");
            }
        }
        return new HostPrefixBatch(prior, grids.backend(), codes, cls, position);
    }

    @Override
    public int position() {
        return position;
    }

    @Override
    public int size() {
        return classes.length;
    }

    @Override
    public Tensor nextLogProbs(int from, int to) {
        checkOpen();
        if (from < 0 || to > size() || from > to) {
            throw new InvalidArgumentException("prefixes: rows [" + from + ", " + to + ") outside [0, " + size() + ")");
        }
        if (position >= shape.positions()) {
            throw new InvalidArgumentException("prefixes: every position of the grids is filled");
        }
        int p = shape.positions();
        try (TensorScope scope = TensorScope.open()) {
            Tensor g = backend.of(Arrays.copyOfRange(grids, from * p, to * p), to - from, p);
            Tensor c = backend.of(Arrays.copyOfRange(classes, from, to), to - from);
            return scope.keep(prior.nextLogProbs(g, c, position));
        }
    }

    @Override
    public PrefixBatch extend(int[] parents, int[] codes) {
        checkOpen();
        long[][] next = extendCodes(shape, grids, classes, position, parents, codes);
        closed = true;
        return new HostPrefixBatch(prior, backend, next[0], next[1], position + 1);
    }

    /**
     * The grids and classes of an extension, checked: {@code {grids, classes}} of the new rows.
     * Shared with other host-side implementations of {@link PrefixBatch}.
     */
    static long[][] extendCodes(LatentShape shape, long[] grids, long[] classes, int position, int[] parents,
                                int[] codes) {
        int p = shape.positions();
        if (position >= p) {
            throw new InvalidArgumentException("prefixes: every position of the grids is filled");
        }
        if (parents.length != codes.length) {
            throw new InvalidArgumentException("prefixes: " + parents.length + " parents but " + codes.length
                    + " codes");
        }
        long[] g = new long[parents.length * p];
        long[] c = new long[parents.length];
        for (int r = 0; r < parents.length; r++) {
            int parent = parents[r];
            if (parent < 0 || parent >= classes.length) {
                throw new InvalidArgumentException("prefixes: parent row " + parent + " is outside [0, "
                        + classes.length + ")");
            }
            if (codes[r] < 0 || codes[r] >= shape.codebookSize()) {
                throw new InvalidArgumentException("prefixes: code " + codes[r] + " is outside [0, "
                        + shape.codebookSize() + ")");
            }
            System.arraycopy(grids, parent * p, g, r * p, position);
            g[r * p + position] = codes[r];
            c[r] = classes[parent];
        }
        return new long[][] {g, c};
    }

    private void checkOpen() {
        if (closed) {
            throw new TensorException("prefixes: this batch was closed or extended");
        }
    }

    @Override
    public void close() {
        closed = true;
    }
}
