package io.vqdistill.distill.search;

import io.vqdistill.api.TensorScope;
import io.vqdistill.api.VqdistillException;
import io.vqdistill.api.model.Prior;
import io.vqdistill.api.search.BeamScoring;
import io.vqdistill.api.search.LatentSearch;
import io.vqdistill.api.search.LatentSet;
import io.vqdistill.api.search.SearchOptions;
import io.vqdistill.api.search.SearchRequest;
import io.vqdistill.circuits.Numerics;
import jakarta.inject.Inject;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.SplittableRandom;

/**
 * {@code beam}: the class-conditioned beam search, stochastic (sampled without replacement) or
 * deterministic, that finds the grids of a mixture in O(N h w K) prior evaluations instead of the
 * K^(h*w) of an enumeration.
 *
 * <ol>
 * <li>For every class c, s = {@link SearchOptions#beamStarts()} distinct starting codes for the
 * first free position: the s most probable under p(z_i | prefix, c) (deterministic), or a sample of
 * s without replacement from it by Gumbel-top-k (stochastic). Each (class, start) pair is a slot
 * that owns B = N / (s |C|) of the result (the remainder goes one each to the first slots, in the
 * order slot 0 of every class, then slot 1, ...; with N &lt; s |C| only the first N slots own one).</li>
 * <li>Every slot grows one beam over the remaining positions in raster order, of width
 * max(its share, {@link SearchOptions#beamWidth()}) (at most the start's number of completions),
 * deterministically or by stochastic beam search. With {@link BeamScoring#PER_CLASS} (the default,
 * Algorithm 1 calling Algorithm 2 with the class set {c}) a slot's beam ranks its prefixes by
 * log p(z_&lt;=i | c) of the slot's class; with {@link BeamScoring#CLASS_MARGINAL} by the
 * class-marginal m = log sum_c p(c) p(z_&lt;=i | c), and slots whose starts coincide then share one
 * beam of their summed width. One batched prior answer per position (split only by the block bound)
 * serves every beam and class together, from one prefix batch of the whole beam that the prior may
 * cache per-prefix work in (see {@link BeamEngine}).</li>
 * <li>Beams of different classes may find the same grid. Each beam therefore keeps, at the last
 * position, as many extra candidates as the other slots with its start own, and the grids are dealt
 * in turns, slot 0 of every class, then slot 1, ...: each slot takes the best grid of its beam that no
 * slot took before, until it holds its share. The result interleaves the slots in that order: every
 * slot's first grid, then every slot's second, and so on, so every prefix of the result holds the
 * classes in equal shares, up to one.</li>
 * </ol>
 *
 * When the slots cannot fill N (a start with fewer completions than its share, or duplicates a beam
 * could not replace), the grids missing are the best ones by p(z) not yet found, from one
 * deterministic class-marginal beam over all completions, appended at the end without a class tag
 * (-1). When N reaches the number of grids, all are enumerated, sorted by log p(z). Scores are the
 * class-marginal log p(z), computed for the found grids in batches of
 * {@link SearchOptions#enumerationChunk()} under the per-class ranking, or NaN without
 * {@link SearchOptions#scoreGrids()}. A fixed prefix is kept by
 * every grid and the search starts at the position after it. Progress is reported in prior rows.
 */
public final class BeamSearch implements LatentSearch {
    /** The name it is registered under. */
    public static final String NAME = "beam";

    private final SearchOptions options;

    /** A search with the given options. */
    @Inject
    public BeamSearch(SearchOptions options) {
        this.options = Objects.requireNonNull(options, "options");
    }

    @Override
    public String name() {
        return NAME;
    }

    /** A (class, start) slot and the grids dealt to it. */
    private static final class Slot {
        final int cls;
        final int code;
        int quota;
        final List<BeamEngine.Entry> found = new ArrayList<>();

        Slot(int cls, int code) {
            this.cls = cls;
            this.code = code;
        }
    }

    /** One beam: a starting code, the slots it serves and its width. */
    private static final class Beam {
        final int code;
        final List<Slot> slots = new ArrayList<>();
        int width;

        Beam(int code) {
            this.code = code;
        }

