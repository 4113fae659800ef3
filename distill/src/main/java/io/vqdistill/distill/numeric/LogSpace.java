package io.vqdistill.distill.numeric;

/** Host-side log-space sums in double precision, with max-subtraction; -inf is the neutral element. */
public final class LogSpace {
    private LogSpace() {
    }

    /** log sum_i e^v[i]; -inf when no term is finite or v is empty. */
    public static double logSumExp(double[] v) {
        double m = Double.NEGATIVE_INFINITY;
        for (double x : v) {
            m = Math.max(m, x);
        }
        if (m == Double.NEGATIVE_INFINITY) {
            return m;
        }
        double s = 0;
        for (double x : v) {
            s += Math.exp(x - m);
        }
        return m + Math.log(s);
    }

    /** log(e^a + e^b). */
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
}
