package io.vqdistill.distill.search;

import io.vqdistill.api.Backend;
import io.vqdistill.api.DType;
import io.vqdistill.api.ReduceOp;
import io.vqdistill.api.Tensor;
import io.vqdistill.api.TensorScope;
import io.vqdistill.api.TopK;
import io.vqdistill.api.model.PrefixBatch;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.random.RandomGenerator;

/**
 * The batched beam search shared by the {@code beam} and {@code top} strategies. Entries are partial
 * grids in groups (one group per beam). Every group ranks its candidates either under one class c,
 * by h = log p(c) + log p(z_&lt;=i | c) (the paper's per-class beams), or under the class marginal,
 * by m = logsumexp_c h_c, which needs one prior row per class for every entry. At every position
 * each entry is evaluated once, and its next-code distribution scores all K of its extensions; the
 * rows of all groups are answered together by one {@link PrefixBatch} of the whole beam, asked
 * for blocks of at most {@code maxBlockElements / K} rows, and extended by the kept candidates, so
 * that a prior that caches per-prefix work (the PixelCNN's row cache) never recomputes it. Each
 * group keeps the {@code width} extensions of highest rank.
 *
 * <p>The stochastic variant is the stochastic beam search of Kool, van Hoof and Welling (2019):
 * both h and m are consistent prefix measures (the probabilities of a prefix's extensions sum to
 * its own), so perturbing each extension with a Gumbel and conditioning it on its parent's perturbed
 * value (the shifted Gumbel) makes the kept entries of a group a sample without replacement of its
 * completions, drawn in proportion to p(z | c), respectively p(z).
 */
final class BeamEngine {

    /**
     * A partial grid of a beam.
     *
     * @param group    the beam it belongs to
     * @param codes    the whole grid; positions not reached yet hold 0
     * @param joint    log p(c) + log p(z_&lt;=i | c) for each class the group scores: its own class alone,
     *                 or every class for a class-marginal group
     * @param logScore the rank: h = joint[0] for a class's group, m = logsumexp_c joint[c] for a
     *                 class-marginal one
     * @param key      the rank for the deterministic search, the perturbed rank for the stochastic one
     */
    record Entry(int group, int[] codes, double[] joint, double logScore, double key) {
    }

    /** A kept candidate and the row of the current entries it extends. */
    private record Kept(Entry entry, int parent) {
    }

    /** Best first; ties by grid, so results do not depend on the order candidates were seen. */
    static final Comparator<Entry> BEST_FIRST = Comparator.comparingDouble(Entry::key).reversed()
            .thenComparing(Entry::codes, Arrays::compare);

    private static final Comparator<Kept> KEPT_BEST_FIRST = Comparator.comparing(Kept::entry, BEST_FIRST);

    private final PriorCalls calls;
    private final long maxBlockElements;
    private final Progress progress;

    BeamEngine(PriorCalls calls, long maxBlockElements, Progress progress) {
        this.calls = calls;
        this.maxBlockElements = maxBlockElements;
        this.progress = progress;
    }

    /**
     * How groups rank their candidates.
     *
     * @param classes  the class of every group, or null for class-marginal groups
     * @param cached   true to ask the prior for its own {@link PrefixBatch} (which may keep per-row
     *                 state: fast, memory in proportion to the rows), false for the stateless one
     *                 (memory bounded by the block)
     */
    record Ranking(int[] classes, boolean cached) {
        boolean marginal() {
            return classes == null;
        }
    }

    /**
     * The rows of prior work {@link #run} does for one root per group: every step evaluates each
     * entry once per scored class, and a group holds at most min(width, K^t) entries t steps in.
     */
    static long expectedRows(int[] widths, int steps, int k, int rowsPerEntry) {
        long rows = 0;
        for (int w : widths) {
            long entries = 1;
            for (int t = 0; t < steps; t++) {
                rows += entries * rowsPerEntry;
                entries = Math.min(w, entries * k);
            }
        }
        return rows;
    }

