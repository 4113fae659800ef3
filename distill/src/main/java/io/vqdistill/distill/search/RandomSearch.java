package io.vqdistill.distill.search;

import io.vqdistill.api.Backend;
import io.vqdistill.api.Tensor;
import io.vqdistill.api.TensorScope;
import io.vqdistill.api.VqdistillException;
import io.vqdistill.api.model.Prior;
import io.vqdistill.api.search.LatentSearch;
import io.vqdistill.api.search.LatentSet;
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
 * {@code random} (DMRS): draws a class c uniformly, then z ~ p(z | c) by ancestral sampling, in
 * batches of {@link SearchOptions#samplingBatch()} grids (one prior call per position per batch),
 * and keeps the distinct grids in the order they are first drawn until N are found. With a fixed
 * prefix the class is drawn from p(c | prefix) under the uniform class prior and only the free
 * positions are sampled. The draws do not depend on N, so the first n grids of a result are the
 * result of a request for n with the same seed: every prefix is itself a random search.
 *
 * <p>Distinct draws get rare once the few likely grids are found, so the search stops after
 * {@code attemptsPerGrid * N} draws with an error saying how many grids it found. When N is at
 * least the number of grids, all of them are enumerated instead, sorted by log p(z) and without class
 * tags (-1). Otherwise class tags are the drawn classes; scores are the class-marginal log p(z).
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
        int n = request.count();
        if (n >= calls.completions()) {
            return Enumerated.best(calls, n, options);
        }
        double[] classWeights = classWeights(calls);
        SplittableRandom rng = new SplittableRandom(request.seed());
        int p = calls.positions();
        long bound = (long) options.attemptsPerGrid() * n;
        Set<Grid> seen = new HashSet<>();
        List<int[]> grids = new ArrayList<>();
        List<Integer> tags = new ArrayList<>();
        long draws = 0;
        while (grids.size() < n && draws < bound) {
            int batch = (int) Math.min(options.samplingBatch(), bound - draws);
            long[] classes = new long[batch];
            for (int r = 0; r < batch; r++) {
                classes[r] = Numerics.draw(classWeights, rng);
            }
            long[] codes = sample(calls, classes, rng);
            for (int r = 0; r < batch && grids.size() < n; r++) {
                int[] grid = new int[p];
                for (int i = 0; i < p; i++) {
                    grid[i] = (int) codes[r * p + i];
                }
                if (seen.add(new Grid(grid))) {
                    grids.add(grid);
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
        double[] scores = calls.marginalLogProbs(flat, options.enumerationChunk());
        return new LatentSet(calls.shape(), flat, classTags, scores);
    }

    /** p(c | prefix) under the uniform class prior: proportional to p(prefix | c); uniform without a prefix. */
    private static double[] classWeights(PriorCalls calls) {
        double[] w = calls.prefixLogProbs();
        double max = Arrays.stream(w).max().orElseThrow();
        if (max == Double.NEGATIVE_INFINITY) {
            throw new IllegalArgumentException("random search: the fixed prefix " + Arrays.toString(calls.prefix())
                    + " has probability 0 under every class");
        }
        for (int c = 0; c < w.length; c++) {
            w[c] = Math.exp(w[c] - max);
        }
        return w;
    }

    /** Ancestral draws of the free positions for a batch of classes: rows * h*w codes. */
    private static long[] sample(PriorCalls calls, long[] classes, SplittableRandom rng) {
        int rows = classes.length;
        int p = calls.positions();
        Backend backend = calls.backend();
        if (calls.firstFree() == 0) {
            try (TensorScope scope = TensorScope.open()) {
                return calls.prior().sample(backend.of(classes, rows), rng).toLongArray();
            }
        }
        long[] codes = new long[rows * p];
        int[] prefix = calls.prefix();
        for (int r = 0; r < rows; r++) {
            for (int i = 0; i < prefix.length; i++) {
                codes[r * p + i] = prefix[i];
            }
        }
        for (int i = calls.firstFree(); i < p; i++) {
            try (TensorScope scope = TensorScope.open()) {
                Tensor logProbs = calls.nextLogProbs(codes, classes, i);
                long[] drawn = backend.sampleCategorical(logProbs, rng).toLongArray();
                for (int r = 0; r < rows; r++) {
                    codes[r * p + i] = drawn[r];
                }
            }
        }
        return codes;
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
}
