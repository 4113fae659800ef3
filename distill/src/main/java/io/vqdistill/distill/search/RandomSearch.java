package io.vqdistill.distill.search;

import io.vqdistill.api.InvalidArgumentException;
import io.vqdistill.api.Tensor;
import io.vqdistill.api.TensorScope;
import io.vqdistill.api.VqdistillException;
import io.vqdistill.api.model.PrefixBatch;
import io.vqdistill.api.model.Prior;
import io.vqdistill.api.search.LatentSearch;
import io.vqdistill.api.search.LatentSet;
import io.vqdistill.api.search.RandomClasses;
import io.vqdistill.api.search.SearchOptions;
import io.vqdistill.api.search.SearchRequest;
import io.vqdistill.circuits.Numerics;
import jakarta.inject.Inject;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import java.util.SplittableRandom;

/**
 * {@code random} (DMRS): draws a class c, uniformly (the paper's c ~ U(C), the default) or from the
 * prior's p(c) ({@link SearchOptions#randomClasses()}), then z ~ p(z | c) by ancestral sampling, and
 * keeps the distinct grids in the order they are drawn until N are found. With a fixed prefix the
 * class is drawn from p(c | prefix) under the chosen class distribution and only the free positions
 * are sampled.
 *
 * <p>Grid j of the draw sequence takes its class and its codes from the j-th split of one generator
 * seeded with the request's seed, so the draws depend on neither N nor the batching: the first n grids
 * of a result are the result of a request for n with the same seed, and every prefix is itself a
 * random search. Grids are drawn in batches of at least {@link SearchOptions#samplingBatch()} (as
 * many as are still needed, judged by the duplicates so far, up to the block bound
 * {@link SearchOptions#maxBlockElements()} / K), one prior answer per position per block, from one
 * prefix batch per draw batch in which the prior may cache per-prefix work.
 *
 * <p>Distinct draws get rare once the few likely grids are found, so the search stops after
 * {@code attemptsPerGrid * N} draws with an error saying how many grids it found. When N is at
 * least the number of grids, all of them are enumerated instead, sorted by log p(z) and without class
 * tags (-1). Otherwise class tags are the drawn classes; scores are the class-marginal log p(z),
 * computed in batches of {@link SearchOptions#enumerationChunk()} grids, or NaN without
 * {@link SearchOptions#scoreGrids()}. Progress is reported in prior rows.
 */
public final class RandomSearch implements LatentSearch {
    /** The name it is registered under. */
    public static final String NAME = "random";

    private final SearchOptions options;

    /** A search with the given options. */
    @Inject
    public RandomSearch(SearchOptions options) {
        this.options = Objects.requireNonNull(options, "options");
    }

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public LatentSet search(Prior prior, SearchRequest request) {
        PriorCalls calls = PriorCalls.of(NAME + " search", prior, request);
        Progress progress = new Progress(request.progress());
        int n = request.count();
        if (n >= calls.completions()) {
            return Enumerated.best(calls, n, options, progress);
        }
        double[] classWeights = classWeights(calls, options.randomClasses());
        SplittableRandom root = new SplittableRandom(request.seed());
        int p = calls.positions();
        int free = p - calls.firstFree();
        long bound = (long) options.attemptsPerGrid() * n;
        long maxBatch = Math.max(options.samplingBatch(), options.maxBlockElements() / calls.codebookSize());
        progress.expect((long) n * free + (options.scoreGrids() ? (long) n * calls.classes() : 0));
        Set<Grid> seen = new HashSet<>();
        List<int[]> grids = new ArrayList<>();
        List<Integer> tags = new ArrayList<>();
        long draws = 0;
        while (grids.size() < n && draws < bound) {
            int needed = n - grids.size();
            double drawsPerGrid = grids.isEmpty() ? 1 : (double) draws / grids.size();
            long wanted = Math.max(options.samplingBatch(), (long) Math.ceil(needed * drawsPerGrid));
            int batch = (int) Math.min(Math.min(wanted, maxBatch), bound - draws);
            long[] classes = new long[batch];
            SplittableRandom[] streams = new SplittableRandom[batch];
            for (int r = 0; r < batch; r++) {
                streams[r] = root.split();
                classes[r] = Numerics.draw(classWeights, streams[r]);
            }
            int[][] drawn = sample(calls, classes, streams, progress);
            for (int r = 0; r < batch && grids.size() < n; r++) {
                if (seen.add(new Grid(drawn[r]))) {
                    grids.add(drawn[r]);
                    tags.add((int) classes[r]);
                }
            }
            draws += batch;
        }
        if (grids.size() < n) {
            throw new VqdistillException("random search: found only " + grids.size() + " distinct grids of the " + n
                    + " requested in " + draws + " draws (the bound is attemptsPerGrid = " + options.attemptsPerGrid()
                    + " draws per requested grid); the prior puts its mass on few grids: request fewer, raise"
                    + " attemptsPerGrid, or use the beam search");
        }
        int[] flat = new int[n * p];
        int[] classTags = new int[n];
        for (int g = 0; g < n; g++) {
            System.arraycopy(grids.get(g), 0, flat, g * p, p);
            classTags[g] = tags.get(g);
        }
        double[] scores;
        if (options.scoreGrids()) {
            scores = calls.marginalLogProbs(flat, options.enumerationChunk(), progress);
        } else {
            scores = new double[n];
            Arrays.fill(scores, Double.NaN);
        }
        progress.finish();
        return new LatentSet(calls.shape(), flat, classTags, scores);
    }

