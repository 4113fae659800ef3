package io.vqdistill.circuits;

import java.util.random.RandomGenerator;

/** Host-side double-precision helpers: log-space sums and drawing from a discrete distribution. */
final class Numerics {
    private Numerics() {
    }

    /** log(e^a + e^b) without overflow; -inf is the neutral element. */
    static double logAddExp(double a, double b) {
        if (a == Double.NEGATIVE_INFINITY) {
            return b;
        }
        if (b == Double.NEGATIVE_INFINITY) {
            return a;
        }
        double m = Math.max(a, b);
        return m + Math.log1p(Math.exp(-Math.abs(a - b)));
    }

    /** log sum_i e^v[i] over [from, to); -inf for an empty range. */
    static double logSumExp(double[] v, int from, int to) {
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
     * An index drawn with probability proportional to {@code weights} (non-negative, not all zero) by
     * inversion of one uniform draw from {@code rng}.
     */
    static int draw(double[] weights, RandomGenerator rng) {
        double total = 0;
        for (double w : weights) {
            total += w;
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
        if (last < 0) {
            throw new IllegalArgumentException("cannot draw from a distribution whose weights are all zero");
        }
        return last;
    }
}
