package io.vqdistill.circuits.leaf;

import io.vqdistill.api.InvalidArgumentException;
import io.vqdistill.api.Tensor;
import io.vqdistill.api.TensorScope;
import io.vqdistill.api.circuit.LeafFamily;
import io.vqdistill.api.circuit.LeafFamilyProvider;
import io.vqdistill.api.circuit.LeafParameters;
import io.vqdistill.api.circuit.MaskedSumKernel;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.random.RandomGenerator;

/**
 * Gaussian leaves N(x; mean, exp(log_var)) over the reals, the continuous pixel model of the paper.
 * Parameters: {@code mean} and {@code log_var} (natural-log variance), both scalar per leaf.
 * Options: {@code min_std} and {@code max_std}, the clamp of the standard deviation applied by
 * {@link #prepare} (defaults 1e-3 and 1, as in the paper); stored {@code log_var} values are the
 * clamped ones. Its {@link GaussianKernel} evaluates mixtures as matrix products.
 */
public final class GaussianFamily implements LeafFamily {
    /** The registered name. */
    public static final String NAME = "gaussian";
    /** Default lower clamp of the standard deviation. */
    public static final double DEFAULT_MIN_STD = 1e-3;
    /** Default upper clamp of the standard deviation. */
    public static final double DEFAULT_MAX_STD = 1;

    static final double LOG_2PI = Math.log(2 * Math.PI);
    private static final List<Parameter> PARAMETERS = List.of(new Parameter("mean", new long[0]),
            new Parameter("log_var", new long[0]));

    private final double minStd;
    private final double maxStd;

    /** The paper's family: standard deviations clamped to [1e-3, 1]. */
    public GaussianFamily() {
        this(DEFAULT_MIN_STD, DEFAULT_MAX_STD);
    }

    /**
     * A family whose standard deviations are clamped to [minStd, maxStd].
     *
     * @param minStd finite, > 0
     * @param maxStd finite, >= minStd
     */
    public GaussianFamily(double minStd, double maxStd) {
        if (!(minStd > 0) || !(maxStd >= minStd) || Double.isInfinite(maxStd)) {
            throw new InvalidArgumentException("gaussian leaves need 0 < min_std <= max_std < inf, found min_std "
                    + minStd + " and max_std " + maxStd);
        }
        this.minStd = minStd;
        this.maxStd = maxStd;
    }

    /** The lower clamp of the standard deviation. */
    public double minStd() {
        return minStd;
    }

    /** The upper clamp of the standard deviation. */
    public double maxStd() {
        return maxStd;
    }

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public Map<String, String> options() {
        return Map.of("min_std", Double.toString(minStd), "max_std", Double.toString(maxStd));
    }

    @Override
    public List<Parameter> parameters() {
        return PARAMETERS;
    }

    @Override
    public Map<String, Tensor> prepare(Map<String, Tensor> parameters) {
        LeafParameters.check(this, parameters);
        Map<String, Tensor> out = new LinkedHashMap<>();
        out.put("mean", parameters.get("mean").mul(1.0));
        out.put("log_var", parameters.get("log_var").clamp(2 * Math.log(minStd), 2 * Math.log(maxStd)));
        return out;
    }

    @Override
    public Tensor inSupport(Tensor x) {
        try (Tensor zeroIfFinite = x.sub(x); Tensor zero = x.scalarLike(0)) {
            return zeroIfFinite.eq(zero);
        }
    }

    @Override
    public Tensor logDensity(Map<String, Tensor> parameters, Tensor x) {
        try (TensorScope scope = TensorScope.open()) {
            Tensor logVar = parameters.get("log_var");
            Tensor z2 = x.sub(parameters.get("mean")).square().mul(logVar.neg().exp());
            return scope.keep(z2.add(logVar).add(LOG_2PI).mul(-0.5));
        }
    }

    @Override
    public Tensor sample(Map<String, Tensor> parameters, RandomGenerator rng) {
        Tensor mean = parameters.get("mean");
        try (TensorScope scope = TensorScope.open()) {
            Tensor noise = mean.backend().normal(rng, mean.dtype(), mean.shape());
            return scope.keep(parameters.get("log_var").mul(0.5).exp().mul(noise).add(mean));
        }
    }

    @Override
    public Tensor mode(Map<String, Tensor> parameters) {
        return parameters.get("mean").mul(1.0);
    }

    @Override
    public Tensor mean(Map<String, Tensor> parameters) {
        return parameters.get("mean").mul(1.0);
    }

    @Override
    public Tensor variance(Map<String, Tensor> parameters) {
        return parameters.get("log_var").exp();
    }

    @Override
    public Optional<MaskedSumKernel> maskedSumKernel(Map<String, Tensor> parameters, Tensor offset) {
        return Optional.of(new GaussianKernel(parameters.get("mean"), parameters.get("log_var"), offset));
    }

    @Override
    public String toString() {
        return NAME + " (std in [" + minStd + ", " + maxStd + "])";
    }

    /** Registers the family under {@value GaussianFamily#NAME}; options {@code min_std}, {@code max_std}. */
    public static final class Provider implements LeafFamilyProvider {
        /** Creates the provider. */
        public Provider() {
        }

        @Override
        public String name() {
            return NAME;
        }

        @Override
        public LeafFamily create(Map<String, String> options) {
            FamilyOptions o = new FamilyOptions(NAME, options, Set.of("min_std", "max_std"));
            return new GaussianFamily(o.positive("min_std", DEFAULT_MIN_STD), o.positive("max_std", DEFAULT_MAX_STD));
        }
    }
}
