package io.vqdistill.distill.search;

import io.vqdistill.api.Backend;
import io.vqdistill.api.DType;
import io.vqdistill.api.ReduceOp;
import io.vqdistill.api.Tensor;
import io.vqdistill.api.TensorScope;
import io.vqdistill.api.TopK;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.random.RandomGenerator;

/**
 * The batched beam search shared by the {@code beam} and {@code top} strategies. Entries are partial
 * grids in groups (one group per beam); at every position each entry is scored under every class
 * in one prior call for the whole beam (split only when rows x K exceed the block bound), each
 * extension carries h_c = log p(c) + log p(z_&lt;=i | c) for every class, and each group keeps the
 * {@code width} extensions of highest class-marginal m = logsumexp_c h_c.
 *
 * <p>The stochastic variant is the stochastic beam search of Kool, van Hoof and Welling (2019):
 * m is a consistent prefix measure (the m of a prefix's extensions sum to its own), so perturbing
 * each extension with a Gumbel and conditioning it on its parent's perturbed value (the shifted
 * Gumbel) makes the kept entries of a group a sample without replacement of its completions, drawn
 * in proportion to p(z).
 */
final class BeamEngine {

    /**
     * A partial grid of a beam.
     *
     * @param group       the beam it belongs to
     * @param codes       the whole grid; positions not reached yet hold 0
     * @param joint       log p(c) + log p(z_&lt;=i | c) for every class c
     * @param logMarginal m = logsumexp_c joint[c], the class-marginal log-probability of the prefix
     * @param key         the rank: m for the deterministic search, the perturbed m for the stochastic one
     */
    record Entry(int group, int[] codes, double[] joint, double logMarginal, double key) {
    }

    /** Best first; ties by grid, so results do not depend on the order candidates were seen. */
    static final Comparator<Entry> BEST_FIRST = Comparator.comparingDouble(Entry::key).reversed()
            .thenComparing(Entry::codes, Arrays::compare);

    private final PriorCalls calls;
    private final long maxBlockElements;

    BeamEngine(PriorCalls calls, long maxBlockElements) {
        this.calls = calls;
        this.maxBlockElements = maxBlockElements;
    }

