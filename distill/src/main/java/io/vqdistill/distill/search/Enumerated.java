package io.vqdistill.distill.search;

import io.vqdistill.api.search.LatentSet;
import io.vqdistill.api.search.SearchOptions;
import java.util.Arrays;
import java.util.PriorityQueue;

/**
 * Exact answers by enumeration: the N grids of highest class-marginal p(z) among those that keep
 * the prefix, best first (ties by enumeration order), without a class tag. Only (index, score)
 * pairs are held while streaming; the grids are regenerated from their indices at the end.
 * Progress counts |C| prior rows per grid.
 */
final class Enumerated {
    private Enumerated() {
    }

    /** A visited grid: its enumeration index and its score. */
    private record Scored(long index, double score) {
    }

    /** Worst first: lower score, then later index. */
    private static int worstFirst(Scored a, Scored b) {
        int c = Double.compare(a.score(), b.score());
        return c != 0 ? c : Long.compare(b.index(), a.index());
    }

    /**
     * The best {@code n} grids of the enumeration (all of them when n >= their number), best first.
     */
    static LatentSet best(PriorCalls calls, int n, SearchOptions options, Progress progress) {
        GridEnumeration all = GridEnumeration.of(calls, options.maxEnumeratedGrids());
        progress.expect(all.count() * calls.classes());
        int keep = (int) Math.min(n, all.count());
        PriorityQueue<Scored> heap = new PriorityQueue<>(keep + 1, Enumerated::worstFirst);
        all.forEachChunk(options.enumerationChunk(), progress, (first, codes, logProbs) -> {
            for (int g = 0; g < logProbs.length; g++) {
                Scored s = new Scored(first + g, Double.isNaN(logProbs[g]) ? Double.NEGATIVE_INFINITY : logProbs[g]);
                if (heap.size() < keep) {
                    heap.add(s);
                } else if (worstFirst(s, heap.peek()) > 0) {
                    heap.poll();
                    heap.add(s);
                }
            }
        });
        Scored[] ranked = heap.toArray(new Scored[0]);
        Arrays.sort(ranked, (a, b) -> worstFirst(b, a));
        int p = calls.positions();
        int[] codes = new int[keep * p];
        double[] scores = new double[keep];
        int[] classes = new int[keep];
        Arrays.fill(classes, -1);
        for (int i = 0; i < keep; i++) {
            System.arraycopy(all.grids(ranked[i].index(), 1), 0, codes, i * p, p);
            scores[i] = ranked[i].score();
        }
        progress.finish();
        return new LatentSet(calls.shape(), codes, classes, scores);
    }
}
