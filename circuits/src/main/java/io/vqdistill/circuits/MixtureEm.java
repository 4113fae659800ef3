package io.vqdistill.circuits;

import io.vqdistill.api.Backend;
import io.vqdistill.api.DType;
import io.vqdistill.api.InvalidArgumentException;
import io.vqdistill.api.Tensor;
import io.vqdistill.api.TensorScope;
import io.vqdistill.api.circuit.LeafFamily;
import io.vqdistill.api.circuit.Precision;
import io.vqdistill.circuits.leaf.CategoricalFamily;
import io.vqdistill.circuits.leaf.GaussianFamily;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.function.LongConsumer;

/**
 * Expectation-maximisation of every parameter of a {@link ShallowMixture}: the weights and the leaves
 * of each component re-fitted on data, starting from the mixture given (for a distilled mixture, its
 * decoded components). One {@link #step} is one full-batch EM update over the data, computed in
 * batches of rows on the mixture's backend:
 *
 * <ul>
 *   <li>E-step: the joint scores log w_n + log p(x | n) of a batch, [b, N], from the mixture's own
 *   kernels (matrix products for Gaussian leaves), and the responsibilities r = softmax over n.</li>
 *   <li>M-step: responsibility-weighted sums by matrix products, r^T [x, x^2] ([N, 2S], Gaussian) or
 *   r^T onehot(x) ([N, S V], categorical), accumulated over the batches; then w_n = R_n / B with
 *   R_n = sum_b r_bn, and per leaf the mean and variance (Gaussian, the variance raised to the floor
 *   {@code minStd^2} and capped at the family's largest) or the probabilities (C_nsv + a) / (R_n + V a)
 *   with Dirichlet smoothing a (categorical).</li>
 * </ul>
 *
 * <p>Gaussian variances may be shrunk towards the data's own per-variable variance v_s (the variance of
 * variable s over all the rows, the same for every component): with a strength a > 0 the update is
 * (R_n S_ns + a v_s) / (R_n + a), where S_ns is the responsibility-weighted variance around the new
 * mean. This is the maximum of the expected complete log-likelihood penalised by
 * -(a / 2) (log σ²_ns + v_s / σ²_ns) per leaf (an inverse-gamma prior on each variance with its mode
 * near v_s): a component that explains few rows keeps a variance near the data's where its rows happen
 * to agree, while variables that barely vary anywhere (an image's border) keep a small one.
 *
 * A component whose responsibilities sum to less than {@value #EMPTY} keeps its leaves. The Gaussian
 * update maximises the expected complete log-likelihood (plus the penalty, when a > 0) over the
 * variances allowed (the objective is unimodal in each variance, so the clamped value is the
 * constrained maximum), so a Gaussian step never lowers the data's log-likelihood (plus the penalty);
 * a categorical step is the maximum a posteriori update under
 * the Dirichlet(1 + a) prior, which never lowers the log-likelihood plus the prior's log-density (and
 * the log-likelihood itself as a tends to 0). At {@link Precision#DOUBLE} every step is computed in
 * float64, at {@link Precision#FAST} in float32 with float64 weights.
 *
 * <p>With {@link Settings#weightsOnly} a step re-fits the weights alone and keeps every leaf as it
 * is, for mixtures of any leaf family; such a step never lowers the data's log-likelihood.
 */
public final class MixtureEm {
    /** Components with less total responsibility than this keep their leaves. */
    public static final double EMPTY = 1e-10;

    /**
     * The settings of EM.
     *
     * @param precision the precision of the scores and the M-step sums
     * @param minStd    Gaussian leaves: the floor on every standard deviation, in (0, 1]; the refitted
     *                  mixture's family clamps at it, so the floor is recorded with the leaves
     * @param smoothing categorical leaves: the Dirichlet pseudo-count a added to every value's count, > 0
     * @param shrinkage Gaussian leaves: the strength a >= 0, in rows, with which every variance is shrunk
     *                  towards the data's per-variable variance (0: the maximum-likelihood update)
     * @param fitLeaves whether a step re-fits the leaves too; when false it re-fits the weights only and
     *                  minStd, smoothing and shrinkage play no part
     */
    public record Settings(Precision precision, double minStd, double smoothing, double shrinkage,
                           boolean fitLeaves) {
        /** Validates the settings. */
        public Settings {
            Objects.requireNonNull(precision, "precision");
            if (!(minStd > 0 && minStd <= 1)) {
                throw InvalidArgumentException.of("minStd", minStd, "in (0, 1]");
            }
            if (!(smoothing > 0) || Double.isInfinite(smoothing)) {
                throw InvalidArgumentException.of("smoothing", smoothing, "finite and > 0");
            }
            if (!(shrinkage >= 0) || Double.isInfinite(shrinkage)) {
                throw InvalidArgumentException.of("shrinkage", shrinkage, "finite and >= 0");
            }
        }

        /** Settings that re-fit the weights and the leaves, the variances shrunk with strength {@code shrinkage}. */
        public Settings(Precision precision, double minStd, double smoothing, double shrinkage) {
            this(precision, minStd, smoothing, shrinkage, true);
        }

        /** Settings that re-fit the weights and the leaves, without shrinkage of the variances. */
        public Settings(Precision precision, double minStd, double smoothing) {
            this(precision, minStd, smoothing, 0);
        }

        /** Settings that re-fit the weights only, every leaf kept as it is. */
        public static Settings weightsOnly(Precision precision) {
            return new Settings(precision, 1, 1, 0, false);
        }
    }

