package io.vqdistill.api.circuit;

import io.vqdistill.api.DType;
import io.vqdistill.api.Tensor;

/**
 * A fused evaluation of n fully factorised components over S variables, created by
 * {@link LeafFamily#maskedSumKernel}: for a batch of b examples,
 * {@code scores[e, j] = offset[j] + sum_i observed[e, i] * logDensity(x[e, i]; theta[j, i])}.
 * A kernel owns the derived tensors it prepared (transposed weight matrices and the like) and
 * releases them on {@link #close()}.
 */
public interface MaskedSumKernel extends AutoCloseable {

    /**
     * The scores of every component for a batch.
     *
     * @param x        FLOAT32 [b, S]; entries where {@code observed} is false may hold anything,
     *                 NaN included, and must not influence the result
     * @param observed BOOL [b, S], or null when every entry is observed
     * @return FLOAT32 [b, n]
     */
    Tensor scores(Tensor x, Tensor observed);

    /**
     * A bound, per example, on how far {@link #scores} may be from the same sums taken term by term
     * (in nats, for every component), beyond the float32 rounding of such a direct sum: the error an
     * algebraic rewrite adds, like the cancellation in the expanded Gaussian square. Callers
     * recompute the components that matter exactly where the bound exceeds their tolerance. The
     * default, zeros, suits kernels that add the same terms a direct sum would.
     *
     * @param x        as for {@link #scores}
     * @param observed as for {@link #scores}
     * @return FLOAT32 [b], >= 0
     */
    default Tensor errorBound(Tensor x, Tensor observed) {
        return x.backend().zeros(DType.FLOAT32, x.shape(0));
    }

    /**
     * Number of temporary tensor elements {@link #scores} allocates per example beyond its [b, n]
     * result, so that callers can size batches to a memory budget.
     */
    long workspacePerExample();

    /** Releases the kernel's own tensors (not the parameters it was given). Idempotent. */
    @Override
    void close();
}
