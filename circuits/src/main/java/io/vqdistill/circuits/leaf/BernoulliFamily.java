package io.vqdistill.circuits.leaf;

import io.vqdistill.api.Backend;
import io.vqdistill.api.DType;
import io.vqdistill.api.Tensor;
import io.vqdistill.api.TensorScope;
import io.vqdistill.api.circuit.LeafFamily;
import io.vqdistill.api.circuit.LeafFamilyProvider;
import io.vqdistill.api.circuit.LeafParameters;
import io.vqdistill.api.circuit.MaskedSumKernel;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.random.RandomGenerator;

/**
 * Bernoulli leaves over {0, 1} (binarised pixels). Parameter: {@code logit}, the log-odds of 1,
 * scalar per leaf; p = sigmoid(logit). No options. Log-probabilities are computed as
 * x * logit - softplus(logit), stable for any finite logit; mixtures are scored by one matrix
 * product of [x, 1 - x, 1] with [log p; log(1 - p); offset].
 */
public final class BernoulliFamily implements LeafFamily {
    /** The registered name. */
    public static final String NAME = "bernoulli";
    private static final List<Parameter> PARAMETERS = List.of(new Parameter("logit", new long[0]));

    /** Creates the family. */
    public BernoulliFamily() {
    }

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
        return Map.of("logit", parameters.get("logit").mul(1.0));
    }

    @Override
    public Tensor inSupport(Tensor x) {
        try (TensorScope scope = TensorScope.open()) {
            Tensor one = x.eq(x.scalarLike(1));
            return scope.keep(x.eq(x.scalarLike(0)).where(x.backend().full(DType.BOOL, 1), one));
        }
    }

    /** log(1 + e^z) without overflow: max(z, 0) + log1p(e^-|z|). */
    static Tensor softplus(Tensor z) {
        try (TensorScope scope = TensorScope.open()) {
            return scope.keep(z.maximum(z.scalarLike(0)).add(z.abs().neg().exp().log1p()));
        }
    }

    @Override
    public Tensor logDensity(Map<String, Tensor> parameters, Tensor x) {
        Tensor logit = parameters.get("logit");
        try (Tensor xl = x.mul(logit); Tensor sp = softplus(logit)) {
            return xl.sub(sp);
        }
    }

    @Override
    public Tensor sample(Map<String, Tensor> parameters, RandomGenerator rng) {
        Tensor logit = parameters.get("logit");
        Backend backend = logit.backend();
        try (TensorScope scope = TensorScope.open()) {
            Tensor p = softplus(logit.neg()).neg().exp();
            Tensor u = backend.uniform(rng, logit.dtype(), logit.shape());
            return scope.keep(u.lt(p).where(logit.scalarLike(1), logit.scalarLike(0)));
        }
    }

    @Override
    public Tensor mode(Map<String, Tensor> parameters) {
        Tensor logit = parameters.get("logit");
        try (TensorScope scope = TensorScope.open()) {
            return scope.keep(logit.gt(logit.scalarLike(0)).where(logit.scalarLike(1), logit.scalarLike(0)));
        }
    }

    @Override
    public Tensor mean(Map<String, Tensor> parameters) {
        try (Tensor minus = parameters.get("logit").neg(); Tensor sp = softplus(minus); Tensor logP = sp.neg()) {
            return logP.exp();
        }
    }

    @Override
    public Tensor variance(Map<String, Tensor> parameters) {
        Tensor logit = parameters.get("logit");
        try (TensorScope scope = TensorScope.open()) {
            Tensor logP = softplus(logit.neg()).neg();
            Tensor logQ = softplus(logit).neg();
            return scope.keep(logP.add(logQ).exp());
        }
    }

    @Override
    public Optional<MaskedSumKernel> maskedSumKernel(Map<String, Tensor> parameters, Tensor offset) {
        return Optional.of(new BernoulliKernel(parameters.get("logit"), offset));
    }

    @Override
    public String toString() {
        return NAME;
    }

    /** Registers the family under {@value BernoulliFamily#NAME}; it has no options. */
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
            new FamilyOptions(NAME, options, Set.of());
            return new BernoulliFamily();
        }
    }
}
