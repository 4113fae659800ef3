package io.vqdistill.api;

/** Elementwise unary operations of {@link Tensor#unary(UnaryOp)}. */
public enum UnaryOp {
    /** e^x; floating types only. */
    EXP(true),
    /** Natural logarithm; log(0) = -inf, log(x &lt; 0) = NaN; floating types only. */
    LOG(true),
    /** log(1 + x), accurate for small x; floating types only. */
    LOG1P(true),
    /** Square root; floating types only. */
    SQRT(true),
    /** x * x. */
    SQUARE(false),
    /** -x. */
    NEG(false),
    /** |x|. */
    ABS(false);

    private final boolean floatingOnly;

    UnaryOp(boolean floatingOnly) {
        this.floatingOnly = floatingOnly;
    }

    /** True when the operation is defined only for FLOAT32 and FLOAT64. */
    public boolean floatingOnly() {
        return floatingOnly;
    }
}
