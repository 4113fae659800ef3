package io.vqdistill.distill.pipeline;

import io.vqdistill.api.InvalidArgumentException;
import io.vqdistill.api.Tensor;
import io.vqdistill.api.circuit.Circuit;
import io.vqdistill.distill.eval.PixelEncoding;
import java.util.Objects;
import java.util.SplittableRandom;

/**
 * Unconditional samples of a circuit over the pixels of square images.
 *
 * @param values   the samples, [count * S] row-major, in the circuit's pixel encoding
 * @param count    samples drawn
 * @param side     the images' side; S = side * side
 * @param encoding the circuit's pixel encoding
 */
public record Sampling(float[] values, int count, int side, PixelEncoding encoding) {

    /**
     * Draws {@code count} samples of {@code circuit} with a generator seeded by {@code seed}.
     *
     * @throws InvalidArgumentException when {@code count} is below 1, or the circuit's variables are not
     *                                  the pixels of a square image
     */
    public static Sampling draw(Circuit circuit, int count, long seed) {
        Objects.requireNonNull(circuit, "circuit");
        if (count < 1) {
            throw InvalidArgumentException.of("count", count, ">= 1");
        }
        int s = circuit.numVariables();
        int side = (int) Math.round(Math.sqrt(s));
        if (side * side != s) {
            throw new InvalidArgumentException("the circuit has " + s + " variables, not a square image");
        }
        float[] values;
        try (Tensor samples = circuit.sample(count, new SplittableRandom(seed))) {
            values = samples.toFloatArray();
        }
        return new Sampling(values, count, side, PixelEncoding.forLeafFamily(circuit.leafFamily().name()));
    }
}
