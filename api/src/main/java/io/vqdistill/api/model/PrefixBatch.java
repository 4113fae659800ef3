package io.vqdistill.api.model;

import io.vqdistill.api.Tensor;

/**
 * A batch of prefixes z_&lt;i at one position i, each under its own class, that a {@link Prior}
 * answers the next-code distribution for and extends one position at a time: the access pattern of
 * beam search and ancestral sampling. A prior whose network can reuse work across positions keeps
 * per-row state here (the gated PixelCNN keeps, for every row, what the rows above the current one
 * contribute, so a step evaluates only the current row); {@link Prior#prefixes}' default keeps just
 * the codes and evaluates {@link Prior#nextLogProbs} on every call. Either way the answers are
 * those of {@link Prior#nextLogProbs} on the same prefixes, up to float rounding.
 *
 * <p>A batch owns its state until {@link #extend} moves it to the next batch or {@link #close}
 * releases it; it is used from one thread at a time, and its state lives outside every
 * {@link io.vqdistill.api.TensorScope}. Its memory grows with its rows: the searches hold one
 * batch of their whole beam or sampling batch.
 */
public interface PrefixBatch extends AutoCloseable {

    /**
     * The stateless batch that {@link Prior#prefixes} returns by default, whatever the prior: the
     * codes on the host and one {@link Prior#nextLogProbs} call (for just the rows asked) per answer.
     * Its memory is that of the codes, so a caller can bound a large batch's memory by asking for
     * few rows at a time.
     *
     * @param grids    INT64 [B, h*w]; only positions &lt; {@code position} are read
     * @param classes  INT64 [B], each in [0, |C|)
     * @param position i in [0, h*w]
     */
    static PrefixBatch uncached(Prior prior, Tensor grids, Tensor classes, int position) {
        return HostPrefixBatch.of(prior, grids, classes, position);
    }

    /** i: the position {@link #nextLogProbs} describes; h*w once every position is filled. */
    int position();

    /** The number of rows (prefixes). */
    int size();

    /**
     * log p(z_i | z_&lt;i, c) of rows [{@code from}, {@code to}), so that a caller can bound the size of
     * one answer.
     *
     * @return FLOAT32 [to - from, K], each row log-normalised, created in the caller's scope
     * @throws io.vqdistill.api.InvalidArgumentException for a bad row range, or when every position
     *                                                   is already filled
     */
    Tensor nextLogProbs(int from, int to);

    /**
     * The batch at position i + 1 whose row r is row {@code parents[r]} of this batch (its class and
     * prefix) followed by code {@code codes[r]} at position i. This batch is closed: its state moves to
     * the new one, which is smaller or larger as {@code parents} says.
     *
     * @param parents rows of this batch, in any order, repeats allowed; may be empty
     * @param codes   one code in [0, K) per new row
     * @throws io.vqdistill.api.InvalidArgumentException for a bad row or code, or when every
     *                                                   position is already filled
     */
    PrefixBatch extend(int[] parents, int[] codes);

    /**
     * Releases the state; closing again does nothing. Any other call on a closed (or extended)
     * batch is a {@link io.vqdistill.api.TensorException}.
     */
    @Override
    void close();
}
