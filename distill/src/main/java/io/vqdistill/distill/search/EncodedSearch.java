package io.vqdistill.distill.search;

import io.vqdistill.api.InvalidArgumentException;
import io.vqdistill.api.model.Prior;
import io.vqdistill.api.search.EncodedImages;
import io.vqdistill.api.search.LatentSearch;
import io.vqdistill.api.search.LatentSearchProvider;
import io.vqdistill.api.search.LatentSet;
import io.vqdistill.api.search.SearchOptions;
import io.vqdistill.api.search.SearchRequest;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.SplittableRandom;

/**
 * The data-guided searches: the distinct grids the VQ-VAE's encoder assigns to the training images
 * ({@link SearchRequest#encoded()}), those that keep the fixed prefix, ranked
 *
 * <ul>
 *   <li>{@code encoded}: by how many training images use the grid, ties by the prior's joint
 *   p(c, z) = p(c) p(z | c) under the grid's class c (the class-marginal p(z) for a grid without one):
 *   the grids down to those tied at the cut are scored, one prior row each (|C| without a class); or
 *   ties by first use in the training set when {@link SearchOptions#scoreGrids()} is off (no prior
 *   call at all);</li>
 *   <li>{@code encoded-prior}: by p(z) (every distinct grid is scored: |C| prior rows each);</li>
 *   <li>{@code encoded-sampled}: in the order of a draw from the training images, uniformly at random
 *   without replacement (seeded), each grid at its first draw: a sample of distinct grids from the
 *   encoder's aggregate posterior, so the selection covers the training set in proportion, where the
 *   other rankings favour the grids the prior finds likely (no prior call at all).</li>
 * </ul>
 *
 * Each grid's class tag is the most frequent label among its images (the smallest on a tie), so the
 * components of a class-conditional prior's mixture carry the class of the images they came from;
 * with a one-class prior, or a label the prior does not know, the tag is -1. The result is sorted
 * best first, so every prefix is the result of a smaller request; scores are the ranking's log p(c, z)
 * or log p(z) where computed and NaN elsewhere. Only {@code encoded-sampled} uses the seed. Asking
 * for more grids than the images have is an error saying how many they have. Progress counts one row
 * per training image read and one per prior row.
 */
public final class EncodedSearch implements LatentSearch {
    /** The name of the search ranked by use. */
    public static final String NAME = "encoded";
    /** The name of the search ranked by p(z). */
    public static final String PRIOR_NAME = "encoded-prior";
    /** The name of the search in the order of a random draw of the training images. */
    public static final String SAMPLED_NAME = "encoded-sampled";

    /** How the distinct grids are ranked. */
    public enum Ranking {
        /** By the number of training images using the grid, ties by p(c, z) under the grid's class. */
        COUNT,
        /** By p(z). */
        PRIOR,
        /** By the first draw of a training image using the grid, the images drawn at random. */
        SAMPLED;

        /** The search's name. */
        String searchName() {
            return switch (this) {
                case COUNT -> NAME;
                case PRIOR -> PRIOR_NAME;
                case SAMPLED -> SAMPLED_NAME;
            };
        }
    }

    private final SearchOptions options;
    private final Ranking ranking;

    /** A search ranking by {@code ranking} with {@code options}. */
    public EncodedSearch(SearchOptions options, Ranking ranking) {
        this.options = Objects.requireNonNull(options, "options");
        this.ranking = Objects.requireNonNull(ranking, "ranking");
    }

    @Override
    public String name() {
        return ranking.searchName();
    }

    @Override
    public boolean usesEncodedImages() {
        return true;
    }

    /** A distinct grid: its codes, first use, count and per-label counts. */
    private static final class Candidate {
        final int[] grid;
        final int first;
        int count;
        final Map<Integer, Integer> labels = new LinkedHashMap<>();
        double score = Double.NaN;

        Candidate(int[] grid, int first) {
            this.grid = grid;
            this.first = first;
        }

        int tag(int numClasses) {
            int best = -1;
            int bestCount = 0;
            for (Map.Entry<Integer, Integer> e : labels.entrySet()) {
                int label = e.getKey();
                if (label >= 0 && label < numClasses && (e.getValue() > bestCount
                        || e.getValue() == bestCount && label < best)) {
                    best = label;
                    bestCount = e.getValue();
                }
            }
            return numClasses > 1 ? best : -1;
        }
    }

