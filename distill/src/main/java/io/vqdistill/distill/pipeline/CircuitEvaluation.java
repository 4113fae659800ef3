package io.vqdistill.distill.pipeline;

import io.vqdistill.api.circuit.Circuit;
import io.vqdistill.api.circuit.Precision;
import io.vqdistill.distill.eval.BitsPerDim;
import io.vqdistill.distill.eval.Evaluator;
import io.vqdistill.distill.eval.PixelEncoding;
import io.vqdistill.models.data.ImageSet;
import java.util.Objects;
import java.util.function.LongConsumer;

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
 * @param logLikelihoods log p(x) of every image, in nats
 */
public record CircuitEvaluation(double bitsPerDim, int images, String leafFamily, long parameters,
                                PixelEncoding encoding, long seed, Precision precision, double seconds,
                                double[] logLikelihoods) {
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
        long t0 = System.nanoTime();
        double[] ll = ProgressListener.track(progress, TASK, images.size(), "images",
                done -> logLikelihoods(circuit, images, seed, precision, 0, images.size(), done));
        return of(ll, images.shape().pixels(), circuit.leafFamily().name(), circuit.parameterCount(), seed, precision,
                (System.nanoTime() - t0) / 1e9);
    }

    /**
     * One shard: log p(x) of images [from, to) of {@code images}, with the values and batches that
     * {@link #of(Circuit, ImageSet, long, Precision, ProgressListener)} presents to them when {@code from}
     * is a multiple of {@link Evaluator#DEFAULT_BATCH} (so the shards of a split at such bounds reproduce
     * the whole set's numbers); {@code done} hears the images of the shard measured so far.
     *
     * @throws IndexOutOfBoundsException when [from, to) is not inside [0, size]
     */
    public static double[] logLikelihoods(Circuit circuit, ImageSet images, long seed, Precision precision, int from,
                                          int to, LongConsumer done) {
        Objects.requireNonNull(circuit, "circuit");
        Objects.requireNonNull(images, "images");
        return new Evaluator(images, PixelEncoding.forLeafFamily(circuit.leafFamily().name()), seed,
                Evaluator.DEFAULT_BATCH, precision).logLikelihoods(circuit, from, to, done);
    }

    /**
     * The evaluation whose per-image log-likelihoods are {@code logLikelihoods} (e.g. the shards'
     * concatenated): bits per dimension with the pixel encoding of {@code leafFamily}.
     *
     * @param pixels the pixels of one image
     */
    public static CircuitEvaluation of(double[] logLikelihoods, int pixels, String leafFamily, long parameters,
                                       long seed, Precision precision, double seconds) {
        PixelEncoding encoding = PixelEncoding.forLeafFamily(leafFamily);
        return new CircuitEvaluation(BitsPerDim.of(logLikelihoods, pixels, encoding), logLikelihoods.length,
                leafFamily, parameters, encoding, seed, precision, seconds, logLikelihoods);
    }
}