    /**
     * p(c | prefix) under the chosen class distribution, unnormalised: p(prefix | c) for uniform
     * classes, p(c) p(prefix | c) for the class prior; without a prefix, the class distribution.
     */
    private static double[] classWeights(PriorCalls calls, RandomClasses distribution) {
        double[] w = distribution == RandomClasses.UNIFORM ? calls.prefixLogProbs() : calls.prefixLogJoint();
        double max = Arrays.stream(w).max().orElseThrow();
        if (max == Double.NEGATIVE_INFINITY) {
            throw new InvalidArgumentException("random search: the fixed prefix " + Arrays.toString(calls.prefix())
                    + " has probability 0 under every class");
        }
        for (int c = 0; c < w.length; c++) {
            w[c] = Math.exp(w[c] - max);
        }
        return w;
    }

    /**
     * Ancestral draws of the free positions, row r under class {@code classes[r]} with the draws of
     * {@code streams[r]}: one prefix batch, one prior answer per position and block.
     */
    private int[][] sample(PriorCalls calls, long[] classes, SplittableRandom[] streams, Progress progress) {
        int rows = classes.length;
        int p = calls.positions();
        int k = calls.codebookSize();
        int from = calls.firstFree();
        int[] prefix = calls.prefix();
        long[] codes = new long[rows * p];
        int[][] out = new int[rows][];
        for (int r = 0; r < rows; r++) {
            out[r] = Arrays.copyOf(prefix, p);
            for (int i = 0; i < from; i++) {
                codes[r * p + i] = prefix[i];
            }
        }
        int perBlock = (int) Math.max(1, Math.min(Integer.MAX_VALUE / k, options.maxBlockElements() / k));
        int[] same = new int[rows];
        for (int r = 0; r < rows; r++) {
            same[r] = r;
        }
        double[] scratch = new double[k];
        PrefixBatch batch = calls.prefixes(codes, classes, from, true);
        try {
            for (int i = from; i < p; i++) {
                int[] drawn = new int[rows];
                for (int a = 0; a < rows; a += perBlock) {
                    int b = Math.min(rows, a + perBlock);
                    float[] logProbs;
                    try (TensorScope scope = TensorScope.open()) {
                        Tensor lp = calls.checked(batch.nextLogProbs(a, b), b - a, i);
                        logProbs = lp.toFloatArray();
                    }
                    progress.advance(b - a);
                    for (int r = a; r < b; r++) {
                        drawn[r] = drawCode(logProbs, (r - a) * k, k, streams[r], scratch);
                        out[r][i] = drawn[r];
                    }
                }
                if (i + 1 < p) {
                    batch = batch.extend(same, drawn);
                }
            }
        } finally {
            batch.close();
        }
        return out;
    }

    /**
     * A code drawn from the log-probabilities {@code logProbs[offset, offset + k)} by inversion of one
     * uniform; {@code scratch} holds k probabilities.
     */
    private static int drawCode(float[] logProbs, int offset, int k, SplittableRandom rng, double[] scratch) {
        double total = 0;
        for (int j = 0; j < k; j++) {
            scratch[j] = Math.exp(logProbs[offset + j]);
            total += scratch[j];
        }
        double u = rng.nextDouble() * total;
        int last = -1;
        for (int j = 0; j < k; j++) {
            if (scratch[j] > 0) {
                last = j;
                u -= scratch[j];
                if (u < 0) {
                    return j;
                }
            }
        }
        if (last < 0) {
            throw new VqdistillException("random search: the prior gives every code probability 0");
        }
        return last;
    }

    /** A grid as a hash key. */
    private record Grid(int[] codes) {
        @Override
        public boolean equals(Object o) {
            return o instanceof Grid g && Arrays.equals(g.codes, codes);
        }

        @Override
        public int hashCode() {
            return Arrays.hashCode(codes);
        }

        @Override
        public String toString() {
            return Arrays.toString(codes);
        }
    }

    @Override
    public String toString() {
        return NAME + " (" + (options.randomClasses() == RandomClasses.UNIFORM ? "uniform" : "class-prior")
                + " classes)";
    }
}
