package io.vqdistill.distill;

import io.vqdistill.api.Backend;
import io.vqdistill.api.InvalidArgumentException;
import io.vqdistill.api.Shapes;
import io.vqdistill.api.Tensor;
import io.vqdistill.api.TensorScope;
import io.vqdistill.api.circuit.LeafFamily;
import io.vqdistill.api.model.Decoder;
import io.vqdistill.api.model.Prior;
import io.vqdistill.circuits.LeafFamilies;
import io.vqdistill.circuits.Numerics;
import io.vqdistill.circuits.ShallowMixture;
import io.vqdistill.distill.search.GridEnumeration;
import java.util.Arrays;
import java.util.Map;
import java.util.Objects;
import java.util.function.LongConsumer;

/**
 * The exact model (ExM): the VQ-VAE's own likelihood
 * log p(x) = logsumexp over all K^(h*w) grids z of [log p(z) + log p(x | z)], with p(z) the
 * class-marginal prior sum_c p(c) p(z | c) and p(x | z) the decoder's factorised leaves.
 *
 * <p>It streams: grids are enumerated and scored by the prior in chunks of {@link #chunk()}, each
 * chunk is decoded once and evaluated as a {@link ShallowMixture} with weights p(z) normalised
 * within the chunk, and the chunk's result is shifted back by the log of the chunk's prior mass and
 * accumulated per example in float64 with a running log-add-exp. The whole circuit is never held:
 * memory is one chunk's leaf parameters. Feasible for tiny grids only (2x2 with K up to 32 on one
 * CPU).
 */
public final class ExactModel {
    private final Backend backend;
    private final Prior prior;
    private final Decoder decoder;
    private final LeafFamily family;
    private final GridEnumeration grids;
    private final int chunk;

    /**
     * @param backend  the backend the decoder computes on
     * @param chunk    grids per chunk, >= 1
     * @param maxGrids the largest enumeration allowed, >= 1
     * @throws InvalidArgumentException when the prior and decoder disagree on the grid shape, or when
     *                                  there are more than {@code maxGrids} grids
     */
    public ExactModel(Backend backend, Prior prior, Decoder decoder, int chunk, long maxGrids) {
        this.backend = Objects.requireNonNull(backend, "backend");
        this.prior = Objects.requireNonNull(prior, "prior");
        this.decoder = Objects.requireNonNull(decoder, "decoder");
        if (chunk < 1) {
            throw new InvalidArgumentException("chunk must be >= 1, found " + chunk);
        }
        if (!prior.latentShape().equals(decoder.latentShape())) {
            throw new InvalidArgumentException("the prior describes " + prior.latentShape() + " grids but the decoder"
                    + " takes " + decoder.latentShape());
        }
        this.chunk = chunk;
        this.family = LeafFamilies.create(decoder.leafFamily());
        this.grids = GridEnumeration.of(prior, new int[0], maxGrids);
    }

    /** K^(h*w), the number of components summed. */
    public long components() {
        return grids.count();
    }

    /** Grids per chunk. */
    public int chunk() {
        return chunk;
    }

    /** The number of pixels S of an observation. */
    public int numVariables() {
        return decoder.imageShape().pixels();
    }

    /**
     * log p(x) for complete observations, in nats.
     *
     * @param x FLOAT32 [B, S] on this model's backend, values in the support of the decoder's leaves
     * @return B log-likelihoods, accumulated in float64
     */
    public double[] logLikelihood(Tensor x) {
        return logLikelihood(x, grids -> { });
    }

    /**
     * log p(x) for complete observations, in nats, telling {@code summed} how many grids are summed
     * so far after each chunk (the last chunk reports {@link #components()}).
     *
     * @see #logLikelihood(Tensor)
     */
    public double[] logLikelihood(Tensor x, LongConsumer summed) {
        return logLikelihood(x, 0, grids.count(), summed);
    }

    /**
     * The part of log p(x) that the grids with enumeration indices [from, to) contribute:
     * log sum over those z of p(z) p(x | z), in nats (minus infinity for an empty range). The parts of
     * disjoint ranges that cover every grid combine into log p(x) by log-add-exp; ranges whose bounds are
     * multiples of {@link #chunk()} evaluate exactly the chunks of the whole model, so the combination
     * differs from {@link #logLikelihood(Tensor)} by float64 rounding only. {@code summed} hears the
     * grids of the range summed so far after each chunk.
     *
     * @param x FLOAT32 [B, S] on this model's backend
     * @throws IndexOutOfBoundsException when [from, to) is not inside [0, {@link #components()}]
     */
    public double[] logLikelihood(Tensor x, long from, long to, LongConsumer summed) {
        Objects.requireNonNull(x, "x");
        Objects.requireNonNull(summed, "summed");
        int s = numVariables();
        if (x.rank() != 2 || x.shape(1) != s) {
            throw new InvalidArgumentException("x must be [B, " + s + "], found " + Shapes.format(x.shape()));
        }
        double[] out = new double[Math.toIntExact(x.shape(0))];
        Arrays.fill(out, Double.NEGATIVE_INFINITY);
        int p = prior.latentShape().positions();
        grids.forEachChunk(from, to, chunk, (first, codes, logProbs) -> {
            double mass = Numerics.logSumExp(logProbs);
            int n = logProbs.length;
            if (mass == Double.NEGATIVE_INFINITY) {
                summed.accept(first + n - from);
                return;
            }
            long[] batch = new long[codes.length];
            for (int i = 0; i < codes.length; i++) {
                batch[i] = codes[i];
            }
            Map<String, Tensor> parameters;
            try (Tensor input = backend.of(batch, n, p)) {
                parameters = decoder.decode(input);
            }
            double[] ll;
            try (ShallowMixture mixture = ShallowMixture.builder(family).parameters(parameters).logWeights(logProbs)
                    .normaliseWeights().build();
                 TensorScope scope = TensorScope.open()) {
                ll = mixture.logLikelihood(x).toDoubleArray();
            } finally {
                parameters.values().forEach(Tensor::close);
            }
            for (int b = 0; b < out.length; b++) {
                out[b] = Numerics.logAddExp(out[b], ll[b] + mass);
            }
            summed.accept(first + n - from);
        });
        return out;
    }

    @Override
    public String toString() {
        return "ExactModel[" + grids.count() + " grids of " + prior.latentShape() + ", " + family.name()
                + " leaves, chunks of " + chunk + "]";
    }
}