    /**
     * The result of one EM update.
     *
     * @param next              the updated mixture, owned by the caller
     * @param meanLogLikelihood the mean log-likelihood of the data in nats under the mixture the step
     *                          started from (computed by its E-step)
     */
    public record Step(ShallowMixture next, double meanLogLikelihood) {
    }

    private MixtureEm() {
    }

    /**
     * The mixture EM starts from: {@code mixture}'s weights, latents and leaves, with Gaussian
     * standard deviations raised to the floor (a family clamping at {@code settings.minStd()});
     * categorical leaves unchanged. The caller owns the result and still owns {@code mixture}.
     *
     * @throws InvalidArgumentException for a leaf family EM does not fit (neither Gaussian nor categorical)
     */
    public static ShallowMixture start(ShallowMixture mixture, Settings settings) {
        Objects.requireNonNull(mixture, "mixture");
        Objects.requireNonNull(settings, "settings");
        return rebuild(mixture, family(mixture, settings), mixture.parameters(), mixture.logWeights(), true);
    }

    /**
     * A mixture EM reached from {@code original} with {@code settings}, rebuilt from its saved leaf
     * parameters and normalised log weights exactly as given (not normalised again), with
     * {@code original}'s latents and precision: the same mixture as the one saved, so that EM continues
     * from it as it would have. The caller owns the result and still owns {@code original} and
     * {@code parameters}.
     *
     * @throws InvalidArgumentException for parameters that are not the family's, or log weights that are
     *                                  not normalised
     */
    public static ShallowMixture restore(ShallowMixture original, Settings settings, Map<String, Tensor> parameters,
                                         double[] logWeights) {
        Objects.requireNonNull(original, "original");
        Objects.requireNonNull(settings, "settings");
        return rebuild(original, family(original, settings), parameters, logWeights, false);
    }

    /**
     * One full-batch EM update of {@code current} on {@code data}, telling {@code rowsDone} how many
     * rows have been through the E-step after each batch. {@code current} stays open and owned by the
     * caller.
     *
     * @param data FLOAT32 [B, S], B >= 1, on the mixture's backend, in the support of its leaves
     *             (dequantised values for Gaussian leaves, levels for categorical ones)
     * @throws InvalidArgumentException for data of another shape, backend or support, or (when the
     *                                  settings fit the leaves) a family EM does not fit
     */
    public static Step step(ShallowMixture current, Tensor data, Settings settings, LongConsumer rowsDone) {
        Objects.requireNonNull(current, "current");
        Objects.requireNonNull(settings, "settings");
        Objects.requireNonNull(rowsDone, "rowsDone");
        boolean leaves = settings.fitLeaves();
        LeafFamily family = leaves ? family(current, settings) : current.leafFamily();
        int b = current.check("EM", data, null);
        if (b < 1) {
            throw new InvalidArgumentException("EM needs at least one row of data, found 0");
        }
        boolean gaussian = family instanceof GaussianFamily;
        int s = current.numVariables();
        int n = current.components();
        long columns = !leaves ? 0 : gaussian ? 2L * s : (long) s * ((CategoricalFamily) family).categories();
        Precision precision = settings.precision();
        DType dtype = precision == Precision.DOUBLE ? DType.FLOAT64 : DType.FLOAT32;
        int rows = current.rowsPerBatch(precision, 2 * columns);
        Backend backend = current.backend();
        double[] mass = new double[n];
        double total = 0;
        Tensor sums = null;
        try {
            for (int from = 0; from < b; from += rows) {
                int to = Math.min(b, from + rows);
                try (TensorScope scope = TensorScope.open()) {
                    Tensor x = data.slice(0, from, to);
                    Tensor scores = current.jointScores(x, precision);
                    Tensor rowLogLikelihood = scores.logSumExp(1);
                    for (double v : rowLogLikelihood.toDoubleArray()) {
                        total += v;
                    }
                    Tensor r = scores.sub(rowLogLikelihood.expandDims(1)).exp();
                    double[] batchMass = r.sum(0).toDoubleArray();
                    for (int j = 0; j < n; j++) {
                        mass[j] += batchMass[j];
                    }
                    if (leaves) {
                        Tensor features = gaussian ? moments(x, dtype) : oneHot(x, (CategoricalFamily) family, dtype);
                        Tensor part = r.transposeLast().matmul(features);
                        Tensor sum = sums == null ? part : sums.add(part);
                        scope.keep(sum);
                        if (sums != null) {
                            sums.close();
                        }
                        sums = sum;
                    }
                }
                rowsDone.accept(to);
            }
            double[] logWeights = new double[n];
            for (int j = 0; j < n; j++) {
                logWeights[j] = Math.log(mass[j] / b);
            }
            if (!leaves) {
                return new Step(rebuild(current, family, current.parameters(), logWeights, true), total / b);
            }
            ShallowMixture next;
            try (TensorScope scope = TensorScope.open()) {
                double[] safeMass = new double[n];
                boolean[] filled = new boolean[n];
                for (int j = 0; j < n; j++) {
                    filled[j] = mass[j] >= EMPTY;
                    safeMass[j] = filled[j] ? mass[j] : 1;
                }
                Tensor massColumn = backend.of(safeMass, n, 1).toType(dtype);
                Tensor keep = backend.of(filled, n, 1);
                Map<String, Tensor> parameters = gaussian
                        ? gaussianLeaves(current, sums, massColumn, keep, s, (GaussianFamily) family,
                                settings.shrinkage(), b)
                        : categoricalLeaves(current, sums, massColumn, keep, s, (CategoricalFamily) family,
                                settings.smoothing());
                next = rebuild(current, family, parameters, logWeights, true);
            }
            return new Step(next, total / b);
        } finally {
            if (sums != null) {
                sums.close();
            }
        }
    }

