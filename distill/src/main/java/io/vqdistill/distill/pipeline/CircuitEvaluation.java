package io.vqdistill.distill.pipeline;

import io.vqdistill.api.circuit.Circuit;
import io.vqdistill.api.circuit.Precision;
import io.vqdistill.distill.eval.Evaluator;
import io.vqdistill.distill.eval.PixelEncoding;
import io.vqdistill.models.data.ImageSet;
import java.util.Objects;

/**
 * A circuit's bits per dimension on a data set, measured by the {@link Evaluator} with the pixel
 * encoding of the circuit's leaves, and how long it took.
 *
 * @param bitsPerDim the result
 * @param images     images measured
 * @param leafFamily the circuit's leaf family, e.g. {@code gaussian}
 * @param parameters the circuit's free parameters
 * @param encoding   how the pixels were presented to the circuit
 * @param seed       the seed of the dequantisation noise
 * @param precision  the precision of the circuit's scores
 * @param seconds    wall time of the evaluation
 */
public record CircuitEvaluation(double bitsPerDim, int images, String leafFamily, long parameters,
                                PixelEncoding encoding, long seed, Precision precision, double seconds) {
    /** The default seed of the dequantisation noise. */
    public static final long DEFAULT_SEED = 0;
    /** The name of the task {@link ProgressListener}s hear about. */
    public static final String TASK = "evaluate";

    /**
     * Measures {@code circuit} on {@code images} with dequantisation noise seeded by {@code seed}, at
     * {@link Precision#FAST}.
     */
    public static CircuitEvaluation of(Circuit circuit, ImageSet images, long seed) {
        return of(circuit, images, seed, ProgressListener.NONE);
    }

    /**
     * Measures {@code circuit} on {@code images} as {@link #of(Circuit, ImageSet, long)} does, reporting
     * the task {@value #TASK} in images to {@code progress}.
     */
    public static CircuitEvaluation of(Circuit circuit, ImageSet images, long seed, ProgressListener progress) {
        return of(circuit, images, seed, Precision.FAST, progress);
    }

    /**
     * Measures {@code circuit} on {@code images} as {@link #of(Circuit, ImageSet, long, ProgressListener)}
     * does, scoring a shallow mixture at {@code precision}.
     *
     * @throws io.vqdistill.api.InvalidArgumentException for {@link Precision#DOUBLE} on a circuit that is not
     *                                                   a shallow mixture
     */
    public static CircuitEvaluation of(Circuit circuit, ImageSet images, long seed, Precision precision,
                                       ProgressListener progress) {
        Objects.requireNonNull(circuit, "circuit");
        Objects.requireNonNull(images, "images");
        PixelEncoding encoding = PixelEncoding.forLeafFamily(circuit.leafFamily().name());
        long t0 = System.nanoTime();
        Evaluator evaluator = new Evaluator(images, encoding, seed, Evaluator.DEFAULT_BATCH, precision);
        double bpd = ProgressListener.track(progress, TASK, images.size(), "images",
                done -> evaluator.bitsPerDim(circuit, done));
        double seconds = (System.nanoTime() - t0) / 1e9;
        return new CircuitEvaluation(bpd, images.size(), circuit.leafFamily().name(), circuit.parameterCount(),
                encoding, seed, precision, seconds);
    }
}
