package io.vqdistill.models.train;

/** The float64 reference of a Gaussian shallow mixture's log-likelihood, for the trainers' contract tests. */
final class Float64Mixture {
    private Float64Mixture() {
    }

    /**
     * log sum_j w_j prod_i N(x_bi; mu_ji, exp(logVar_ji)) of each of the B images {@code x} [B, S],
     * in float64, for the J components {@code mean}, {@code logVar} [J, S] and {@code logWeights} [J].
     */
    static double[] logLikelihoods(float[] x, float[] mean, float[] logVar, double[] logWeights) {
        int components = logWeights.length;
        int s = mean.length / components;
        int images = x.length / s;
        double[] out = new double[images];
        for (int b = 0; b < images; b++) {
            double[] scores = new double[components];
            double top = Double.NEGATIVE_INFINITY;
            for (int j = 0; j < components; j++) {
                double sum = logWeights[j];
                for (int i = 0; i < s; i++) {
                    double d = x[b * s + i] - mean[j * s + i];
                    sum -= 0.5 * (Math.log(2 * Math.PI) + logVar[j * s + i] + d * d / Math.exp(logVar[j * s + i]));
                }
                scores[j] = sum;
                top = Math.max(top, sum);
            }
            double acc = 0;
            for (double v : scores) {
                acc += Math.exp(v - top);
            }
            out[b] = top + Math.log(acc);
        }
        return out;
    }
}
