package io.vqdistill.circuits.leaf;

import io.vqdistill.api.Backend;
import io.vqdistill.api.CompareOp;
import io.vqdistill.api.DType;
import io.vqdistill.api.ReduceOp;
import io.vqdistill.api.Tensor;
import io.vqdistill.api.TensorScope;
import io.vqdistill.api.circuit.MaskedSumKernel;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.IntStream;

/**
 * The Gaussian mixture scores as one matrix product instead of a [b, n, S] broadcast, with the square
 * expanded around per-pixel centres:
 * <pre>
 *   log N(x; mu, s) = -a/2 (x - c)^2 + a (mu - c) (x - c) + k,   a = 1/s^2,
 *   k = -(a (mu - c)^2 + log s^2 + log 2pi) / 2
 * </pre>
 * for any c. Every pixel has one or more centres (see {@link Centres}); leaf (j, i) uses the one
 * its mean was assigned to. The G centres (padded to a multiple of {@value #BLOCK}) form blocks of
 * {@value #BLOCK}, and the features of a batch are, block after block, the {@value #BLOCK} values
 * (x_i - c)^2, the {@value #BLOCK} values x_i - c and a 1 ([b, 2G + G/{@value #BLOCK}]). The
 * prepared matrix holds, for component j, -a/2 and a (mu - c) in the rows of each leaf's centre,
 * zeros in the rows of the other centres, and in a block's row of ones the sum of k over the leaves
 * assigned to the block's centres (summed in float64; the first block also carries the offset). One
 * product then gives every score. A marginal instead uses, per block, an observed indicator for each
 * centre in place of the row of ones, against a matrix that holds each leaf's k in its centre's
 * indicator row (made on the first marginal query): unobserved variables then add exactly nothing,
 * at one and a half times the work.
 *
 * <h2>Accuracy of the float32 form ({@link io.vqdistill.api.circuit.Precision#FAST})</h2>
 * The expanded square cancels: its terms are of the order of a (x - c)^2 while their sum is
 * a (x - mu)^2, and float32 loses about 2^-24 of the terms and of the running sums. Around one
 * centre per pixel (the mean of all components) that is hopeless for decoded leaves: with s = 1e-3
 * and means near 0 and 1 a term reaches 1e5 to 1e6 nats, and a score is off by tens of nats. With
 * centres such that a (mu - c)^2 <= T for every leaf, a term exceeds the exact a (x - mu)^2 / 2 by
 * at most about 2 sqrt(T a (x - mu)^2) + T; and since each block's row of ones brings the running
 * sum back to the exact partial score, the running sums exceed it by at most about {@value #BLOCK}
 * T / 2. A score that matters (x close to mu where s is small) is thus accurate to a few 2^-24
 * {@value #BLOCK} T sqrt(G / {@value #BLOCK}) nats, a few thousandths for T = {@value #TARGET}, and
 * a score far from the data keeps a relative accuracy near float32's, well within the
 * {@link io.vqdistill.api.circuit.Precision} contract. Decoded leaves (means near 0 and 1 at the
 * clamp, wider leaves elsewhere) need one centre per pixel where the components agree and two or
 * three where they split. The centres are capped at 2S (at most about twice the work of one centre
 * per pixel) or 2^21 / n, whichever is more; parameters that need more get a larger T (reported by
 * {@link #target()}) and a proportionally larger error.
 *
 * <h2>The float64 form ({@link io.vqdistill.api.circuit.Precision#DOUBLE})</h2>
 * One centre per pixel (the mean over the components) and every tensor in float64, prepared on
 * first use: the same cancellation costs about 1e-16 of the terms, below 1e-6 nats for data in
 * [0, 1] and std >= 1e-3.
 */
final class GaussianKernel implements MaskedSumKernel {
    /** The requested bound on a (mu - c)^2 of every leaf. */
    static final double TARGET = 1024;
    /** Centres per block of features; G is padded to a multiple. */
    static final int BLOCK = 32;
    /** Below this many weights per feature row in all (2^21 / n centres), the 2S cap does not bind. */
    private static final long SMALL_MATRIX = 1L << 21;
    /** Components per parallel task while the matrix is filled. */
    private static final int COLUMNS = 256;

    private final Backend backend;
    private final int variables;
    private final int components;
    private final Tensor mean;
    private final Tensor logVar;
    private final Tensor offset;
    private final int groups;
    private final int blocks;
    private final double target;
    /** INT64 [G]: the pixel of each centre (padding centres: pixel 0). */
    private final Tensor pixel;
    /** FLOAT32 [1, G]. */
    private final Tensor centres;
    /** FLOAT32 [2G + G / BLOCK, n]. */
    private final Tensor weights;
    /** FLOAT32 [S, n]: k of every leaf, from which the marginal matrix is made. */
    private final Tensor constants;
    /** FLOAT32 [3G, n], for marginals, made on first use. */
    private Tensor marginalWeights;
    /** FLOAT32 [1, n], the offset, for marginals. */
    private Tensor offset32;
    private Tensor centre64;
    private Tensor weights64;
    private Tensor constants64;

