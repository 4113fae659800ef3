package io.vqdistill.distill;

import io.vqdistill.api.Backend;
import io.vqdistill.api.InvalidArgumentException;
import io.vqdistill.api.Shapes;
import io.vqdistill.api.Tensor;
import io.vqdistill.api.TensorScope;
import io.vqdistill.api.circuit.LeafFamily;
import io.vqdistill.api.circuit.Precision;
import io.vqdistill.api.model.Decoder;
import io.vqdistill.api.model.Prior;
import io.vqdistill.circuits.LeafFamilies;
import io.vqdistill.circuits.Numerics;
import io.vqdistill.circuits.ShallowMixture;
import io.vqdistill.distill.search.GridEnumeration;
import java.util.Arrays;
import java.util.Map;
import java.util.Objects;
import java.util.function.Consumer;
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
 * memory is one chunk's leaf parameters. Each chunk's mixture is scored at the model's
 * {@link Precision} (matrix products in float32 for {@link Precision#FAST}). Feasible for tiny grids
 * only (2x2 with K up to 32 on a CPU).
 *
 * <p>The sum can be taken in steps: a {@link Partial} holds, per example, the log-sum-exp over the
 * grids summed so far (the first {@link Partial#grids()} of the enumeration); the model continues
 * from one and hands out a new one after every chunk, so a caller can save it and resume an
 * interrupted sum. A sum resumed from a partial of the same chunking adds the same chunks in the same
 * order, so it equals the uninterrupted sum.
 */
public final class ExactModel {
    private final Backend backend;
    private final Prior prior;
    private final Decoder decoder;
    private final LeafFamily family;
    private final GridEnumeration grids;
    private final int chunk;
    private final Precision precision;

    /**
     * How far a sum over the grids has come.
     *
     * @param grids   the number of grids summed: the first {@code grids} of the enumeration
     * @param logSums per example, the log-sum-exp of log p(z) + log p(x | z) over those grids, in nats
     *                (negative infinity before any grid)
     */
    public record Partial(long grids, double[] logSums) {
        /** Validates and copies. */
        public Partial {
            if (grids < 0) {
                throw new InvalidArgumentException("grids must be >= 0, found " + grids);
            }
            logSums = logSums.clone();
        }

        /** The start of a sum over {@code examples} examples: no grid summed. */
        public static Partial start(int examples) {
            double[] none = new double[examples];
            Arrays.fill(none, Double.NEGATIVE_INFINITY);
            return new Partial(0, none);
        }

        @Override
        public double[] logSums() {
            return logSums.clone();
        }
    }

    /**
     * A model scoring each chunk at {@link Precision#FAST}.
     *
     * @param backend  the backend the decoder computes on
     * @param chunk    grids per chunk, >= 1
     * @param maxGrids the largest enumeration allowed, >= 1
     * @throws InvalidArgumentException when the prior and decoder disagree on the grid shape, or when
     *                                  there are more than {@code maxGrids} grids
     */
    public ExactModel(Backend backend, Prior prior, Decoder decoder, int chunk, long maxGrids) {
        this(backend, prior, decoder, chunk, maxGrids, Precision.FAST);
    }

    /**
     * A model scoring each chunk's mixture at {@code precision}.
     *
     * @param backend   the backend the decoder computes on
     * @param chunk     grids per chunk, >= 1
     * @param maxGrids  the largest enumeration allowed, >= 1
     * @param precision the precision of every chunk's mixture scores
     * @throws InvalidArgumentException when the prior and decoder disagree on the grid shape, or when
     *                                  there are more than {@code maxGrids} grids
     */
    public ExactModel(Backend backend, Prior prior, Decoder decoder, int chunk, long maxGrids, Precision precision) {
        this.precision = Objects.requireNonNull(precision, "precision");
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

    /** The precision of every chunk's mixture scores. */
    public Precision precision() {
        return precision;
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
        double[] none = new double[Math.toIntExact(x.shape(0))];
        Arrays.fill(none, Double.NEGATIVE_INFINITY);
        return logLikelihood(x, new Partial(from, none), to, partial -> summed.accept(partial.grids() - from))
                .logSums();
    }

    /**
     * Continues the sum {@code from} over the grids not yet summed, handing {@code chunkDone} the
     * partial sum after every chunk (the last one covers all {@link #components()} grids, and is
     * returned). The chunks start at {@code from.grids()}.
     *
     * @param x         FLOAT32 [B, S] on this model's backend, the examples of {@code from}
     * @param from      a partial sum over the same examples; {@link Partial#start(int)} for a new sum
     * @param chunkDone told each partial sum as soon as its chunk is added
     * @return the complete sum: log p(x) per example
     * @throws InvalidArgumentException when x is not [B, S], or {@code from} covers other examples or
     *                                  more grids than there are
     */
    public Partial logLikelihood(Tensor x, Partial from, Consumer<Partial> chunkDone) {
        return logLikelihood(x, from, grids.count(), chunkDone);
    }

    /**
     * Continues the sum {@code from} over the grids from {@code from.grids()} up to enumeration index
     * {@code to}, chunk by chunk as {@link #logLikelihood(Tensor, Partial, Consumer)} does; the
     * returned partial sum covers the grids up to {@code to}.
     */
    private Partial logLikelihood(Tensor x, Partial from, long to, Consumer<Partial> chunkDone) {
        Objects.requireNonNull(x, "x");
        Objects.requireNonNull(from, "from");
        Objects.requireNonNull(chunkDone, "chunkDone");
        int s = numVariables();
        if (x.rank() != 2 || x.shape(1) != s) {
            throw new InvalidArgumentException("x must be [B, " + s + "], found " + Shapes.format(x.shape()));
        }
        double[] out = from.logSums();
        if (out.length != x.shape(0)) {
            throw new InvalidArgumentException("the partial sum covers " + out.length + " examples but x holds "
                    + x.shape(0));
        }
        if (from.grids() > grids.count()) {
            throw new InvalidArgumentException("the partial sum covers " + from.grids() + " grids but the model"
                    + " has " + grids.count());
        }
        int p = prior.latentShape().positions();
        Partial[] last = {from};
        grids.forEachChunk(from.grids(), to, chunk, (first, codes, logProbs) -> {
            double mass = Numerics.logSumExp(logProbs);
            int n = logProbs.length;
            if (mass != Double.NEGATIVE_INFINITY) {
                double[] ll = chunkLogLikelihood(x, codes, logProbs, n, p);
                for (int b = 0; b < out.length; b++) {
                    out[b] = Numerics.logAddExp(out[b], ll[b] + mass);
                }
            }
            last[0] = new Partial(first + n, out);
            chunkDone.accept(last[0]);
        });
        return last[0];
    }

    /** log of the chunk's mixture, its weights p(z) normalised within the chunk, per example. */
    private double[] chunkLogLikelihood(Tensor x, int[] codes, double[] logProbs, int n, int p) {
        long[] batch = new long[codes.length];
        for (int i = 0; i < codes.length; i++) {
            batch[i] = codes[i];
        }
        Map<String, Tensor> parameters;
        try (Tensor input = backend.of(batch, n, p)) {
            parameters = decoder.decode(input);
        }
        try (ShallowMixture mixture = ShallowMixture.builder(family).parameters(parameters).logWeights(logProbs)
                .normaliseWeights().precision(precision).build();
             TensorScope scope = TensorScope.open()) {
            return mixture.logLikelihood(x).toDoubleArray();
        } finally {
            parameters.values().forEach(Tensor::close);
        }
    }

    @Override
    public String toString() {
        return "ExactModel[" + grids.count() + " grids of " + prior.latentShape() + ", " + family.name()
                + " leaves, chunks of " + chunk + ", " + precision + "]";
    }
}
