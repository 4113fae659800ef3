package io.vqdistill.api.model;

import io.vqdistill.api.DType;
import io.vqdistill.api.Tensor;
import io.vqdistill.api.TensorScope;
import java.util.List;
import java.util.random.RandomGenerator;

/**
 * A class-conditional autoregressive prior p(z | c) over code grids in raster order, such as the
 * gated PixelCNN. All log-probabilities are natural logs (nats). Calls are batched: a latent search
 * evaluates thousands of prefixes per call.
 */
public interface Prior extends AutoCloseable {

    /** The grids this prior describes. */
    LatentShape latentShape();

    /** Number of classes |C|; classes are 0..|C|-1. */
    int numClasses();

    /** log p(c), FLOAT32 [|C|], on {@code backend}'s device; sums (in probability) to 1. */
    Tensor classLogPrior();

    /**
     * The next-code distribution log p(z_i | z_&lt;i, c) at one position for a batch of prefixes.
     *
     * @param grids    INT64 [B, h*w]; only positions &lt; {@code position} are read
     * @param classes  INT64 [B], each in [0, |C|)
     * @param position i in [0, h*w)
     * @return FLOAT32 [B, K] log-probabilities, each row log-normalised
     */
    Tensor nextLogProbs(Tensor grids, Tensor classes, int position);

    /**
     * The prefixes of {@code grids} at {@code position}, each under its class, for repeated
     * {@link PrefixBatch#nextLogProbs} and {@link PrefixBatch#extend} calls. The default keeps the
     * codes on the host and calls {@link #nextLogProbs} for every answer
     * ({@link PrefixBatch#uncached}); a prior whose network can
     * reuse work from one position to the next overrides it.
     *
     * @param grids    INT64 [B, h*w]; only positions &lt; {@code position} are read
     * @param classes  INT64 [B], each in [0, |C|)
     * @param position i in [0, h*w]
     */
    default PrefixBatch prefixes(Tensor grids, Tensor classes, int position) {
        return PrefixBatch.uncached(this, grids, classes, position);
    }

    /**
     * log p(z | c) = sum_i log p(z_i | z_&lt;i, c) for whole grids, in one network evaluation.
     *
     * @param grids   INT64 [B, h*w]
     * @param classes INT64 [B]
     * @return FLOAT32 [B] log-probabilities
     */
    Tensor logProb(Tensor grids, Tensor classes);

    /**
     * The class-marginal log p(z) = logsumexp_c (log p(c) + log p(z | c)).
     *
     * @param grids INT64 [B, h*w]
     * @return FLOAT32 [B]
     */
    default Tensor marginalLogProb(Tensor grids) {
        long b = grids.shape(0);
        try (TensorScope scope = TensorScope.open()) {
            Tensor logPc = classLogPrior();
            Tensor[] perClass = new Tensor[numClasses()];
            for (int c = 0; c < numClasses(); c++) {
                Tensor cls = grids.backend().full(DType.INT64, c, b);
                perClass[c] = logProb(grids, cls).add(logPc.slice(0, c, c + 1));
            }
            return scope.keep(grids.backend().stack(List.of(perClass), 1).logSumExp(1));
        }
    }

    /**
     * Draws grids z ~ p(z | c) by ancestral sampling, position by position.
     *
     * @param classes INT64 [B]
     * @param rng     the source of randomness; the same seed gives the same grids
     * @return INT64 [B, h*w]
     */
    default Tensor sample(Tensor classes, RandomGenerator rng) {
        long b = classes.shape(0);
        int n = latentShape().positions();
        long[] codes = new long[Math.toIntExact(b * n)];
        for (int i = 0; i < n; i++) {
            try (TensorScope scope = TensorScope.open()) {
                Tensor grids = classes.backend().of(codes, b, n);
                long[] drawn = classes.backend().sampleCategorical(nextLogProbs(grids, classes, i), rng).toLongArray();
                for (int r = 0; r < b; r++) {
                    codes[r * n + i] = drawn[r];
                }
            }
        }
        return classes.backend().of(codes, b, n);
    }

    /** Releases the network's engine memory. */
    @Override
    void close();
}
