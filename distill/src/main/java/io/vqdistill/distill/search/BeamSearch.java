package io.vqdistill.distill.search;

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
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
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
 * <li>Slots whose starts coincide share one beam of their summed width, so no grid is found twice.
 * Every beam then grows over the remaining positions in raster order, each candidate carrying its
 * per-class scores h_c = log p(c) p(z_&lt;=i | c) and ranked by the class-marginal
 * m = sum_c p(c) h_c (in log space), deterministically or by stochastic beam search; one prior call
 * per position serves every beam and class together (see {@link BeamEngine}).</li>
 * <li>A beam's grids are dealt to its slots in turn, best first, and the result interleaves the
 * slots: every slot's best grid (slot 0 of each class, then slot 1, ...), then every slot's second,
 * and so on, so every prefix of the result holds the classes in equal shares, up to one.</li>
 * </ol>
 *
 * A start with fewer than B completions cannot fill its slots; the grids missing then come from
 * further starts, in decreasing order of their class-marginal probability, and are appended at the
 * end without a class tag (-1). When N reaches the number of grids, all are enumerated, sorted by
 * log p(z). Scores are the class-marginal log p(z). A fixed prefix is kept by every grid and the
 * search starts at the position after it.
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

    /** One beam: a starting code, the slots sharing it (none for a filler) and its width. */
    private static final class Beam {
        final int code;
        final List<Slot> slots = new ArrayList<>();
        int width;

        Beam(int code) {
            this.code = code;
        }
    }

    @Override
    public LatentSet search(Prior prior, SearchRequest request) {
        PriorCalls calls = PriorCalls.of(NAME + " search", prior, request);
        int n = request.count();
        if (n >= calls.completions()) {
            return Enumerated.best(calls, n, options);
        }
        SplittableRandom rng = options.stochastic() ? new SplittableRandom(request.seed()) : null;
        int classes = calls.classes();
        int k = calls.codebookSize();
        int from = calls.firstFree();
        double[] prefixJoint = calls.prefixLogJoint();
        double[] startLogProbs = startLogProbs(calls);
        double[][] startJoint = new double[k][classes];
        double[] startMarginal = new double[k];
        for (int code = 0; code < k; code++) {
            for (int c = 0; c < classes; c++) {
                startJoint[code][c] = prefixJoint[c] + startLogProbs[c * k + code];
            }
            startMarginal[code] = Numerics.logSumExp(startJoint[code]);
        }
        List<Slot> slots = slots(startLogProbs, classes, k, n, rng);
        List<Beam> beams = beams(slots, startMarginal, n, PriorCalls.power(k, calls.positions() - from - 1));
        List<BeamEngine.Entry> roots = new ArrayList<>();
        int[] widths = new int[beams.size()];
        for (int g = 0; g < beams.size(); g++) {
            Beam beam = beams.get(g);
            int[] codes = calls.prefixGrid();
            codes[from] = beam.code;
            roots.add(new BeamEngine.Entry(g, codes, startJoint[beam.code], startMarginal[beam.code],
                    startMarginal[beam.code]));
            widths[g] = beam.width;
        }
        List<List<BeamEngine.Entry>> found = new BeamEngine(calls, options.maxBlockElements())
                .run(roots, from + 1, widths, rng);
        return assemble(calls, slots, beams, found);
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

    /**
     * One beam per distinct start shared by its slots, of their summed quota up to the number of
     * completions of a start; then filler beams on unused starts, most probable first, until N grids
     * can be found.
     */
    private static List<Beam> beams(List<Slot> slots, double[] startMarginal, int n, long capacity) {
        Map<Integer, Beam> byCode = new LinkedHashMap<>();
        for (Slot s : slots) {
            if (s.quota > 0) {
                Beam beam = byCode.computeIfAbsent(s.code, Beam::new);
                beam.slots.add(s);
                beam.width += s.quota;
            }
        }
        long total = 0;
        for (Beam beam : byCode.values()) {
            beam.width = (int) Math.min(beam.width, capacity);
            total += beam.width;
        }
        List<Beam> beams = new ArrayList<>(byCode.values());
        List<Integer> unused = new ArrayList<>();
        for (int code = 0; code < startMarginal.length; code++) {
            if (!byCode.containsKey(code)) {
                unused.add(code);
            }
        }
        unused.sort(Comparator.comparingDouble((Integer code) -> startMarginal[code]).reversed()
                .thenComparing(Comparator.naturalOrder()));
        for (int i = 0; i < unused.size() && total < n; i++) {
            Beam filler = new Beam(unused.get(i));
            filler.width = (int) Math.min(capacity, n - total);
            total += filler.width;
            beams.add(filler);
        }
        return beams;
    }

    /** Deals each beam's grids to its slots and interleaves the slots; filler grids go last, best first. */
    private static LatentSet assemble(PriorCalls calls, List<Slot> slots, List<Beam> beams,
                                      List<List<BeamEngine.Entry>> found) {
        List<BeamEngine.Entry> fillers = new ArrayList<>();
        for (int g = 0; g < beams.size(); g++) {
            Beam beam = beams.get(g);
            List<BeamEngine.Entry> grids = found.get(g);
            if (beam.slots.isEmpty()) {
                fillers.addAll(grids);
                continue;
            }
            int next = 0;
            for (BeamEngine.Entry e : grids) {
                while (beam.slots.get(next).found.size() >= beam.slots.get(next).quota) {
                    next = (next + 1) % beam.slots.size();
                }
                beam.slots.get(next).found.add(e);
                next = (next + 1) % beam.slots.size();
            }
        }
        fillers.sort(Comparator.comparingDouble(BeamEngine.Entry::logMarginal).reversed()
                .thenComparing(BeamEngine.Entry::codes, Arrays::compare));
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
        for (BeamEngine.Entry e : fillers) {
            ordered.add(e);
            tags.add(-1);
        }
        int p = calls.positions();
        int m = ordered.size();
        int[] codes = new int[m * p];
        int[] classes = new int[m];
        double[] scores = new double[m];
        for (int i = 0; i < m; i++) {
            System.arraycopy(ordered.get(i).codes(), 0, codes, i * p, p);
            classes[i] = tags.get(i);
            scores[i] = ordered.get(i).logMarginal();
        }
        return new LatentSet(calls.shape(), codes, classes, scores);
    }

    @Override
    public String toString() {
        return NAME + " (" + (options.stochastic() ? "stochastic" : "deterministic") + ", s = "
                + options.beamStarts() + ")";
    }
}
