package io.vqdistill.circuits;

import io.vqdistill.api.InvalidArgumentException;
import java.util.Objects;
import java.util.random.RandomGenerator;

/**
 * Host-side double-precision helpers shared by the circuits and the distiller: log-space sums with
 * max-subtraction, in which -inf (probability zero) is the neutral element, and drawing an index
 * from a discrete distribution given by non-negative weights.
 */
public final class Numerics {
    private Numerics() {
    }

    /** log(e^a + e^b) without overflow; -inf is the neutral element, so two -inf give -inf. */
    public static double logAddExp(double a, double b) {
        if (a == Double.NEGATIVE_INFINITY) {
            return b;
        }
        if (b == Double.NEGATIVE_INFINITY) {
            return a;
        }
        double m = Math.max(a, b);
        return m + Math.log1p(Math.exp(-Math.abs(a - b)));
    }

    /** log sum_i e^v[i] over all of {@code v}; -inf when {@code v} is empty or every term is -inf. */
    public static double logSumExp(double[] v) {
        return logSumExp(v, 0, v.length);
    }

    /** log sum_i e^v[i] over {@code [from, to)}; -inf for an empty range or when every term is -inf. */
    public static double logSumExp(double[] v, int from, int to) {
        double m = Double.NEGATIVE_INFINITY;
        for (int i = from; i < to; i++) {
            m = Math.max(m, v[i]);
        }
        if (m == Double.NEGATIVE_INFINITY) {
            return m;
        }
        double s = 0;
        for (int i = from; i < to; i++) {
            s += Math.exp(v[i] - m);
        }
        return m + Math.log(s);
    }

    /**
     * An index drawn with probability proportional to {@code weights}, by inversion of one uniform
     * draw {@code rng.nextDouble()}: the first index whose cumulative weight exceeds it. Zero weights
     * are never drawn, and the weights need not sum to one.
     *
     * @param weights unnormalised probabilities: each finite and >= 0, at least one > 0, with a
     *                finite sum
     * @param rng     the source of the one uniform draw
     * @throws InvalidArgumentException naming the index and value of a negative or non-finite
     *                                  weight, or saying that every weight is zero (including an
     *                                  empty array) or that the sum overflows
     */
    public static int draw(double[] weights, RandomGenerator rng) {
        Objects.requireNonNull(rng, "rng");
        double total = 0;
        for (int i = 0; i < weights.length; i++) {
            double w = weights[i];
            if (!(w >= 0) || w == Double.POSITIVE_INFINITY) {
                throw InvalidArgumentException.of("weights[" + i + "]", w, "finite and >= 0 to draw from them");
            }
            total += w;
        }
        if (total == 0) {
            throw new InvalidArgumentException("weights are all zero (" + weights.length
                    + " of them): there is no index to draw");
        }
        if (total == Double.POSITIVE_INFINITY) {
            throw new InvalidArgumentException("weights must have a finite sum to draw from them, got infinity");
        }
        double u = rng.nextDouble() * total;
        int last = -1;
        for (int i = 0; i < weights.length; i++) {
            if (weights[i] > 0) {
                last = i;
                u -= weights[i];
                if (u < 0) {
                    return i;
                }
            }
        }
        // rounding left u >= 0 after the last positive weight: that weight takes the remainder
        return last;
    }
}
