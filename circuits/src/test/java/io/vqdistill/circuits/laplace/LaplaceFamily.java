package io.vqdistill.circuits.laplace;

import io.vqdistill.api.Tensor;
import io.vqdistill.api.TensorScope;
import io.vqdistill.api.circuit.LeafFamily;
import io.vqdistill.api.circuit.LeafFamilyProvider;
import io.vqdistill.api.circuit.LeafParameters;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.random.RandomGenerator;

/**
 * A third-party leaf family, written against the api alone and registered by this test module's own
 * {@code META-INF/services} file: Laplace(x; loc, b) = exp(-|x - loc| / b) / (2 b) with parameters
 * {@code loc} and {@code log_scale} = log b. It has no fused kernel, so mixtures use the generic
 * broadcasting evaluation; every circuit query must work with it unchanged.
 */
public final class LaplaceFamily implements LeafFamily {
    /** The registered name. */
    public static final String NAME = "laplace";
    private static final List<Parameter> PARAMETERS = List.of(new Parameter("loc", new long[0]),
            new Parameter("log_scale", new long[0]));

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public Map<String, String> options() {
        return Map.of();
    }

    @Override
    public List<Parameter> parameters() {
        return PARAMETERS;
    }

    @Override
    public Map<String, Tensor> prepare(Map<String, Tensor> parameters) {
        LeafParameters.check(this, parameters);
        Map<String, Tensor> out = new LinkedHashMap<>();
        out.put("loc", parameters.get("loc").mul(1.0));
        out.put("log_scale", parameters.get("log_scale").mul(1.0));
        return out;
    }

    @Override
    public Tensor inSupport(Tensor x) {
        try (TensorScope scope = TensorScope.open()) {
            return scope.keep(x.sub(x).eq(x.scalarLike(0)));
        }
    }

    @Override
    public Tensor logDensity(Map<String, Tensor> p, Tensor x) {
        try (TensorScope scope = TensorScope.open()) {
            Tensor logScale = p.get("log_scale");
            Tensor z = x.sub(p.get("loc")).abs().mul(logScale.neg().exp());
            return scope.keep(z.add(logScale).add(Math.log(2)).neg());
        }
    }

    /** Inversion: loc - b sign(u) log(1 - 2|u|) for u uniform on (-1/2, 1/2). */
    @Override
    public Tensor sample(Map<String, Tensor> p, RandomGenerator rng) {
        Tensor loc = p.get("loc");
        try (TensorScope scope = TensorScope.open()) {
            Tensor u = loc.backend().uniform(rng, loc.dtype(), loc.shape()).sub(0.5);
            Tensor tail = u.abs().mul(-2).add(1).maximum(u.scalarLike(1e-12)).log();
            Tensor signed = u.lt(u.scalarLike(0)).where(tail, tail.neg());
            return scope.keep(signed.mul(p.get("log_scale").exp()).add(loc));
        }
    }

    @Override
    public Tensor mode(Map<String, Tensor> p) {
        return p.get("loc").mul(1.0);
    }

    @Override
    public Tensor mean(Map<String, Tensor> p) {
        return p.get("loc").mul(1.0);
    }

    @Override
    public Tensor variance(Map<String, Tensor> p) {
        try (Tensor twice = p.get("log_scale").mul(2); Tensor b2 = twice.exp()) {
            return b2.mul(2);
        }
    }

    /** The service entry. */
    public static final class Provider implements LeafFamilyProvider {
        @Override
        public String name() {
            return NAME;
        }

        @Override
        public LeafFamily create(Map<String, String> options) {
            if (!options.isEmpty()) {
                throw new IllegalArgumentException("laplace leaves take no options, found " + options.keySet());
            }
            return new LaplaceFamily();
        }
    }
}
