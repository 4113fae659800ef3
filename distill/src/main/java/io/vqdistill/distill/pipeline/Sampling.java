package io.vqdistill.distill.pipeline;

import io.vqdistill.api.InvalidArgumentException;
import io.vqdistill.api.Tensor;
import io.vqdistill.api.TensorScope;
import io.vqdistill.api.circuit.Circuit;
import io.vqdistill.circuits.Numerics;
import io.vqdistill.circuits.ShallowMixture;
import io.vqdistill.distill.eval.PixelEncoding;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.SplittableRandom;

/**
 * Unconditional samples of a circuit over the pixels of square images: the means of drawn mixture
 * components (how samples of a mixture are usually shown) or draws of every pixel.
 *
 * @param values     the samples, [count * S] row-major, in the circuit's pixel encoding
 * @param count      samples drawn
 * @param side       the images' side; S = side * side
 * @param encoding   the circuit's pixel encoding
 * @param draw       what was drawn
 * @param components for {@link Draw#MEANS} the component of each sample, in order; empty for
 *                   {@link Draw#PIXELS}
 */
public record Sampling(float[] values, int count, int side, PixelEncoding encoding, Draw draw, int[] components) {

    /** What a sample shows. */
    public enum Draw {
        /**
         * The mean of a component drawn by the mixture weights: E[x | z]. The component draws are the
         * ones {@link #PIXELS} makes with the same seed.
         */
        MEANS,
        /** One draw of every pixel: x ~ p(x), a component drawn by the weights, then each pixel from its leaf. */
        PIXELS;

        /** The lower-case name users type, e.g. {@code means}. */
        public String label() {
            return name().toLowerCase(Locale.ROOT);
        }
    }

    /** Copies the arrays. */
    public Sampling {
        Objects.requireNonNull(values, "values");
        Objects.requireNonNull(encoding, "encoding");
        Objects.requireNonNull(draw, "draw");
        values = values.clone();
        components = components.clone();
    }

    @Override
    public float[] values() {
        return values.clone();
    }

    @Override
    public int[] components() {
        return components.clone();
    }

    /**
     * Draws {@code count} samples of {@code circuit} as {@code draw} says, with a generator seeded by
     * {@code seed}.
     *
     * @throws InvalidArgumentException when {@code count} is below 1, the circuit's variables are not
     *                                  the pixels of a square image, or component means are asked of a
     *                                  circuit that is not a shallow mixture
     */
    public static Sampling draw(Circuit circuit, int count, long seed, Draw draw) {
        Objects.requireNonNull(circuit, "circuit");
        Objects.requireNonNull(draw, "draw");
        if (count < 1) {
            throw InvalidArgumentException.of("count", count, ">= 1");
        }
        int s = circuit.numVariables();
        int side = (int) Math.round(Math.sqrt(s));
        if (side * side != s) {
            throw new InvalidArgumentException("the circuit has " + s + " variables, not a square image");
        }
        PixelEncoding encoding = PixelEncoding.forLeafFamily(circuit.leafFamily().name());
        SplittableRandom rng = new SplittableRandom(seed);
        if (draw == Draw.PIXELS) {
            try (Tensor samples = circuit.sample(count, rng)) {
                return new Sampling(samples.toFloatArray(), count, side, encoding, draw, new int[0]);
            }
        }
        if (!(circuit instanceof ShallowMixture mixture)) {
            throw new InvalidArgumentException("component means need a shallow mixture, and this circuit is a "
                    + circuit.getClass().getSimpleName() + "; draw pixels instead");
        }
        double[] logWeights = mixture.logWeights();
        double[] weights = new double[logWeights.length];
        for (int i = 0; i < weights.length; i++) {
            weights[i] = Math.exp(logWeights[i]);
        }
        int[] chosen = new int[count];
        long[] index = new long[count];
        for (int i = 0; i < count; i++) {
            chosen[i] = Numerics.draw(weights, rng);
            index[i] = chosen[i];
        }
        try (TensorScope scope = TensorScope.open()) {
            Tensor rows = mixture.backend().of(index, count);
            Map<String, Tensor> picked = new LinkedHashMap<>();
            mixture.parameters().forEach((name, t) -> picked.put(name, t.gather(0, rows)));
            return new Sampling(mixture.leafFamily().mean(picked).toFloatArray(), count, side, encoding, draw,
                    chosen);
        }
    }
}
