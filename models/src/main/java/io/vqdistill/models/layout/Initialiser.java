package io.vqdistill.models.layout;

import java.util.SplittableRandom;

/**
 * How a tensor of a {@link NetworkLayout} is filled when a training run starts: PyTorch's default
 * initialisers, drawn element by element from one generator shared by the whole network (see
 * {@link NetworkLayout#initialValues}).
 *
 * @param kind  the distribution
 * @param scale the bound of {@link Kind#UNIFORM}, the standard deviation of {@link Kind#NORMAL},
 *              the value of {@link Kind#CONSTANT}; unused for {@link Kind#GIVEN}
 */
public record Initialiser(Kind kind, double scale) {

    /** The distributions. */
    public enum Kind {
        /** U(-scale, scale): one {@code nextDouble()} per element. */
        UNIFORM,
        /** N(0, scale^2): one {@code nextGaussian()} per element. */
        NORMAL,
        /** Every element {@code scale}; draws nothing. */
        CONSTANT,
        /** Values the training run supplies (such as the class prior); draws nothing. */
        GIVEN
    }

    /** U(-bound, bound). */
    public static Initialiser uniform(double bound) {
        return new Initialiser(Kind.UNIFORM, bound);
    }

    /**
     * PyTorch's default for the weight and bias of a convolution, U(-1/sqrt(fanIn), 1/sqrt(fanIn)),
     * where {@code fanIn} is the weight's second dimension times its kernel area.
     */
    public static Initialiser fanIn(long fanIn) {
        return uniform(1 / Math.sqrt((double) fanIn));
    }

    /** N(0, std^2). */
    public static Initialiser normal(double std) {
        return new Initialiser(Kind.NORMAL, std);
    }

    /** Every element {@code value}. */
    public static Initialiser constant(double value) {
        return new Initialiser(Kind.CONSTANT, value);
    }

    /** Values supplied by the training run. */
    public static Initialiser given() {
        return new Initialiser(Kind.GIVEN, 0);
    }

    /**
     * One element, drawn from {@code rng} when random (as FLOAT32, like every stored tensor).
     *
     * @throws AssertionError for {@link Kind#GIVEN}, whose values are not drawn
     */
    public float draw(SplittableRandom rng) {
        return switch (kind) {
            case UNIFORM -> (float) ((2 * rng.nextDouble() - 1) * scale);
            case NORMAL -> (float) (rng.nextGaussian() * scale);
            case CONSTANT -> (float) scale;
            case GIVEN -> throw new AssertionError("given values are not drawn");
        };
    }
}