    /** [x, x^2] of a batch, [b, 2S] in {@code dtype}. */
    private static Tensor moments(Tensor x, DType dtype) {
        Tensor wide = x.toType(dtype);
        return x.backend().concat(List.of(wide, wide.square()), 1);
    }

    /** The one-hot codes of a batch of levels, [b, S V] in {@code dtype}. */
    private static Tensor oneHot(Tensor x, CategoricalFamily family, DType dtype) {
        return family.oneHot(x, dtype).reshape(x.shape(0), x.shape(1) * family.categories());
    }

    /**
     * Means and log-variances from the sums [N, 2S] of {@code rows} rows, the variances shrunk with
     * strength {@code shrinkage}; empty components keep theirs. FLOAT32 [N, S] each.
     */
    private static Map<String, Tensor> gaussianLeaves(ShallowMixture current, Tensor sums, Tensor mass,
                                                      Tensor keep, int s, GaussianFamily family,
                                                      double shrinkage, int rows) {
        Tensor mean = sums.slice(1, 0, s).div(mass);
        Tensor second = sums.slice(1, s, 2L * s).div(mass);
        double low = family.minStd() * family.minStd();
        double high = family.maxStd() * family.maxStd();
        Tensor spread = second.sub(mean.square());
        if (shrinkage > 0) {
            Tensor pooled = sums.sum(0).div(rows).reshape(1, 2L * s);
            Tensor pooledMean = pooled.slice(1, 0, s);
            Tensor pooledVariance = pooled.slice(1, s, 2L * s).sub(pooledMean.square());
            spread = spread.mul(mass).add(pooledVariance.mul(shrinkage)).div(mass.add(shrinkage));
        }
        Tensor variance = spread.clamp(low, high);
        Map<String, Tensor> out = new LinkedHashMap<>();
        out.put("mean", keep.where(mean.toType(DType.FLOAT32), current.parameters().get("mean")));
        out.put("log_var", keep.where(variance.log().toType(DType.FLOAT32), current.parameters().get("log_var")));
        return out;
    }

    /** Smoothed log-probabilities from the counts [N, S V]; empty components keep theirs. FLOAT32 [N, S, V]. */
    private static Map<String, Tensor> categoricalLeaves(ShallowMixture current, Tensor counts, Tensor mass,
                                                         Tensor keep, int s, CategoricalFamily family,
                                                         double smoothing) {
        int v = family.categories();
        long n = counts.shape(0);
        Tensor logCounts = counts.add(smoothing).log().reshape(n, s, v);
        Tensor logTotal = mass.add(v * smoothing).log().reshape(n, 1, 1);
        Tensor logits = logCounts.sub(logTotal).toType(DType.FLOAT32);
        return Map.of("logits", keep.reshape(n, 1, 1).where(logits, current.parameters().get("logits")));
    }

    /** The family of the refitted mixture: Gaussian clamping at the floor, or categorical as it is. */
    private static LeafFamily family(ShallowMixture mixture, Settings settings) {
        LeafFamily family = mixture.leafFamily();
        if (family instanceof GaussianFamily g) {
            return new GaussianFamily(settings.minStd(), Math.max(settings.minStd(), g.maxStd()));
        }
        if (family instanceof CategoricalFamily) {
            return family;
        }
        throw new InvalidArgumentException("EM refits gaussian and categorical leaves; this mixture has "
                + family.name() + " leaves");
    }

    private static ShallowMixture rebuild(ShallowMixture like, LeafFamily family, Map<String, Tensor> parameters,
                                          double[] logWeights, boolean normalise) {
        ShallowMixture.Builder builder = ShallowMixture.builder(family).parameters(parameters).logWeights(logWeights)
                .precision(like.precision());
        if (normalise) {
            builder.normaliseWeights();
        }
        like.latents().ifPresent(builder::latents);
        return TensorScope.outside(builder::build);
    }
}