    /**
     * @param mean   FLOAT32 [n, S], kept by reference for the float64 form
     * @param logVar FLOAT32 [n, S], likewise
     * @param offset [n], FLOAT32 or FLOAT64, likewise
     */
    GaussianKernel(Tensor mean, Tensor logVar, Tensor offset) {
        this.backend = mean.backend();
        this.mean = mean;
        this.logVar = logVar;
        this.offset = offset;
        this.components = Math.toIntExact(mean.shape(0));
        this.variables = Math.toIntExact(mean.shape(1));
        int n = components;
        int s = variables;
        float[] mu = pixelMajor(mean);
        float[] lv = pixelMajor(logVar);
        double[] row = offset.toDoubleArray();
        Centres c = Centres.of(mu, lv, n, s, TARGET, Math.max(2L * s, SMALL_MATRIX / n));
        this.target = c.target();
        this.blocks = (c.size() + BLOCK - 1) / BLOCK;
        this.groups = blocks * BLOCK;
        int stride = 2 * BLOCK + 1;
        float[] w = new float[Math.multiplyExact(blocks * stride, n)];
        float[] k = new float[Math.multiplyExact(s, n)];
        double[] blockConstant = new double[Math.multiplyExact(blocks, n)];
        System.arraycopy(row, 0, blockConstant, 0, n);
        int chunks = (n + COLUMNS - 1) / COLUMNS;
        IntStream.range(0, chunks).parallel().forEach(chunk -> {
            int from = chunk * COLUMNS;
            int to = Math.min(n, from + COLUMNS);
            for (int i = 0; i < s; i++) {
                for (int j = from; j < to; j++) {
                    int leaf = i * n + j;
                    int centre = c.of(leaf);
                    int block = centre / BLOCK;
                    int at = block * stride + centre % BLOCK;
                    double a = Math.exp(-lv[leaf]);
                    double d = mu[leaf] - c.value(centre);
                    double constant = -0.5 * (a * d * d + lv[leaf] + GaussianFamily.LOG_2PI);
                    w[at * n + j] = (float) (-0.5 * a);
                    w[(at + BLOCK) * n + j] = (float) (a * d);
                    k[leaf] = (float) constant;
                    blockConstant[block * n + j] += constant;
                }
            }
            for (int q = 0; q < blocks; q++) {
                for (int j = from; j < to; j++) {
                    w[(q * stride + 2 * BLOCK) * n + j] = (float) blockConstant[q * n + j];
                }
            }
        });
        float[] value = new float[groups];
        long[] pixelOf = new long[groups];
        for (int i = 0; i < s; i++) {
            for (int q = c.first(i); q < c.first(i + 1); q++) {
                value[q] = (float) c.value(q);
                pixelOf[q] = i;
            }
        }
        List<Tensor> made = new ArrayList<>();
        try {
            this.pixel = keep(made, backend.of(pixelOf, groups));
            this.centres = keep(made, backend.of(value, 1, groups));
            this.weights = keep(made, backend.of(w, (long) blocks * stride, n));
            this.constants = keep(made, backend.of(k, s, n));
        } catch (RuntimeException e) {
            made.forEach(Tensor::close);
            throw e;
        }
    }

    /** [n, S] as a pixel-major host array: the n values of pixel i at [i n, (i + 1) n). */
    private static float[] pixelMajor(Tensor t) {
        try (Tensor transposed = t.transposeLast()) {
            return transposed.toFloatArray();
        }
    }

    private static Tensor keep(List<Tensor> made, Tensor t) {
        made.add(t);
        return t;
    }

    /** G, the number of centres over all pixels (S when each pixel has one). */
    int centreCount() {
        return groups;
    }

    /** The T reached: a (mu - c)^2 <= T for every leaf. */
    double target() {
        return target;
    }

    @Override
    public Tensor scores(Tensor x, Tensor observed) {
        if (observed != null) {
            return marginalScores(x, observed);
        }
        try (TensorScope scope = TensorScope.open()) {
            long b = x.shape(0);
            Tensor blocked = x.gather(1, pixel).sub(centres).reshape(b, blocks, BLOCK);
            Tensor features = backend.concat(List.of(blocked.square(), blocked,
                    backend.full(DType.FLOAT32, 1, b, blocks, 1)), 2).reshape(b, (long) blocks * (2 * BLOCK + 1));
            return scope.keep(features.matmul(weights));
        }
    }