    /**
     * Grows every entry from position {@code from} to the end of the grid.
     *
     * @param start   the entries at {@code from}, ordered by group
     * @param widths  the beam width of each group, >= 1
     * @param extras  candidates each group keeps beyond its width at the last position (for the
     *                caller to replace grids another group also found), or null for none
     * @param ranking how the groups rank
     * @param rng     the source of the Gumbel perturbations, or null for the deterministic search
     * @return for each group its complete grids, best first, at most its width plus its extra
     */
    List<List<Entry>> run(List<Entry> start, int from, int[] widths, int[] extras, Ranking ranking,
                          RandomGenerator rng) {
        List<Entry> entries = start;
        int p = calls.positions();
        if (from < p) {
            PrefixBatch batch = open(start, from, ranking);
            try {
                for (int position = from; position < p; position++) {
                    boolean last = position == p - 1;
                    int[] keep = widths.clone();
                    if (last && extras != null) {
                        for (int g = 0; g < keep.length; g++) {
                            keep[g] = (int) Math.min(Integer.MAX_VALUE, (long) keep[g] + extras[g]);
                        }
                    }
                    List<Kept> kept = step(batch, entries, position, keep, ranking, rng);
                    entries = new ArrayList<>(kept.size());
                    for (Kept k : kept) {
                        entries.add(k.entry());
                    }
                    if (!last) {
                        batch = extend(batch, kept, position, ranking);
                    }
                }
            } finally {
                batch.close();
            }
        }
        List<List<Entry>> out = new ArrayList<>();
        for (int g = 0; g < widths.length; g++) {
            out.add(new ArrayList<>());
        }
        for (Entry e : entries) {
            out.get(e.group()).add(e);
        }
        return out;
    }

    private int rowsPerEntry(Ranking ranking) {
        return ranking.marginal() ? calls.classes() : 1;
    }

    /** The prior's batch of the entries' rows: one per entry under its group's class, or one per class. */
    private PrefixBatch open(List<Entry> entries, int position, Ranking ranking) {
        int m = rowsPerEntry(ranking);
        int p = calls.positions();
        int rows = entries.size() * m;
        long[] grids = new long[rows * p];
        long[] classes = new long[rows];
        for (int e = 0; e < entries.size(); e++) {
            Entry entry = entries.get(e);
            for (int c = 0; c < m; c++) {
                int row = e * m + c;
                classes[row] = ranking.marginal() ? c : ranking.classes()[entry.group()];
                for (int i = 0; i < position; i++) {
                    grids[row * p + i] = entry.codes()[i];
                }
            }
        }
        return calls.prefixes(grids, classes, position, ranking.cached());
    }

    /** The next batch: the rows of every kept candidate's parent, extended by its code. */
    private PrefixBatch extend(PrefixBatch batch, List<Kept> kept, int position, Ranking ranking) {
        int m = rowsPerEntry(ranking);
        int[] parents = new int[kept.size() * m];
        int[] codes = new int[parents.length];
        for (int j = 0; j < kept.size(); j++) {
            for (int c = 0; c < m; c++) {
                parents[j * m + c] = kept.get(j).parent() * m + c;
                codes[j * m + c] = kept.get(j).entry().codes()[position];
            }
        }
        return batch.extend(parents, codes);
    }

    private List<Kept> step(PrefixBatch batch, List<Entry> entries, int position, int[] keep, Ranking ranking,
                            RandomGenerator rng) {
        int m = rowsPerEntry(ranking);
        int k = calls.codebookSize();
        int perBlock = (int) Math.max(1, Math.min(Integer.MAX_VALUE / k, maxBlockElements / ((long) m * k)));
        List<List<Kept>> kept = new ArrayList<>();
        for (int g = 0; g < keep.length; g++) {
            kept.add(new ArrayList<>());
        }
        for (int a = 0; a < entries.size(); a += perBlock) {
            int b = Math.min(entries.size(), a + perBlock);
            block(batch, entries, a, b, position, keep, m, rng, kept);
        }
        List<Kept> next = new ArrayList<>();
        for (int g = 0; g < keep.length; g++) {
            List<Kept> best = kept.get(g);
            best.sort(KEPT_BEST_FIRST);
            next.addAll(best.subList(0, Math.min(keep[g], best.size())));
        }
        return next;
    }