        int quota() {
            return slots.stream().mapToInt(s -> s.quota).sum();
        }
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
    public LatentSet search(Prior prior, SearchRequest request) {
        PriorCalls calls = PriorCalls.of(NAME + " search", prior, request);
        Progress progress = new Progress(request.progress());
        int n = request.count();
        if (n >= calls.completions()) {
            return Enumerated.best(calls, n, options, progress);
        }
        boolean perClass = options.beamScoring() == BeamScoring.PER_CLASS;
        SplittableRandom rng = options.stochastic() ? new SplittableRandom(request.seed()) : null;
        int classes = calls.classes();
        int k = calls.codebookSize();
        int from = calls.firstFree();
        int steps = calls.positions() - from - 1;
        double[] prefixJoint = calls.prefixLogJoint();
        double[] startLogProbs = startLogProbs(calls);
        List<Slot> slots = slots(startLogProbs, classes, k, n, rng);
        long capacity = PriorCalls.power(k, steps);
        List<Beam> beams = perClass ? ownBeams(slots, capacity) : sharedBeams(slots, capacity);
        List<BeamEngine.Entry> roots = new ArrayList<>();
        int[] widths = new int[beams.size()];
        int[] extras = new int[beams.size()];
        int[] groupClasses = new int[beams.size()];
        for (int g = 0; g < beams.size(); g++) {
            Beam beam = beams.get(g);
            int[] codes = calls.prefixGrid();
            codes[from] = beam.code;
            double[] joint = new double[perClass ? 1 : classes];
            for (int c = 0; c < classes; c++) {
                double h = prefixJoint[c] + startLogProbs[c * k + beam.code];
                if (!perClass) {
                    joint[c] = h;
                } else if (c == beam.slots.get(0).cls) {
                    joint[0] = h;
                }
            }
            double score = perClass ? joint[0] : Numerics.logSumExp(joint);
            roots.add(new BeamEngine.Entry(g, codes, joint, score, score));
            widths[g] = beam.width;
            groupClasses[g] = beam.slots.get(0).cls;
            if (perClass) {
                for (Beam other : beams) {
                    if (other != beam && other.code == beam.code) {
                        extras[g] += other.quota();
                    }
                }
            }
        }
        int rowsPerEntry = perClass ? 1 : classes;
        progress.expect(classes + BeamEngine.expectedRows(widths, steps, k, rowsPerEntry)
                + (perClass && options.scoreGrids() ? (long) n * classes : 0));
        progress.advance(classes);
        List<List<BeamEngine.Entry>> found = new BeamEngine(calls, options.maxBlockElements(), progress)
                .run(roots, from + 1, widths, perClass ? extras : null,
                        new BeamEngine.Ranking(perClass ? groupClasses : null, perClass), rng);
        Set<Grid> taken = new HashSet<>();
        if (perClass) {
            dealDistinct(beams, found, taken);
        } else {
            dealShared(beams, found, taken);
        }
        List<BeamEngine.Entry> ordered = new ArrayList<>();
        List<Integer> tags = new ArrayList<>();
        int rounds = slots.stream().mapToInt(s -> s.found.size()).max().orElse(0);
        for (int t = 0; t < rounds; t++) {
            for (Slot s : slots) {
                if (t < s.found.size()) {
                    ordered.add(s.found.get(t));
                    tags.add(s.cls);
                }
            }
        }
        if (ordered.size() < n) {
            for (BeamEngine.Entry e : topUp(calls, taken, n - ordered.size(), progress)) {
                ordered.add(e);
                tags.add(-1);
            }
        }
        int p = calls.positions();
        int m = ordered.size();
        int[] codes = new int[m * p];
        int[] tagArray = new int[m];
        for (int i = 0; i < m; i++) {
            System.arraycopy(ordered.get(i).codes(), 0, codes, i * p, p);
            tagArray[i] = tags.get(i);
        }
        double[] scores;
        if (!options.scoreGrids()) {
            scores = new double[m];
            Arrays.fill(scores, Double.NaN);
        } else if (perClass) {
            scores = calls.marginalLogProbs(codes, options.enumerationChunk(), progress);
        } else {
            scores = ordered.stream().mapToDouble(BeamEngine.Entry::logScore).toArray();
        }
        progress.finish();
        return new LatentSet(calls.shape(), codes, tagArray, scores);
    }

    /** log p(z_i | prefix, c) at the first free position for every class: |C| * K values, class after class. */
    private static double[] startLogProbs(PriorCalls calls) {
        int classes = calls.classes();
        int p = calls.positions();
        int[] prefix = calls.prefix();
        long[] grids = new long[classes * p];
        long[] cls = new long[classes];
        for (int c = 0; c < classes; c++) {
            cls[c] = c;
            for (int i = 0; i < prefix.length; i++) {
                grids[c * p + i] = prefix[i];
            }
        }
        try (TensorScope scope = TensorScope.open()) {
            return calls.nextLogProbs(grids, cls, calls.firstFree()).toDoubleArray();
        }
    }

    /**
     * The slots in dealing order (slot 0 of every class, then slot 1, ...) with their quotas: each
     * class's s starts are its most probable codes, or Gumbel-perturbed ones when {@code rng} is given;
     * impossible codes are never starts.
     */
    private List<Slot> slots(double[] startLogProbs, int classes, int k, int n, SplittableRandom rng) {
        List<List<Integer>> starts = new ArrayList<>();
        for (int c = 0; c < classes; c++) {
            double[] key = new double[k];
            List<Integer> codes = new ArrayList<>();
            for (int code = 0; code < k; code++) {
                double lp = startLogProbs[c * k + code];
                key[code] = rng == null ? lp : lp - Math.log(-Math.log(rng.nextDouble()));
                if (lp > Double.NEGATIVE_INFINITY) {
                    codes.add(code);
                }
            }
            codes.sort(Comparator.comparingDouble((Integer code) -> key[code]).reversed()
                    .thenComparing(Comparator.naturalOrder()));
            starts.add(codes.subList(0, Math.min(options.beamStarts(), codes.size())));
        }
        List<Slot> slots = new ArrayList<>();
        for (int j = 0; j < options.beamStarts(); j++) {
            for (int c = 0; c < classes; c++) {
                if (j < starts.get(c).size()) {
                    slots.add(new Slot(c, starts.get(c).get(j)));
                }
            }
        }
        if (slots.isEmpty()) {
            throw new VqdistillException("beam search: every code at the first free position has probability 0"
                    + " under every class");
        }
        for (int i = 0; i < slots.size(); i++) {
            slots.get(i).quota = n / slots.size() + (i < n % slots.size() ? 1 : 0);
        }
        return slots;
    }