    /**
     * Scores of partly observed examples: per block the features (x - c)^2 and x - c zeroed where
     * unobserved, then the observed indicator of each centre, against the marginal matrix whose rows
     * for those indicators hold each leaf's k; an unobserved variable adds exactly nothing, and each
     * block's indicators bring the running sum back to the exact partial score.
     */
    private Tensor marginalScores(Tensor x, Tensor observed) {
        prepareMarginal();
        try (TensorScope scope = TensorScope.open()) {
            long b = x.shape(0);
            Tensor zero = x.scalarLike(0);
            Tensor seen = observed.where(x.scalarLike(1), zero).gather(1, pixel);
            Tensor d = observed.where(x, zero).gather(1, pixel).sub(centres).mul(seen).reshape(b, blocks, BLOCK);
            Tensor features = backend.concat(List.of(d.square(), d, seen.reshape(b, blocks, BLOCK)), 2)
                    .reshape(b, (long) blocks * 3 * BLOCK);
            return scope.keep(features.matmul(marginalWeights).add(offset32));
        }
    }

    /**
     * The marginal matrix [3G, n], made on first use (outside the caller's scopes) from the blocked
     * one: per block its -a/2 and a (mu - c) rows, then for each centre the k of the leaves assigned
     * to it (those with a non-zero -a/2 in the centre's row).
     */
    private void prepareMarginal() {
        if (marginalWeights != null) {
            return;
        }
        TensorScope.outside(() -> {
            try (TensorScope scope = TensorScope.open()) {
                Tensor rows = weights.reshape(blocks, 2 * BLOCK + 1, components);
                Tensor quadratic = rows.slice(1, 0, BLOCK);
                Tensor linear = rows.slice(1, BLOCK, 2 * BLOCK);
                Tensor k = constants.gather(0, pixel).reshape(blocks, BLOCK, components);
                Tensor assigned = quadratic.compare(CompareOp.NE, quadratic.scalarLike(0));
                Tensor own = assigned.where(k, k.scalarLike(0));
                Tensor m = backend.concat(List.of(quadratic, linear, own), 1).reshape((long) blocks * 3 * BLOCK,
                        components);
                Tensor o = offset.toType(DType.FLOAT32).reshape(1, components);
                offset32 = scope.keep(o);
                marginalWeights = scope.keep(m);
            }
            return null;
        });
    }

    @Override
    public Tensor preciseScores(Tensor x, Tensor observed) {
        prepareDouble();
        try (TensorScope scope = TensorScope.open()) {
            long b = x.shape(0);
            Tensor d = x.toType(DType.FLOAT64).sub(centre64);
            if (observed != null) {
                d = observed.where(d, d.scalarLike(0));
            }
            Tensor features = backend.concat(List.of(d.square(), d, backend.full(DType.FLOAT64, 1, b, 1)), 1);
            Tensor scores = features.matmul(weights64);
            if (observed != null) {
                scores = scores.sub(observed.where(d.scalarLike(0), d.scalarLike(1)).matmul(constants64));
            }
            return scope.keep(scores);
        }
    }

    /**
     * The float64 form: one centre per pixel, the mean over the components; made outside the
     * caller's scopes, as it lives until {@link #close()}.
     */
    private void prepareDouble() {
        if (weights64 == null) {
            TensorScope.outside(() -> {
                makeDouble();
                return null;
            });
        }
    }

    private void makeDouble() {
        try (TensorScope scope = TensorScope.open()) {
            Tensor mu = mean.toType(DType.FLOAT64);
            Tensor lv = logVar.toType(DType.FLOAT64);
            Tensor m = mu.reduce(ReduceOp.SUM, 0, true).div(components);
            Tensor a = lv.neg().exp();
            Tensor centred = mu.sub(m);
            Tensor k = centred.square().mul(a).add(lv).add(GaussianFamily.LOG_2PI).mul(-0.5);
            Tensor row = k.sum(1).add(offset.toType(DType.FLOAT64)).reshape(components, 1);
            Tensor w = backend.concat(List.of(a.mul(-0.5), centred.mul(a), row), 1).transposeLast();
            Tensor c = k.transposeLast();
            centre64 = scope.keep(m);
            weights64 = scope.keep(w);
            constants64 = scope.keep(c);
        }
    }

    @Override
    public long workspacePerExample() {
        return 9L * groups + 3L * variables + 2L * blocks;
    }

    @Override
    public void close() {
        List<Tensor> owned = new ArrayList<>(List.of(pixel, centres, weights, constants));
        if (marginalWeights != null) {
            owned.addAll(List.of(marginalWeights, offset32));
            marginalWeights = null;
        }
        if (weights64 != null) {
            owned.addAll(List.of(centre64, weights64, constants64));
            weights64 = null;
        }
        owned.forEach(Tensor::close);
    }
}
