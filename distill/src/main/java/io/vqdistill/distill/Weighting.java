package io.vqdistill.distill;

import io.vqdistill.api.InvalidArgumentException;
import io.vqdistill.api.Tensor;
import io.vqdistill.api.circuit.Precision;
import java.util.Objects;

/**
 * How the {@link Distiller} weighs the components of a mixture.
 */
public sealed interface Weighting {

    /** Uniform weights 1/N: p(x) = (1/N) sum_z p(x | z). */
    record Uniform() implements Weighting {
        @Override
        public String toString() {
            return "uniform";
        }
    }

    /**
     * Weights proportional to the prior probability of each grid, normalised over the set: the
     * latent set's scores, which must all be known (not NaN).
     */
    record Prior() implements Weighting {
        @Override
        public String toString() {
            return "prior";
        }
    }

    /**
     * Weights re-estimated by expectation-maximisation on data with the leaves fixed, starting from
     * uniform weights: each iteration sets w_n to the mean posterior responsibility of component n,
     * which never lowers the mean log-likelihood of the data.
     *
     * @param data          FLOAT32 [B, S] observations on the decoder's backend, B >= 1; the caller
     *                      keeps ownership
     * @param maxIterations the largest number of weight updates, >= 1
     * @param tolerance     EM stops once an update raises the mean log-likelihood by less than this
     *                      many nats, >= 0
     * @param precision     the precision of the mixture's scores while EM runs
     */
    record Em(Tensor data, int maxIterations, double tolerance, Precision precision) implements Weighting {
        /** Validates the settings. */
        public Em {
            Objects.requireNonNull(data, "data");
            Objects.requireNonNull(precision, "precision");
            if (maxIterations < 1) {
                throw new InvalidArgumentException("maxIterations must be >= 1, found " + maxIterations);
            }
            if (!(tolerance >= 0)) {
                throw new InvalidArgumentException("tolerance must be >= 0, found " + tolerance);
            }
        }

        @Override
        public String toString() {
            return "em";
        }
    }

    /** Uniform weights. */
    static Weighting uniform() {
        return new Uniform();
    }

    /** Weights proportional to p(z). */
    static Weighting prior() {
        return new Prior();
    }

    /**
     * EM on {@code data} at {@link Precision#FAST}: at most {@code maxIterations} updates, until one gains
     * less than {@code tolerance} nats.
     */
    static Weighting em(Tensor data, int maxIterations, double tolerance) {
        return em(data, maxIterations, tolerance, Precision.FAST);
    }

    /** EM as {@link #em(Tensor, int, double)}, scoring the mixture at {@code precision}. */
    static Weighting em(Tensor data, int maxIterations, double tolerance, Precision precision) {
        return new Em(data, maxIterations, tolerance, precision);
    }
}
