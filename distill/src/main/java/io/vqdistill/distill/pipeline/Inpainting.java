package io.vqdistill.distill.pipeline;

import io.vqdistill.api.Backend;
import io.vqdistill.api.InvalidArgumentException;
import io.vqdistill.api.Tensor;
import io.vqdistill.api.TensorScope;
import io.vqdistill.api.circuit.Circuit;
import io.vqdistill.api.model.ImageShape;
import io.vqdistill.distill.eval.PixelEncoding;
import io.vqdistill.models.data.ImageSet;
import java.util.Locale;
import java.util.Objects;
import java.util.SplittableRandom;

/**
 * Inpainting with a circuit: one region of each image is hidden and filled in by an exact conditional
 * query given the observed pixels, presented in the pixel encoding of the circuit's leaves.
 *
 * @param shape    the images' shape
 * @param original the images' levels 0..255, [n * S] row-major
 * @param filled   the query's values for every pixel, [n * S], in the circuit's pixel encoding; only
 *                 the hidden pixels are meaningful
 * @param observed which of the S pixels of each image were observed (the same for every image)
 * @param encoding the circuit's pixel encoding
 * @param seconds  wall time of the query
 */
public record Inpainting(ImageShape shape, int[] original, float[] filled, boolean[] observed,
                         PixelEncoding encoding, double seconds) {

    /** The region a mask hides. */
    public enum Mask {
        /** The left half. */
        LEFT,
        /** The right half. */
        RIGHT,
        /** The top half. */
        TOP,
        /** The bottom half. */
        BOTTOM,
        /** The centre square of half the side. */
        CENTRE;

        /** Whether pixel (y, x) of an h x w image is hidden. */
        public boolean hides(int y, int x, int h, int w) {
            return switch (this) {
                case LEFT -> x < w / 2;
                case RIGHT -> x >= w / 2;
                case TOP -> y < h / 2;
                case BOTTOM -> y >= h / 2;
                case CENTRE -> y >= h / 4 && y < h / 4 + h / 2 && x >= w / 4 && x < w / 4 + w / 2;
            };
        }

        /** The lower-case name users type, e.g. {@code centre}. */
        public String label() {
            return name().toLowerCase(Locale.ROOT);
        }
    }

    /** The conditional query that fills in the hidden pixels. */
    public enum Query {
        /** The conditional mean. */
        MEAN,
        /** The most probable completion. */
        MODE,
        /** A conditional sample. */
        SAMPLE;

        /** The lower-case name users type, e.g. {@code mean}. */
        public String label() {
            return name().toLowerCase(Locale.ROOT);
        }
    }

    /** The number of images inpainted. */
    public int count() {
        return original.length / shape.pixels();
    }

    /**
     * Hides {@code mask} in every image of {@code images} and fills it in with {@code query} on
     * {@code circuit}; {@code seed} seeds the dequantisation noise and the sampling.
     *
     * @throws InvalidArgumentException when the circuit's variables are not the images' pixels
     */
    public static Inpainting run(Backend backend, Circuit circuit, ImageSet images, Mask mask, Query query,
                                 long seed) {
        Objects.requireNonNull(backend, "backend");
        Objects.requireNonNull(circuit, "circuit");
        Objects.requireNonNull(mask, "mask");
        Objects.requireNonNull(query, "query");
        ImageShape shape = images.shape();
        int s = shape.pixels();
        if (circuit.numVariables() != s) {
            throw new InvalidArgumentException("the circuit has " + circuit.numVariables() + " variables but the"
                    + " images " + s + " pixels");
        }
        int n = images.size();
        int[] idx = new int[n];
        for (int i = 0; i < n; i++) {
            idx[i] = i;
        }
        PixelEncoding encoding = PixelEncoding.forLeafFamily(circuit.leafFamily().name());
        SplittableRandom rng = new SplittableRandom(seed);
        float[] x = encoding.values(images, idx, rng);
        boolean[] observedOne = new boolean[s];
        for (int p = 0; p < s; p++) {
            observedOne[p] = !mask.hides(p / shape.width(), p % shape.width(), shape.height(), shape.width());
        }
        boolean[] observed = new boolean[n * s];
        for (int i = 0; i < n; i++) {
            System.arraycopy(observedOne, 0, observed, i * s, s);
        }
        long t0 = System.nanoTime();
        float[] filled;
        try (TensorScope scope = TensorScope.open()) {
            Tensor xs = backend.of(x, n, s);
            Tensor obs = backend.of(observed, n, s);
            Tensor result = switch (query) {
                case MEAN -> circuit.conditionalMean(xs, obs);
                case MODE -> circuit.conditionalMode(xs, obs);
                case SAMPLE -> circuit.conditionalSample(xs, obs, rng);
            };
            filled = result.toFloatArray();
        }
        double seconds = (System.nanoTime() - t0) / 1e9;
        return new Inpainting(shape, images.levels(idx), filled, observedOne, encoding, seconds);
    }
}
