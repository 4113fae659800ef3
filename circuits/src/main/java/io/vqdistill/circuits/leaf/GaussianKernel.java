package io.vqdistill.circuits.leaf;

import io.vqdistill.api.Backend;
import io.vqdistill.api.DType;
import io.vqdistill.api.ReduceOp;
import io.vqdistill.api.Tensor;
import io.vqdistill.api.TensorScope;
import io.vqdistill.api.circuit.MaskedSumKernel;
import java.util.List;

/**
 * The Gaussian mixture scores as matrix products instead of a [b, n, S] broadcast:
 * <pre>
 *   sum_i log N(x_i; mu_ji, s_ji) = sum_i [ -a/2 x'^2 + (mu' a) x' + c ]_ji,   a = 1/s^2,
 *   c = -(mu'^2 a + log s^2 + log 2pi) / 2,   x' = x - m_i,   mu' = mu - m_i
 * </pre>
 * with m_i the mean of mu over the components (centring keeps the terms small where the
 * components agree). With everything observed this is one product of [x'^2, x', 1] ([b, 2S+1])
 * with a prepared [2S+1, n] matrix whose last row holds sum_i c_ji plus the offset (c computed and
 * summed in float64). A marginal zeroes the unobserved x' and subtracts their constants with a second product
 * [b, S] x [S, n].
 *
 * <p>In float32 the expanded square cancels: with s = 1e-3 each term is up to ~1e6 while their
 * sum may be ~1, so {@link #errorBound} reports 2 u sqrt(K) times a bound on the sum of the terms'
 * magnitudes (u = 2^-24, K terms), which measured float32 accumulation (sequential, the worst order)
 * stays below by a factor of about three; the mixture then recomputes the leading components term
 * by term.
 */
final class GaussianKernel implements MaskedSumKernel {
    private static final double UNIT_ROUNDOFF = 0x1p-24;

    private final Backend backend;
    private final int variables;
    private final Tensor centre;
    private final Tensor weights;
    private final Tensor constants;
    private final double quadraticSum;
    private final double linearSum;
    private final double constantSum;
    private final double rowConstantMax;

    GaussianKernel(Tensor mean, Tensor logVar, Tensor offset) {
        backend = mean.backend();
        long n = mean.shape(0);
        variables = Math.toIntExact(mean.shape(1));
        try (TensorScope scope = TensorScope.open()) {
            centre = scope.keep(centreOf(mean));
            Tensor quadratic = quadratic(logVar);
            Tensor linear = linear(mean, logVar);
            Tensor exactConstant = constant(mean, logVar);
            Tensor row = rowConstant(exactConstant, offset);
            Tensor constant = exactConstant.toType(DType.FLOAT32);
            exactConstant.close();
            rowConstantMax = row.abs().reduce(ReduceOp.MAX, 0, false).item();
            quadraticSum = sumOfColumnMax(quadratic);
            linearSum = sumOfColumnMax(linear);
            constantSum = sumOfColumnMax(constant);
            weights = scope.keep(backend.concat(List.of(quadratic, linear, row.reshape(n, 1)), 1).transposeLast());
            constants = scope.keep(constant.transposeLast());
        }
    }

    /** m_i, the mean of mu over the components (summed in float64): FLOAT32 [1, S]. */
    private static Tensor centreOf(Tensor mean) {
        try (TensorScope scope = TensorScope.open()) {
            return scope.keep(mean.toType(DType.FLOAT64).reduce(ReduceOp.SUM, 0, true).div(mean.shape(0))
                    .toType(DType.FLOAT32));
        }
    }

    /** -a/2: FLOAT32 [n, S]. */
    private static Tensor quadratic(Tensor logVar) {
        try (TensorScope scope = TensorScope.open()) {
            return scope.keep(logVar.neg().exp().mul(-0.5));
        }
    }

