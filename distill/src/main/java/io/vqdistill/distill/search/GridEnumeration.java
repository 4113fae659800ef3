package io.vqdistill.distill.search;

import io.vqdistill.api.InvalidArgumentException;
import io.vqdistill.api.model.Prior;
import io.vqdistill.api.search.SearchRequest;

/**
 * Every grid that keeps a fixed prefix, in lexicographic order (the last position varies fastest),
 * streamed in chunks together with the class-marginal log p(z) = logsumexp_c log p(c) p(z | c), so
 * that K^(h*w) grids are visited without ever being held at once. This is the enumeration behind the
 * {@code exhaustive} search and the exact model. The K grids that differ only in the last code share
 * one prefix, so they are scored together: one whole-grid log p(z | c) and one next-code answer at the
 * last position per class, K times fewer prior evaluations than scoring every grid.
 */
public final class GridEnumeration {

    /** Receives one chunk of the enumeration. */
    @FunctionalInterface
    public interface ChunkConsumer {
        /**
         * @param first    the enumeration index of the chunk's first grid
         * @param codes    the chunk's grids, n * h*w codes, grid after grid; the consumer may keep it
         * @param logProbs n class-marginal log-probabilities in nats; the consumer may keep it
         */
        void accept(long first, int[] codes, double[] logProbs);
    }

    private final PriorCalls calls;
    private final long count;

    private GridEnumeration(PriorCalls calls, long count) {
        this.calls = calls;
        this.count = count;
    }

    /**
     * The enumeration of the grids of {@code prior} that keep {@code fixedPrefix}.
     *
     * @param maxGrids the largest enumeration allowed, >= 1
     * @throws InvalidArgumentException for a bad prefix, or when more than {@code maxGrids} grids keep
     *                                  it, naming both numbers
     */
    public static GridEnumeration of(Prior prior, int[] fixedPrefix, long maxGrids) {
        if (maxGrids < 1) {
            throw new InvalidArgumentException("maxGrids must be >= 1, found " + maxGrids);
        }
        PriorCalls calls = PriorCalls.of("enumeration", prior, new SearchRequest(1, 0, fixedPrefix));
        return of(calls, maxGrids);
    }

    static GridEnumeration of(PriorCalls calls, long maxGrids) {
        long count = calls.completions();
        if (count > maxGrids) {
            int free = calls.positions() - calls.firstFree();
            throw new InvalidArgumentException("enumerating " + calls.codebookSize() + "^" + free + " = "
                    + (count == Long.MAX_VALUE ? "more than 2^63" : Long.toString(count)) + " grids of "
                    + calls.shape() + " exceeds the bound of " + maxGrids + " grids; exhaustive enumeration is"
                    + " feasible only for tiny grids");
        }
        return new GridEnumeration(calls, count);
    }

    /** The number of grids, K^(free positions). */
    public long count() {
        return count;
    }

    /**
     * The grids with enumeration indices [first, first + n).
     *
     * @return n * h*w codes, grid after grid
     */
    public int[] grids(long first, int n) {
        if (first < 0 || n < 0 || first > count - n) {
            throw new IndexOutOfBoundsException("grids [" + first + ", " + first + " + " + n + ") outside [0, " + count
                    + ")");
        }
        int p = calls.positions();
        int k = calls.codebookSize();
        int from = calls.firstFree();
        int[] prefix = calls.prefix();
        int[] out = new int[n * p];
        for (int g = 0; g < n; g++) {
            System.arraycopy(prefix, 0, out, g * p, from);
            long rest = first + g;
            for (int i = p - 1; i >= from; i--) {
                out[g * p + i] = (int) (rest % k);
                rest /= k;
            }
        }
        return out;
    }

    /**
     * Visits every grid, in order, in chunks of {@code chunk} grids, each with its class-marginal
     * log p(z) (at most {@code chunk} prior rows per prior call).
     */
    public void forEachChunk(int chunk, ChunkConsumer consumer) {
        forEachChunk(0, count, chunk, null, consumer);
    }

    /**
     * Visits the grids from enumeration index {@code from} on, in order, in chunks of {@code chunk}
     * grids as {@link #forEachChunk(int, ChunkConsumer)} does (the chunks start at {@code from}).
     *
     * @throws InvalidArgumentException when {@code from} is outside [0, {@link #count()}]
     */
    public void forEachChunk(long from, int chunk, ChunkConsumer consumer) {
        if (from < 0 || from > count) {
            throw new InvalidArgumentException("the first grid must be in [0, " + count + "], found " + from);
        }
        forEachChunk(from, count, chunk, null, consumer);
    }

    /**
     * Visits the grids with enumeration indices [from, to), in order, in chunks of {@code chunk} grids
     * starting at {@code from}, each scored by one {@link Prior#marginalLogProb} call. Shards whose
     * bounds are multiples of {@code chunk} see exactly the chunks of the whole enumeration.
     *
     * @throws IndexOutOfBoundsException when [from, to) is not inside [0, {@link #count()}]
     */
    public void forEachChunk(long from, long to, int chunk, ChunkConsumer consumer) {
        forEachChunk(from, to, chunk, null, consumer);
    }

    /** {@link #forEachChunk(int, ChunkConsumer)}, counting |C| prior rows per grid on {@code progress} (or null). */
    void forEachChunk(int chunk, Progress progress, ChunkConsumer consumer) {
        forEachChunk(0, count, chunk, progress, consumer);
    }

    private void forEachChunk(long from, long to, int chunk, Progress progress, ChunkConsumer consumer) {
        if (chunk < 1) {
            throw new InvalidArgumentException("chunk must be >= 1, found " + chunk);
        }
        if (from < 0 || from > to || to > count) {
            throw new IndexOutOfBoundsException("grids [" + from + ", " + to + ") outside [0, " + count + ")");
        }
        for (long first = from; first < to; first += chunk) {
            int n = (int) Math.min(chunk, to - first);
            int[] codes = grids(first, n);
            consumer.accept(first, codes, calls.firstFree() < calls.positions()
                    ? calls.marginalLogProbsByLastCode(codes, chunk, progress)
                    : calls.marginalLogProbs(codes, n, progress));
        }
    }
}