    @Override
    public LatentSet search(Prior prior, SearchRequest request) {
        PriorCalls calls = PriorCalls.of(name() + " search", prior, request);
        EncodedImages data = request.encoded();
        if (data == null) {
            throw new InvalidArgumentException(name() + " search: it selects from the grids the encoder assigns to"
                    + " the training images, and none were given");
        }
        if (!data.shape().equals(calls.shape())) {
            throw new InvalidArgumentException(name() + " search: the encoded images hold " + data.shape()
                    + " grids but the prior models " + calls.shape() + " grids");
        }
        Progress progress = new Progress(request.progress());
        int p = calls.positions();
        int[] prefix = calls.prefix();
        int[] codes = data.codes();
        int[] labels = data.labels();
        progress.expect(data.size());
        Map<String, Candidate> byGrid = new LinkedHashMap<>();
        int[] order = order(data.size(), request.seed());
        for (int i = 0; i < order.length; i++) {
            int b = order[i];
            int[] grid = Arrays.copyOfRange(codes, b * p, (b + 1) * p);
            if (Arrays.equals(grid, 0, prefix.length, prefix, 0, prefix.length)) {
                Candidate c = byGrid.computeIfAbsent(Arrays.toString(grid), k -> new Candidate(grid,
                        byGrid.size()));
                c.count++;
                c.labels.merge(labels[b], 1, Integer::sum);
            }
            if ((i + 1) % options.enumerationChunk() == 0) {
                progress.advance(options.enumerationChunk());
            }
        }
        progress.advance(data.size() % options.enumerationChunk());
        List<Candidate> all = new ArrayList<>(byGrid.values());
        int n = request.count();
        if (all.size() < n) {
            throw new InvalidArgumentException(name() + " search: the encoder assigns " + all.size()
                    + " distinct grids" + (prefix.length > 0 ? " that keep the fixed prefix" : "") + " to the "
                    + data.size() + " training images, fewer than the " + n + " asked for");
        }
        if (ranking == Ranking.PRIOR) {
            score(calls, all, progress);
            all.sort(Comparator.comparingDouble((Candidate c) -> -c.score).thenComparingInt(c -> c.first));
        } else if (ranking == Ranking.COUNT) {
            all.sort(Comparator.comparingInt((Candidate c) -> -c.count).thenComparingInt(c -> c.first));
            if (options.scoreGrids()) {
                int cut = all.get(n - 1).count;
                int to = n;
                while (to < all.size() && all.get(to).count == cut) {
                    to++;
                }
                scoreJoint(calls, all.subList(0, to), progress);
                all.subList(0, to).sort(Comparator.comparingInt((Candidate c) -> -c.count)
                        .thenComparingDouble(c -> -c.score).thenComparingInt(c -> c.first));
            }
        }
        int[] out = new int[n * p];
        int[] classes = new int[n];
        double[] scores = new double[n];
        for (int i = 0; i < n; i++) {
            Candidate c = all.get(i);
            System.arraycopy(c.grid, 0, out, i * p, p);
            classes[i] = c.tag(calls.classes());
            scores[i] = c.score;
        }
        progress.finish();
        return new LatentSet(calls.shape(), out, classes, scores);
    }

    /**
     * The order the training images are read in: as given, or for {@link Ranking#SAMPLED} a uniformly
     * random permutation drawn from {@code seed} (Fisher-Yates).
     */
    private int[] order(int size, long seed) {
        int[] order = new int[size];
        for (int i = 0; i < size; i++) {
            order[i] = i;
        }
        if (ranking == Ranking.SAMPLED) {
            SplittableRandom random = new SplittableRandom(seed);
            for (int i = size - 1; i > 0; i--) {
                int j = random.nextInt(i + 1);
                int t = order[i];
                order[i] = order[j];
                order[j] = t;
            }
        }
        return order;
    }

    /**
     * Scores {@code candidates} with the joint log p(c, z) under their class tags, one prior row per
     * grid, and those without a tag with the class-marginal log p(z).
     */
    private void scoreJoint(PriorCalls calls, List<Candidate> candidates, Progress progress) {
        List<Candidate> tagged = new ArrayList<>();
        List<Candidate> untagged = new ArrayList<>();
        for (Candidate c : candidates) {
            (c.tag(calls.classes()) >= 0 ? tagged : untagged).add(c);
        }
        int p = calls.positions();
        int[] flat = new int[tagged.size() * p];
        int[] classes = new int[tagged.size()];
        for (int i = 0; i < tagged.size(); i++) {
            System.arraycopy(tagged.get(i).grid, 0, flat, i * p, p);
            classes[i] = tagged.get(i).tag(calls.classes());
        }
        progress.expect(tagged.size());
        double[] scores = calls.jointLogProbs(flat, classes, options.enumerationChunk(), progress);
        for (int i = 0; i < scores.length; i++) {
            tagged.get(i).score = Double.isNaN(scores[i]) ? Double.NEGATIVE_INFINITY : scores[i];
        }
        score(calls, untagged, progress);
    }

    /** Scores {@code candidates} with the class-marginal log p(z), |C| prior rows per grid. */
    private void score(PriorCalls calls, List<Candidate> candidates, Progress progress) {
        int p = calls.positions();
        int[] flat = new int[candidates.size() * p];
        for (int i = 0; i < candidates.size(); i++) {
            System.arraycopy(candidates.get(i).grid, 0, flat, i * p, p);
        }
        progress.expect((long) candidates.size() * calls.classes());
        double[] scores = calls.marginalLogProbs(flat, options.enumerationChunk(), progress);
        for (int i = 0; i < scores.length; i++) {
            candidates.get(i).score = Double.isNaN(scores[i]) ? Double.NEGATIVE_INFINITY : scores[i];
        }
    }

    /** Creates an {@link EncodedSearch} with the injector's options, as a plug-in would be. */
    public static final class Provider implements LatentSearchProvider {
        private final Ranking ranking;

        /** The provider of the search ranking by {@code ranking}. */
        public Provider(Ranking ranking) {
            this.ranking = Objects.requireNonNull(ranking, "ranking");
        }

        @Override
        public String name() {
            return ranking.searchName();
        }

        @Override
        public LatentSearch create(SearchOptions options) {
            return new EncodedSearch(options, ranking);
        }
    }

    @Override
    public String toString() {
        return name() + " (the training images' grids " + switch (ranking) {
            case COUNT -> "by use";
            case PRIOR -> "by p(z)";
            case SAMPLED -> "in a random draw of the images";
        } + ")";
    }
}
