package io.vqdistill.api.circuit;

import io.vqdistill.api.Backend;
import io.vqdistill.api.Tensor;
import java.util.random.RandomGenerator;

/**
 * A tractable probabilistic circuit over S variables (pixels), answering exact queries in batch.
 * Evidence is given per example: a value tensor x of shape [B, S] and a BOOL mask of the same shape
 * that is true where x is observed; unobserved entries of x are ignored (they may hold anything,
 * NaN included). Observed values must lie in the support of the circuit's {@link #leafFamily()}.
 * All log-probabilities and densities are natural logs (nats).
 *
 * <p>A circuit owns tensors on its {@link #backend()}; {@link #close()} releases them. Circuits are
 * not thread-safe: query one from one thread at a time.
 */
public interface Circuit extends AutoCloseable {

    /** S, the number of variables. */
    int numVariables();

    /** The backend holding the parameters and computing the queries. */
    Backend backend();

    /** The family of every input unit (leaf) of this circuit. */
    LeafFamily leafFamily();

    /**
     * Number of free parameters, as reported in sweeps: every sum unit with A children counts A - 1
     * weights, and every stored leaf parameter element counts one.
     */
    long parameterCount();

    /**
     * log p(x) for complete observations.
     *
     * @param x FLOAT32 [B, S]
     * @return FLOAT32 [B]
     */
    Tensor logLikelihood(Tensor x);

    /**
     * log p(x_o): the unobserved variables are summed or integrated out exactly.
     *
     * @param x        FLOAT32 [B, S]
     * @param observed BOOL [B, S]
     * @return FLOAT32 [B]
     */
    Tensor marginalLogLikelihood(Tensor x, Tensor observed);

    /**
     * log p(c | x_o), the posterior over the children c of the root sum unit (for a shallow mixture:
     * over its N components). A circuit whose root is not a sum unit has the single component 0,
     * with log posterior 0.
     *
     * @param x        FLOAT32 [B, S]
     * @param observed BOOL [B, S]
     * @return FLOAT32 [B, C], each row a normalised log-distribution
     */
    Tensor componentPosterior(Tensor x, Tensor observed);

    /**
     * E[x_i | x_o] for every variable; observed entries are returned as given.
     *
     * @param x        FLOAT32 [B, S]
     * @param observed BOOL [B, S]
     * @return FLOAT32 [B, S]
     */
    Tensor conditionalMean(Tensor x, Tensor observed);

    /**
     * Var[x_i | x_o] for every variable; observed entries have variance 0. With nothing observed
     * these are the marginal variances.
     *
     * @param x        FLOAT32 [B, S]
     * @param observed BOOL [B, S]
     * @return FLOAT32 [B, S], in squared units of x
     */
    Tensor conditionalVariance(Tensor x, Tensor observed);

    /**
     * A most probable completion: for the shallow mixture the exact joint MPE over the component and
     * the unobserved variables; for a deep circuit the completion found by max-product with
     * backtracking (exact when the circuit is deterministic). Observed entries are returned as given.
     *
     * @param x        FLOAT32 [B, S]
     * @param observed BOOL [B, S]
     * @return FLOAT32 [B, S]
     */
    Tensor conditionalMode(Tensor x, Tensor observed);

    /**
     * One draw of x_u ~ p(x_u | x_o) per example; observed entries are returned as given. Equal
     * generator states give equal draws.
     *
     * @param x        FLOAT32 [B, S]
     * @param observed BOOL [B, S]
     * @param rng      the source of every random choice
     * @return FLOAT32 [B, S]
     */
    Tensor conditionalSample(Tensor x, Tensor observed, RandomGenerator rng);

    /**
     * {@code n} unconditional samples; equal generator states give equal samples.
     *
     * @param n   number of samples, >= 0
     * @param rng the source of every random choice
     * @return FLOAT32 [n, S]
     */
    Tensor sample(int n, RandomGenerator rng);

    /** Releases the circuit's tensors. Idempotent; any query after it is an error. */
    @Override
    void close();
}