    /**
     * Grows every entry from position {@code from} to the end of the grid.
     *
     * @param start  the entries at {@code from}, ordered by group
     * @param widths the beam width of each group, >= 1
     * @param rng    the source of the Gumbel perturbations, or null for the deterministic search
     * @return for each group its complete grids, best first, at most its width
     */
    List<List<Entry>> run(List<Entry> start, int from, int[] widths, RandomGenerator rng) {
        List<Entry> entries = start;
        for (int position = from; position < calls.positions(); position++) {
            entries = step(entries, position, widths, rng);
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

    private List<Entry> step(List<Entry> entries, int position, int[] widths, RandomGenerator rng) {
        int classes = calls.classes();
        int k = calls.codebookSize();
        int perBlock = (int) Math.max(1, Math.min(Integer.MAX_VALUE / k, maxBlockElements / ((long) classes * k)));
        List<List<Entry>> kept = new ArrayList<>();
        for (int g = 0; g < widths.length; g++) {
            kept.add(new ArrayList<>());
        }
        for (int a = 0; a < entries.size(); a += perBlock) {
            int b = Math.min(entries.size(), a + perBlock);
            block(entries, a, b, position, widths, rng, kept);
        }
        List<Entry> next = new ArrayList<>();
        for (int g = 0; g < widths.length; g++) {
            List<Entry> best = kept.get(g);
            best.sort(BEST_FIRST);
            next.addAll(best.subList(0, Math.min(widths[g], best.size())));
        }
        return next;
    }

    /** Extends entries [a, b) at {@code position} with one prior call; offers the best extensions to their groups. */
    private void block(List<Entry> entries, int a, int b, int position, int[] widths, RandomGenerator rng,
                       List<List<Entry>> kept) {
        Backend backend = calls.backend();
        int classes = calls.classes();
        int k = calls.codebookSize();
        int p = calls.positions();
        int ec = b - a;
        long[] grids = new long[ec * classes * p];
        long[] cls = new long[ec * classes];
        double[] joint = new double[ec * classes];
        double[] parentKeys = new double[ec];
        for (int e = 0; e < ec; e++) {
            Entry entry = entries.get(a + e);
            parentKeys[e] = entry.key();
            for (int c = 0; c < classes; c++) {
                int row = e * classes + c;
                cls[row] = c;
                joint[row] = entry.joint()[c];
                for (int i = 0; i < position; i++) {
                    grids[row * p + i] = entry.codes()[i];
                }
            }
        }
        try (TensorScope scope = TensorScope.open()) {
            Tensor logProbs = calls.nextLogProbs(grids, cls, position);
            Tensor extended = logProbs.toType(DType.FLOAT64).reshape(ec, classes, k)
                    .add(backend.of(joint, ec, classes, 1));
            Tensor marginal = extended.logSumExp(1);
            Tensor score = rng == null ? marginal : perturb(marginal, parentKeys, rng);
            Tensor byCandidate = extended.transpose(0, 2, 1).reshape((long) ec * k, classes);
            Tensor marginalFlat = marginal.reshape((long) ec * k);
            Tensor scoreFlat = score.reshape((long) ec * k);
            for (int s = a; s < b;) {
                int group = entries.get(s).group();
                int t = s;
                while (t < b && entries.get(t).group() == group) {
                    t++;
                }
                offer(entries, a, s, t, position, widths[group], scoreFlat, marginalFlat, byCandidate,
                        kept.get(group));
                s = t;
            }
        }
    }

    /** The best extensions of entries [s, t), one group, among all their K-way extensions. */
    private void offer(List<Entry> entries, int a, int s, int t, int position, int width, Tensor scoreFlat,
                       Tensor marginalFlat, Tensor byCandidate, List<Entry> kept) {
        int classes = calls.classes();
        int k = calls.codebookSize();
        long offset = (long) (s - a) * k;
        long length = (long) (t - s) * k;
        int take = (int) Math.min(width, length);
        long[] index;
        double[] keys;
        try (TopK top = scoreFlat.slice(0, offset, offset + length).topK(take, 0)) {
            index = top.indices().toLongArray();
            keys = top.values().toDoubleArray();
        }
        for (int j = 0; j < take; j++) {
            index[j] += offset;
        }
        double[] marginals;
        double[] joints;
        try (Tensor idx = calls.backend().of(index, take);
             Tensor m = marginalFlat.gather(0, idx);
             Tensor h = byCandidate.gather(0, idx)) {
            marginals = m.toDoubleArray();
            joints = h.toDoubleArray();
        }
        for (int j = 0; j < take; j++) {
            Entry parent = entries.get(a + (int) (index[j] / k));
            int[] codes = parent.codes().clone();
            codes[position] = (int) (index[j] % k);
            double[] h = new double[classes];
            System.arraycopy(joints, j * classes, h, 0, classes);
            kept.add(new Entry(parent.group(), codes, h, marginals[j], keys[j]));
        }
        if (kept.size() > 2 * width) {
            kept.sort(BEST_FIRST);
            kept.subList(width, kept.size()).clear();
        }
    }

    /**
     * The perturbed keys G of the extensions [ec, K] of entries whose own keys are {@code parentKeys}:
     * G_phi = m + Gumbel, Z = max of a row's G_phi, and G = T - relu(u) - log1p(exp(-|u|)) with
     * u = T - G_phi + log1p(-exp(G_phi - Z)), the numerically stable form of
     * -log(exp(-T) - exp(-Z) + exp(-G_phi)); a NaN (a row of impossible extensions) becomes -inf.
     */
    private Tensor perturb(Tensor marginal, double[] parentKeys, RandomGenerator rng) {
        Backend backend = calls.backend();
        long ec = marginal.shape(0);
        int k = calls.codebookSize();
        double[] gumbel = new double[Math.toIntExact(ec * k)];
        for (int i = 0; i < gumbel.length; i++) {
            gumbel[i] = -Math.log(-Math.log(rng.nextDouble()));
        }
        try (TensorScope scope = TensorScope.open()) {
            Tensor phi = marginal.add(backend.of(gumbel, ec, k));
            Tensor z = phi.reduce(ReduceOp.MAX, 1, true);
            Tensor parent = backend.of(parentKeys, ec, 1);
            Tensor u = parent.sub(phi).add(phi.sub(z).exp().neg().log1p());
            Tensor shifted = parent.sub(u.maximum(u.scalarLike(0))).sub(u.abs().neg().exp().log1p());
            Tensor defined = shifted.eq(shifted);
            return scope.keep(defined.where(shifted, shifted.scalarLike(Double.NEGATIVE_INFINITY)));
        }
    }
}