    /** Extends entries [a, b) at {@code position} with one prior answer; offers the best extensions to their groups. */
    private void block(PrefixBatch batch, List<Entry> entries, int a, int b, int position, int[] keep, int m,
                       RandomGenerator rng, List<List<Kept>> kept) {
        Backend backend = calls.backend();
        int k = calls.codebookSize();
        int ec = b - a;
        double[] joint = new double[ec * m];
        double[] parentKeys = new double[ec];
        for (int e = 0; e < ec; e++) {
            Entry entry = entries.get(a + e);
            parentKeys[e] = entry.key();
            System.arraycopy(entry.joint(), 0, joint, e * m, m);
        }
        try (TensorScope scope = TensorScope.open()) {
            Tensor logProbs = calls.checked(batch.nextLogProbs(a * m, b * m), ec * m, position);
            progress.advance((long) ec * m);
            Tensor extended = logProbs.toType(DType.FLOAT64).reshape(ec, m, k).add(backend.of(joint, ec, m, 1));
            Tensor score = m == 1 ? extended.reshape(ec, k) : extended.logSumExp(1);
            Tensor key = rng == null ? score : perturb(score, parentKeys, rng);
            Tensor byCandidate = m == 1 ? score.reshape((long) ec * k, 1)
                    : extended.transpose(0, 2, 1).reshape((long) ec * k, m);
            Tensor scoreFlat = score.reshape((long) ec * k);
            Tensor keyFlat = key.reshape((long) ec * k);
            for (int s = a; s < b;) {
                int group = entries.get(s).group();
                int t = s;
                while (t < b && entries.get(t).group() == group) {
                    t++;
                }
                offer(entries, a, s, t, position, keep[group], m, keyFlat, scoreFlat, byCandidate, kept.get(group));
                s = t;
            }
        }
    }

    /** The best extensions of entries [s, t), one group, among all their K-way extensions. */
    private void offer(List<Entry> entries, int a, int s, int t, int position, int width, int m, Tensor keyFlat,
                       Tensor scoreFlat, Tensor byCandidate, List<Kept> kept) {
        int k = calls.codebookSize();
        long offset = (long) (s - a) * k;
        long length = (long) (t - s) * k;
        int take = (int) Math.min(width, length);
        long[] index;
        double[] keys;
        try (TopK top = keyFlat.slice(0, offset, offset + length).topK(take, 0)) {
            index = top.indices().toLongArray();
            keys = top.values().toDoubleArray();
        }
        for (int j = 0; j < take; j++) {
            index[j] += offset;
        }
        double[] scores;
        double[] joints;
        try (Tensor idx = calls.backend().of(index, take);
             Tensor sc = scoreFlat.gather(0, idx);
             Tensor h = byCandidate.gather(0, idx)) {
            scores = sc.toDoubleArray();
            joints = h.toDoubleArray();
        }
        for (int j = 0; j < take; j++) {
            int parent = a + (int) (index[j] / k);
            Entry from = entries.get(parent);
            int[] codes = from.codes().clone();
            codes[position] = (int) (index[j] % k);
            double[] h = Arrays.copyOfRange(joints, j * m, (j + 1) * m);
            kept.add(new Kept(new Entry(from.group(), codes, h, scores[j], keys[j]), parent));
        }
        if (kept.size() > 2 * width) {
            kept.sort(KEPT_BEST_FIRST);
            kept.subList(width, kept.size()).clear();
        }
    }

    /**
     * The perturbed keys G of the extensions [ec, K] of entries whose own keys are {@code parentKeys}:
     * G_phi = score + Gumbel, Z = max of a row's G_phi, and G = T - relu(u) - log1p(exp(-|u|)) with
     * u = T - G_phi + log1p(-exp(G_phi - Z)), the numerically stable form of
     * -log(exp(-T) - exp(-Z) + exp(-G_phi)); a NaN (a row of impossible extensions) becomes -inf.
     */
    private Tensor perturb(Tensor score, double[] parentKeys, RandomGenerator rng) {
        Backend backend = calls.backend();
        long ec = score.shape(0);
        int k = calls.codebookSize();
        double[] gumbel = new double[Math.toIntExact(ec * k)];
        for (int i = 0; i < gumbel.length; i++) {
            gumbel[i] = -Math.log(-Math.log(rng.nextDouble()));
        }
        try (TensorScope scope = TensorScope.open()) {
            Tensor phi = score.add(backend.of(gumbel, ec, k));
            Tensor z = phi.reduce(ReduceOp.MAX, 1, true);
            Tensor parent = backend.of(parentKeys, ec, 1);
            Tensor u = parent.sub(phi).add(phi.sub(z).exp().neg().log1p());
            Tensor shifted = parent.sub(u.maximum(u.scalarLike(0))).sub(u.abs().neg().exp().log1p());
            Tensor defined = shifted.eq(shifted);
            return scope.keep(defined.where(shifted, shifted.scalarLike(Double.NEGATIVE_INFINITY)));
        }
    }
}
