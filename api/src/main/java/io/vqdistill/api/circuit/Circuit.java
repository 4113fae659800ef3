package io.vqdistill.api.circuit;

import io.vqdistill.api.Backend;
import io.vqdistill.api.Tensor;
import java.util.random.RandomGenerator;

/**
 * A tractable probabilistic circuit over S variables (pixels), answering exact queries in batch.
 * Evidence is given per example: a value tensor x of shape [B, S] and a BOOL mask of the same shape
 * that is true where x is observed; unobserved entries of x are ignored. All log-probabilities and
 * densities are natural logs (nats).
 */
public interface Circuit {

    /** S, the number of variables. */
    int numVariables();

    /** The backend holding the parameters and computing the queries. */
    Backend backend();

    /** Number of free parameters (weights and leaf parameters), as reported in sweeps. */
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
     * E[x_i | x_o] for every variable; observed entries are returned as given.
     *
     * @return FLOAT32 [B, S]
     */
    Tensor conditionalMean(Tensor x, Tensor observed);

    /**
     * A most probable completion: for the shallow mixture the exact joint MPE over the component and
     * the unobserved variables; observed entries are returned as given.
     *
     * @return FLOAT32 [B, S]
     */
    Tensor conditionalMode(Tensor x, Tensor observed);

    /**
     * One draw of x_u ~ p(x_u | x_o) per example; observed entries are returned as given.
     *
     * @return FLOAT32 [B, S]
     */
    Tensor conditionalSample(Tensor x, Tensor observed, RandomGenerator rng);

    /**
     * {@code n} unconditional samples.
     *
     * @return FLOAT32 [n, S]
     */
    Tensor sample(int n, RandomGenerator rng);
}
