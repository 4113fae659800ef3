package io.vqdistill.circuits.leaf;

import io.vqdistill.api.Backend;
import io.vqdistill.api.DType;
import io.vqdistill.api.Tensor;
import io.vqdistill.api.TensorScope;
import io.vqdistill.api.circuit.MaskedSumKernel;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.stream.IntStream;

/**
 * Categorical mixture scores by gathering and summing log-probabilities, without a one-hot product
 * (which would multiply by S V zeros and ones for every S terms that count). Every variable i has a
 * reference value r_i, the one the components find most likely on average (for images: the
 * background level), and the kernel holds, with n contiguous per row,
 * <pre>
 *   table[i V + v] = log p_j(x_i = v) - log p_j(x_i = r_i)      (a row of n values)
 *   table[S V + i] = -log p_j(x_i = r_i)                          (for an unobserved variable)
 *   table[S V + S] = 0                                            (padding)
 *   base_j         = offset_j + sum_i log p_j(x_i = r_i)          (summed in float64)
 * </pre>
 * so that score_j = base_j plus the rows of the variables that are unobserved or differ from their
 * reference. The rows of a batch are listed on the host and taken longest list first, in chunks of
 * at most 2^24 gathered elements, each padded to its longest list, gathered ([rows, longest, n])
 * and summed on the backend; the chunks are put back in the batch's order. The
 * work is n times the number of such variables per example: for images with a common background a
 * fraction of n S. Each score adds only log-probabilities and their differences (no cancelling
 * rewrite), so its float32 error is the rounding of those terms and of their running sum.
 *
 * <p>{@link #preciseScores} ({@link io.vqdistill.api.circuit.Precision#DOUBLE}) gathers from the same
 * table made in float64 from the given log-probabilities (prepared on its first call, from the
 * logits and offset kept by reference), and sums in float64: within float64 rounding of the
 * term-by-term sum of the float32 log-probabilities.
 */
final class GatherKernel implements MaskedSumKernel {
    private static final long CHUNK = 1L << 24;
    private static final int PIXELS_PER_SLICE = 64;

    private final Backend backend;
    private final int components;
    private final int variables;
    private final int categories;
    private final int[] reference;
    private final Tensor logits;
    private final Tensor offset;
    private final Table fast;
    private Table precise;

    /** The gathered rows and the base scores, both of one dtype. */
    private record Table(Tensor rows, Tensor base) {
        void close() {
            rows.close();
            base.close();
        }
    }

    /**
     * @param logits prepared log-probabilities, FLOAT32 [n, S, V], kept by reference for the float64 form
     * @param offset [n], FLOAT32 or FLOAT64, likewise
     */
    GatherKernel(Tensor logits, Tensor offset) {
        backend = logits.backend();
        this.logits = logits;
        this.offset = offset;
        components = Math.toIntExact(logits.shape(0));
        variables = Math.toIntExact(logits.shape(1));
        categories = Math.toIntExact(logits.shape(2));
        try (Tensor sum = logits.sum(0); Tensor best = sum.argMax(1)) {
            reference = best.toIntArray();
        }
        fast = table(DType.FLOAT32);
    }

    /** The table and base in {@code dtype}, from the log-probabilities converted to it. */
    private Table table(DType dtype) {
        int n = components;
        int s = variables;
        int v = categories;
        try (TensorScope scope = TensorScope.open()) {
            long[] at = new long[s];
            for (int i = 0; i < s; i++) {
                at[i] = (long) i * v + reference[i];
            }
            Tensor typed = logits.toType(dtype);
            Tensor atReference = typed.reshape(n, (long) s * v).gather(1, backend.of(at, s));
            List<Tensor> rows = new ArrayList<>();
            for (int from = 0; from < s; from += PIXELS_PER_SLICE) {
                int to = Math.min(s, from + PIXELS_PER_SLICE);
                try (TensorScope slice = TensorScope.open()) {
                    Tensor reference = atReference.slice(1, from, to).reshape(n, to - from, 1);
                    Tensor part = typed.slice(1, from, to).sub(reference);
                    rows.add(slice.keep(part.reshape(n, (long) (to - from) * v).transposeLast()));
                }
            }
            rows.add(atReference.neg().transposeLast());
            rows.add(backend.zeros(dtype, 1, n));
            Tensor table = scope.keep(backend.concat(rows, 0));
            Tensor base = scope.keep(atReference.toType(DType.FLOAT64).sum(1).add(offset.toType(DType.FLOAT64))
                    .toType(dtype).reshape(1, n));
            return new Table(table, base);
        }
    }

    @Override
    public Tensor scores(Tensor x, Tensor observed) {
        return scores(x, observed, fast);
    }

    @Override
    public Tensor preciseScores(Tensor x, Tensor observed) {
        if (precise == null) {
            precise = TensorScope.outside(() -> table(DType.FLOAT64));
        }
        return scores(x, observed, precise);
    }

    private Tensor scores(Tensor x, Tensor observed, Table with) {
        Tensor table = with.rows();
        Tensor base = with.base();
        int b = Math.toIntExact(x.shape(0));
        int s = variables;
        float[] values = x.toFloatArray();
        boolean[] seen = observed == null ? null : observed.toBooleanArray();
        long padding = (long) s * categories + s;
        long[][] lists = new long[b][];
        int longest = 0;
        long[] scratch = new long[s];
        for (int e = 0; e < b; e++) {
            int count = 0;
            for (int i = 0; i < s; i++) {
                if (seen != null && !seen[e * s + i]) {
                    scratch[count++] = (long) s * categories + i;
                } else {
                    int level = (int) values[e * s + i];
                    if (level != reference[i]) {
                        scratch[count++] = (long) i * categories + level;
                    }
                }
            }
            lists[e] = Arrays.copyOf(scratch, count);
            longest = Math.max(longest, count);
        }
        try (TensorScope scope = TensorScope.open()) {
            if (longest == 0) {
                return scope.keep(base.add(backend.zeros(base.dtype(), b, 1)));
            }
            int[] order = IntStream.range(0, b).boxed().sorted(Comparator.comparingInt(e -> -lists[e].length))
                    .mapToInt(Integer::intValue).toArray();
            List<Tensor> parts = new ArrayList<>();
            for (int from = 0; from < b; ) {
                int width = Math.max(1, lists[order[from]].length);
                int rows = (int) Math.min(b - from, Math.max(1, CHUNK / ((long) width * components)));
                long[] index = new long[rows * width];
                Arrays.fill(index, padding);
                for (int r = 0; r < rows; r++) {
                    long[] list = lists[order[from + r]];
                    System.arraycopy(list, 0, index, r * width, list.length);
                }
                try (TensorScope chunk = TensorScope.open()) {
                    Tensor picked = table.gather(0, backend.of(index, index.length));
                    parts.add(chunk.keep(picked.reshape(rows, width, components).sum(1)));
                }
                from += rows;
            }
            int[] inverse = new int[b];
            for (int r = 0; r < b; r++) {
                inverse[order[r]] = r;
            }
            Tensor sorted = parts.size() == 1 ? parts.get(0) : backend.concat(parts, 0);
            return scope.keep(sorted.gather(0, backend.of(inverse, b)).add(base));
        }
    }

    @Override
    public long workspacePerExample() {
        return 2L * variables + components;
    }

    @Override
    public void close() {
        fast.close();
        if (precise != null) {
            precise.close();
            precise = null;
        }
    }
}