    /** The width of a beam serving {@code quota} grids: at least the option's, at most the start's completions. */
    private int width(long quota, long capacity) {
        return (int) Math.min(Math.min(Integer.MAX_VALUE, capacity), Math.max(quota, options.beamWidth()));
    }

    /** Per-class ranking: one beam per slot that owns grids. */
    private List<Beam> ownBeams(List<Slot> slots, long capacity) {
        List<Beam> beams = new ArrayList<>();
        for (Slot s : slots) {
            if (s.quota > 0) {
                Beam beam = new Beam(s.code);
                beam.slots.add(s);
                beam.width = width(s.quota, capacity);
                beams.add(beam);
            }
        }
        return beams;
    }

    /** Class-marginal ranking: one beam per distinct start, shared by its slots, of their summed quota. */
    private List<Beam> sharedBeams(List<Slot> slots, long capacity) {
        Map<Integer, Beam> byCode = new LinkedHashMap<>();
        for (Slot s : slots) {
            if (s.quota > 0) {
                byCode.computeIfAbsent(s.code, Beam::new).slots.add(s);
            }
        }
        for (Beam beam : byCode.values()) {
            beam.width = width(beam.quota(), capacity);
        }
        return new ArrayList<>(byCode.values());
    }

    /**
     * Per-class beams: in turns over the slots in dealing order, each slot takes the best grid of its
     * beam that no slot took before, until it holds its quota or its beam runs out.
     */
    private static void dealDistinct(List<Beam> beams, List<List<BeamEngine.Entry>> found, Set<Grid> taken) {
        int[] next = new int[beams.size()];
        boolean progress = true;
        while (progress) {
            progress = false;
            for (int g = 0; g < beams.size(); g++) {
                Slot slot = beams.get(g).slots.get(0);
                List<BeamEngine.Entry> grids = found.get(g);
                if (slot.found.size() >= slot.quota) {
                    continue;
                }
                while (next[g] < grids.size() && !taken.add(new Grid(grids.get(next[g]).codes()))) {
                    next[g]++;
                }
                if (next[g] < grids.size()) {
                    slot.found.add(grids.get(next[g]++));
                    progress = true;
                }
            }
        }
    }

    /**
     * Shared beams (distinct starts, so distinct grids): each beam's best grids go to its slots in
     * turn until they hold their quotas.
     */
    private static void dealShared(List<Beam> beams, List<List<BeamEngine.Entry>> found, Set<Grid> taken) {
        for (int g = 0; g < beams.size(); g++) {
            Beam beam = beams.get(g);
            int next = 0;
            int room = beam.quota();
            for (BeamEngine.Entry e : found.get(g)) {
                if (room-- == 0) {
                    break;
                }
                while (beam.slots.get(next).found.size() >= beam.slots.get(next).quota) {
                    next = (next + 1) % beam.slots.size();
                }
                beam.slots.get(next).found.add(e);
                taken.add(new Grid(e.codes()));
                next = (next + 1) % beam.slots.size();
            }
        }
    }

    /**
     * The {@code missing} grids of highest p(z) that are not {@code taken}, from one deterministic
     * class-marginal beam over every completion of the prefix, wide enough to hold them.
     */
    private List<BeamEngine.Entry> topUp(PriorCalls calls, Set<Grid> taken, int missing, Progress progress) {
        int width = (int) Math.min(calls.completions(), (long) taken.size() + missing);
        double[] joint = calls.prefixLogJoint();
        double score = Numerics.logSumExp(joint);
        int steps = calls.positions() - calls.firstFree();
        progress.expect(BeamEngine.expectedRows(new int[] {width}, steps, calls.codebookSize(), calls.classes()));
        List<BeamEngine.Entry> all = new BeamEngine(calls, options.maxBlockElements(), progress)
                .run(List.of(new BeamEngine.Entry(0, calls.prefixGrid(), joint, score, score)), calls.firstFree(),
                        new int[] {width}, null, new BeamEngine.Ranking(null, false), null).get(0);
        List<BeamEngine.Entry> out = new ArrayList<>();
        for (BeamEngine.Entry e : all) {
            if (out.size() < missing && taken.add(new Grid(e.codes()))) {
                out.add(e);
            }
        }
        return out;
    }

    @Override
    public String toString() {
        return NAME + " (" + (options.stochastic() ? "stochastic" : "deterministic") + ", s = "
                + options.beamStarts() + (options.beamScoring() == BeamScoring.CLASS_MARGINAL
                ? ", class-marginal ranking" : "") + (options.beamWidth() > 0 ? ", width " + options.beamWidth() : "")
                + ")";
    }
}
