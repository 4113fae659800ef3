package io.vqdistill.api;

/**
 * Elementwise binary arithmetic of {@link Tensor#binary(BinaryOp, Tensor)}, with NumPy
 * broadcasting. Both operands must have the same numeric dtype. Integer division truncates toward
 * zero; integer division by zero is a {@link TensorException}.
 */
public enum BinaryOp {
    /** a + b. */
    ADD,
    /** a - b. */
    SUB,
    /** a * b. */
    MUL,
    /** a / b. */
    DIV,
    /** max(a, b); NaN if either is NaN. */
    MAXIMUM,
    /** min(a, b); NaN if either is NaN. */
    MINIMUM
}
