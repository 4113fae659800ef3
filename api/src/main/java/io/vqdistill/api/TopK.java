package io.vqdistill.api;

/**
 * The k largest entries along an axis, sorted in descending order.
 *
 * @param values  the entries, same dtype as the input, axis length k
 * @param indices their positions along the axis, dtype INT64, same shape as {@code values}
 */
public record TopK(Tensor values, Tensor indices) implements AutoCloseable {
    /** Closes both tensors. */
    @Override
    public void close() {
        values.close();
        indices.close();
    }
}
