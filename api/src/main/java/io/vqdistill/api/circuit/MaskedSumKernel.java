package io.vqdistill.api.circuit;

import io.vqdistill.api.DType;
import io.vqdistill.api.Tensor;

/**
 * A fused evaluation of n fully factorised components over S variables, created by
 * {@link LeafFamily#maskedSumKernel}: for a batch of b examples,
 * {@code scores[e, j] = offset[j] + sum_i observed[e, i] * logDensity(x[e, i]; theta[j, i])}.
 * A kernel owns the derived tensors it prepared (transposed weight matrices and the like) and
 * releases them on {@link #close()}.
 *
 * <p>It offers the scores at the two {@link Precision}s: {@link #scores} in float32 at the speed of
 * the backend's matrix product, accurate to the FAST contract, and {@link #preciseScores} in float64
 * where the fast form would lose accuracy.
 */
public interface MaskedSumKernel extends AutoCloseable {

    /**
     * The scores of every component for a batch, in float32 ({@link Precision#FAST}).
     *
     * @param x        FLOAT32 [b, S]; entries where {@code observed} is false may hold anything,
     *                 NaN included, and must not influence the result
     * @param observed BOOL [b, S], or null when every entry is observed
     * @return FLOAT32 [b, n]
     */
    Tensor scores(Tensor x, Tensor observed);

    /**
     * The same scores for {@link Precision#DOUBLE}: within float64 rounding of the term-by-term sums
     * wherever {@link #scores} rewrites them algebraically (like the expanded Gaussian square). The
     * default converts {@link #scores}, which suits kernels that add exactly the terms a direct sum
     * would (one-hot products, gathers), whose only error is the float32 rounding of those terms.
     * A kernel may prepare what this needs on its first call.
     *
     * @param x        as for {@link #scores}
     * @param observed as for {@link #scores}
     * @return FLOAT64 [b, n]
     */
    default Tensor preciseScores(Tensor x, Tensor observed) {
        try (Tensor s = scores(x, observed)) {
            return s.toType(DType.FLOAT64);
        }
    }

    /**
     * Number of temporary tensor elements {@link #scores} (and {@link #preciseScores}) allocate per
     * example beyond the [b, n] result, so that callers can size batches to a memory budget.
     */
    long workspacePerExample();

    /** Releases the kernel's own tensors (not the parameters it was given). Idempotent. */
    @Override
    void close();
}
