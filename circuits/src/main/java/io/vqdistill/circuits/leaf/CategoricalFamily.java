package io.vqdistill.circuits.leaf;

import io.vqdistill.api.Backend;
import io.vqdistill.api.CompareOp;
import io.vqdistill.api.DType;
import io.vqdistill.api.InvalidArgumentException;
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
 * Categorical leaves over the V values 0..V-1 (for 8-bit pixels V = 256), a value being passed as
 * its index in a float. Parameter: {@code logits} with event shape [V]; {@link #prepare} normalises
 * them to log-probabilities (log-softmax), which is how they are stored. Option:
 * {@code categories}, V >= 2 (default 256). Mixtures are scored by gathering and summing
 * log-probabilities ({@link GatherKernel}), not by a one-hot product.
 */
public final class CategoricalFamily implements LeafFamily {
    /** The registered name. */
    public static final String NAME = "categorical";
    /** Default number of categories: 8-bit pixel levels. */
    public static final int DEFAULT_CATEGORIES = 256;

    private final int categories;
    private final List<Parameter> parameters;

    /**
     * A family over {@code categories} values.
     *
     * @param categories V >= 2
     */
    public CategoricalFamily(int categories) {
        if (categories < 2) {
            throw new InvalidArgumentException("categorical leaves need categories >= 2, found " + categories);
        }
        this.categories = categories;
        this.parameters = List.of(new Parameter("logits", new long[] {categories}));
    }

    /** V, the number of values. */
    public int categories() {
        return categories;
    }

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public Map<String, String> options() {
        return Map.of("categories", Integer.toString(categories));
    }

    @Override
    public List<Parameter> parameters() {
        return parameters;
    }

    @Override
    public Map<String, Tensor> prepare(Map<String, Tensor> parameters) {
        LeafParameters.check(this, parameters);
        return Map.of("logits", parameters.get("logits").logSoftmax(-1));
    }

    @Override
    public Tensor inSupport(Tensor x) {
        try (TensorScope scope = TensorScope.open()) {
            Tensor integral = x.toType(DType.INT64).toType(x.dtype()).eq(x);
            Tensor low = x.compare(CompareOp.GE, x.scalarLike(0));
            Tensor high = x.compare(CompareOp.LE, x.scalarLike(categories - 1));
            Tensor no = x.backend().full(DType.BOOL, 0);
            return scope.keep(integral.where(low.where(high, no), no));
        }
    }

    /**
     * The one-hot codes of values {@code x} (indices 0..V-1 in a float tensor, inside the support):
     * [..., V] in {@code dtype}, 1 at each value's position and 0 elsewhere. Gathered from the rows of
     * a V x V identity, which costs one pass over the output instead of a comparison and a cast.
     */
    public Tensor oneHot(Tensor x, DType dtype) {
        float[] eye = new float[categories * categories];
        for (int v = 0; v < categories; v++) {
            eye[v * categories + v] = 1;
        }
        long[] shape = java.util.Arrays.copyOf(x.shape(), x.rank() + 1);
        shape[x.rank()] = categories;
        try (TensorScope scope = TensorScope.open()) {
            Tensor rows = x.backend().of(eye, categories, categories).toType(dtype);
            return scope.keep(rows.gather(0, x.toType(DType.INT64).reshape(-1)).reshape(shape));
        }
    }

    /** BOOL [..., V]: true at the position of each value. */
    private Tensor oneHot(Tensor x) {
        try (Tensor levels = levels(x.backend(), x.dtype()); Tensor column = x.expandDims(-1)) {
            return column.eq(levels);
        }
    }

    private Tensor levels(Backend backend, DType dtype) {
        try (Tensor range = backend.arange(categories)) {
            return range.toType(dtype);
        }
    }

    @Override
    public Tensor logDensity(Map<String, Tensor> parameters, Tensor x) {
        try (TensorScope scope = TensorScope.open()) {
            Tensor logits = parameters.get("logits");
            return scope.keep(oneHot(x).where(logits, logits.scalarLike(0)).sum(-1));
        }
    }

    @Override
    public Tensor sample(Map<String, Tensor> parameters, RandomGenerator rng) {
        Tensor logits = parameters.get("logits");
        try (Tensor drawn = logits.backend().sampleCategorical(logits, rng)) {
            return drawn.toType(logits.dtype());
        }
    }

    @Override
    public Tensor mode(Map<String, Tensor> parameters) {
        Tensor logits = parameters.get("logits");
        try (Tensor best = logits.argMax(-1)) {
            return best.toType(logits.dtype());
        }
    }

    @Override
    public Tensor mean(Map<String, Tensor> parameters) {
        Tensor logits = parameters.get("logits");
        try (TensorScope scope = TensorScope.open()) {
            return scope.keep(logits.exp().mul(levels(logits.backend(), logits.dtype())).sum(-1));
        }
    }

    @Override
    public Tensor variance(Map<String, Tensor> parameters) {
        Tensor logits = parameters.get("logits");
        try (TensorScope scope = TensorScope.open()) {
            Tensor p = logits.exp();
            Tensor levels = levels(logits.backend(), logits.dtype());
            Tensor mean = p.mul(levels).sum(-1).expandDims(-1);
            return scope.keep(p.mul(levels.sub(mean).square()).sum(-1));
        }
    }

    @Override
    public Optional<MaskedSumKernel> maskedSumKernel(Map<String, Tensor> parameters, Tensor offset) {
        return Optional.of(new GatherKernel(parameters.get("logits"), offset));
    }

    @Override
    public String toString() {
        return NAME + " (" + categories + " values)";
    }

    /** Registers the family under {@value CategoricalFamily#NAME}; option {@code categories}. */
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
            FamilyOptions o = new FamilyOptions(NAME, options, Set.of("categories"));
            return new CategoricalFamily(o.atLeast("categories", 2, DEFAULT_CATEGORIES));
        }
    }
}
