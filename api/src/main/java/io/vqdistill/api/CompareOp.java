package io.vqdistill.api;

/**
 * Elementwise comparisons of {@link Tensor#compare(CompareOp, Tensor)}, with broadcasting; the
 * result has dtype {@link DType#BOOL}. Comparisons with NaN are false except {@link #NE}.
 */
public enum CompareOp {
    /** a == b. */
    EQ,
    /** a != b. */
    NE,
    /** a &lt; b. */
    LT,
    /** a &lt;= b. */
    LE,
    /** a &gt; b. */
    GT,
    /** a &gt;= b. */
    GE
}