    /** mu' a: FLOAT32 [n, S]. */
    private Tensor linear(Tensor mean, Tensor logVar) {
        try (TensorScope scope = TensorScope.open()) {
            return scope.keep(mean.sub(centre).mul(logVar.neg().exp()));
        }
    }

    /** c = -(mu'^2 a + log s^2 + log 2pi) / 2: FLOAT64 [n, S]. */
    private Tensor constant(Tensor mean, Tensor logVar) {
        try (TensorScope scope = TensorScope.open()) {
            Tensor lv = logVar.toType(DType.FLOAT64);
            Tensor centred = mean.toType(DType.FLOAT64).sub(centre.toType(DType.FLOAT64));
            return scope.keep(centred.square().mul(lv.neg().exp()).add(lv).add(GaussianFamily.LOG_2PI).mul(-0.5));
        }
    }

    /** sum_i c_ji + offset_j of the float64 constants: FLOAT32 [n]. */
    private static Tensor rowConstant(Tensor constant, Tensor offset) {
        try (TensorScope scope = TensorScope.open()) {
            return scope.keep(constant.sum(1).add(offset.toType(DType.FLOAT64)).toType(DType.FLOAT32));
        }
    }

    /** sum_i max_j |t[j, i]|. */
    private static double sumOfColumnMax(Tensor t) {
        try (Tensor abs = t.abs(); Tensor max = abs.reduce(ReduceOp.MAX, 0, false); Tensor sum = max.sum(0)) {
            return sum.item();
        }
    }

    @Override
    public Tensor scores(Tensor x, Tensor observed) {
        try (TensorScope scope = TensorScope.open()) {
            long b = x.shape(0);
            Tensor centred = centred(x, observed);
            Tensor ones = backend.full(DType.FLOAT32, 1, b, 1);
            Tensor features = backend.concat(List.of(centred.square(), centred, ones), 1);
            Tensor scores = features.matmul(weights);
            if (observed != null) {
                scores = scores.sub(hidden(observed).matmul(constants));
            }
            return scope.keep(scores);
        }
    }

    /**
     * With q = max_i x'_i^2 over the row's observed variables, the terms of any score add up in
     * magnitude to at most q sum_i max_j a_ji / 2 + sqrt(q) sum_i max_j |mu' a|_ji + max_j |row_j|
     * (+ sum_i max_j |c_ji| for the subtracted constants of a marginal).
     */
    @Override
    public Tensor errorBound(Tensor x, Tensor observed) {
        double[] peak;
        try (TensorScope scope = TensorScope.open()) {
            peak = centred(x, observed).square().max(1).toDoubleArray();
        }
        long terms = 2L * variables + 1 + (observed == null ? 0 : variables);
        double scale = 2 * UNIT_ROUNDOFF * Math.sqrt(terms);
        float[] bound = new float[peak.length];
        for (int r = 0; r < peak.length; r++) {
            double magnitude = peak[r] * quadraticSum + Math.sqrt(peak[r]) * linearSum + rowConstantMax
                    + (observed == null ? 0 : constantSum);
            bound[r] = (float) (scale * magnitude);
        }
        return backend.of(bound, bound.length);
    }

    /** x - m, with the unobserved entries set to 0 so that they contribute nothing (NaN included). */
    private Tensor centred(Tensor x, Tensor observed) {
        Tensor c = x.sub(centre);
        if (observed == null) {
            return c;
        }
        try (Tensor zero = c.scalarLike(0)) {
            return observed.where(c, zero);
        }
    }

    /** 1 where unobserved, 0 where observed, FLOAT32. */
    private Tensor hidden(Tensor observed) {
        try (Tensor zero = backend.full(DType.FLOAT32, 0); Tensor one = backend.full(DType.FLOAT32, 1)) {
            return observed.where(zero, one);
        }
    }

    @Override
    public long workspacePerExample() {
        return 8L * variables + 2;
    }

    @Override
    public void close() {
        for (Tensor t : List.of(centre, weights, constants)) {
            t.close();
        }
    }
}
