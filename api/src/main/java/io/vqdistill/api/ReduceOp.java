package io.vqdistill.api;

/**
 * Reductions along one axis of {@link Tensor#reduce(ReduceOp, int, boolean)}.
 * Over an empty axis SUM gives 0 and LOG_SUM_EXP gives -inf; MAX and MIN are errors.
 */
public enum ReduceOp {
    /** Sum of the elements. */
    SUM,
    /** Largest element (NaN if any is NaN). */
    MAX,
    /** Smallest element (NaN if any is NaN). */
    MIN,
    /**
     * log(sum(exp(x))), computed as m + log(sum(exp(x - m))) with m the maximum, so that large
     * values do not overflow; -inf entries contribute nothing and an all -inf axis gives -inf.
     * Floating types only.
     */
    LOG_SUM_EXP
}
