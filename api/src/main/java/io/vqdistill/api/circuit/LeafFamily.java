package io.vqdistill.api.circuit;

import io.vqdistill.api.InvalidArgumentException;
import io.vqdistill.api.Shapes;
import io.vqdistill.api.Tensor;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.random.RandomGenerator;

/**
 * A family of univariate leaf distributions (Gaussian, categorical, ...), configured by its options.
 * A circuit holds the parameters of many leaves as a map from {@link Parameter#name()} to a tensor
 * of shape {@code P + eventShape}: the leading shape P enumerates leaves (for a shallow mixture
 * [N, S], for a deep circuit [L]) and is the same for every parameter of one map. Every method
 * works on any leading shape and on FLOAT32 or FLOAT64 parameters, returns new tensors the caller
 * owns and leaves its arguments open.
 *
 * <p>Values x are one number per leaf (a category is its index as a float). Where a method takes
 * x, its shape must broadcast with P (NumPy rules) and its dtype equal the parameters' dtype; the
 * result has the broadcast shape. Values outside {@link #inSupport(Tensor) the support} give
 * undefined results: callers check observed values first.
 *
 * <p>Implementations are found with {@link java.util.ServiceLoader} through a
 * {@link LeafFamilyProvider}; a third-party jar adds a family with a
 * {@code META-INF/services/io.vqdistill.api.circuit.LeafFamilyProvider} file, and every circuit
 * query then works with it unchanged.
 */
public interface LeafFamily {

    /** The name it is registered and stored under, e.g. {@code gaussian}. */
    String name();

    /**
     * The effective options, defaults included, as written to {@code circuit.json}; the provider
     * re-creates an equal family from them.
     */
    Map<String, String> options();

    /** The parameters, in the order they are stored in a file. */
    List<Parameter> parameters();

    /**
     * Checks parameters and returns them in canonical form (for example clamped or normalised),
     * which is also how they are stored in a file.
     *
     * @param parameters exactly the {@link #parameters()}, FLOAT32, each of shape P + eventShape with
     *                   one common leading shape P of rank >= 1, every element finite
     * @return new FLOAT32 tensors of the same shapes, owned by the caller
     * @throws InvalidArgumentException naming the parameter, the position and the value at fault
     */
    Map<String, Tensor> prepare(Map<String, Tensor> parameters);

    /**
     * Whether each value lies in the support (finite reals; integers in [0, V); 0 or 1).
     *
     * @param x FLOAT32 or FLOAT64 values of any shape
     * @return BOOL, the shape of x
     */
    Tensor inSupport(Tensor x);

    /**
     * The log-density (continuous families, nats per unit of x) or log-probability (discrete
     * families) of each value under its leaf.
     *
     * @param parameters prepared parameters with leading shape P
     * @param x          values broadcasting with P, the parameters' dtype
     * @return the broadcast shape of P and x, the parameters' dtype
     */
    Tensor logDensity(Map<String, Tensor> parameters, Tensor x);

    /**
     * One draw per leaf. Random numbers come from {@code rng} through the Backend's random methods,
     * so equal generator states give equal draws on every backend.
     *
     * @return shape P, the parameters' dtype
     */
    Tensor sample(Map<String, Tensor> parameters, RandomGenerator rng);

    /**
     * A value of largest density per leaf (the first on ties); {@code logDensity} at it is the
     * leaf's maximum, which max-product inference uses.
     *
     * @return shape P, the parameters' dtype
     */
    Tensor mode(Map<String, Tensor> parameters);

    /**
     * The mean of each leaf.
     *
     * @return shape P, the parameters' dtype
     */
    Tensor mean(Map<String, Tensor> parameters);

    /**
     * The variance of each leaf, in squared units of x.
     *
     * @return shape P, the parameters' dtype
     */
    Tensor variance(Map<String, Tensor> parameters);

    /**
     * An optional fused kernel for fully factorised mixtures: the masked sums of log-densities of n
     * components over S variables, usually as matrix products or gathers, at both
     * {@link Precision}s. Families without one get a generic broadcasting evaluation that is correct
     * but slower and uses more memory.
     *
     * @param parameters prepared FLOAT32 parameters with leading shape [n, S]; the kernel may keep
     *                   references to them but does not close them
     * @param offset     [n], FLOAT32 or FLOAT64, added to every score of component j (typically
     *                   log mixture weights)
     * @return the kernel, owned by the caller, or empty
     */
    default Optional<MaskedSumKernel> maskedSumKernel(Map<String, Tensor> parameters, Tensor offset) {
        return Optional.empty();
    }

    /**
     * One named parameter of a family.
     *
     * @param name       the key in parameter maps and the tensor name in files, e.g. {@code log_var}
     * @param eventShape the trailing axes each leaf has for it: empty for a scalar, {@code [V]} for
     *                   the V logits of a categorical leaf
     */
    record Parameter(String name, long[] eventShape) {
        /** Validates and copies. */
        public Parameter {
            Objects.requireNonNull(name, "name");
            eventShape = Shapes.checkShape(eventShape, "parameter " + name).clone();
        }

        @Override
        public long[] eventShape() {
            return eventShape.clone();
        }

        /** Number of elements per leaf: the product of the event shape (1 for a scalar). */
        public long eventSize() {
            return Shapes.size(eventShape);
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof Parameter p && p.name.equals(name) && java.util.Arrays.equals(p.eventShape, eventShape);
        }

        @Override
        public int hashCode() {
            return 31 * name.hashCode() + java.util.Arrays.hashCode(eventShape);
        }

        @Override
        public String toString() {
            return name + Shapes.format(eventShape);
        }
    }
}
