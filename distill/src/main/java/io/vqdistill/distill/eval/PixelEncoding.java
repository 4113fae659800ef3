package io.vqdistill.distill.eval;

import io.vqdistill.api.InvalidArgumentException;
import io.vqdistill.models.data.ImageSet;
import java.util.Objects;
import java.util.random.RandomGenerator;

/**
 * How pixel levels 0..255 become the values a model is evaluated on, and what that adds to its bits
 * per dimension to make likelihoods of different encodings comparable as discrete probabilities of
 * the levels.
 */
public enum PixelEncoding {
    /**
     * Continuous values (p + u)/256 with u ~ U[0, 1): a density on [0, 1) per pixel. A density f over
     * cells of width 1/256 gives the level probability f/256, so bits per dimension add log2 256 = 8.
     */
    DEQUANTISED(8),
    /** The integer levels themselves, as floats 0..255, for categorical leaves: nothing to add. */
    LEVELS(0);

    private final double offsetBits;

    PixelEncoding(double offsetBits) {
        this.offsetBits = offsetBits;
    }

    /** Bits per dimension added to mean(-log2 p(x))/S. */
    public double offsetBits() {
        return offsetBits;
    }

    /**
     * The values of images {@code indices}, image after image; DEQUANTISED draws one u per pixel from
     * {@code rng} in order.
     */
    public float[] values(ImageSet images, int[] indices, RandomGenerator rng) {
        Objects.requireNonNull(images, "images");
        Objects.requireNonNull(indices, "indices");
        Objects.requireNonNull(rng, "rng");
        if (this == DEQUANTISED) {
            return images.dequantised(indices, rng);
        }
        int[] levels = images.levels(indices);
        float[] out = new float[levels.length];
        for (int i = 0; i < levels.length; i++) {
            out[i] = levels[i];
        }
        return out;
    }

    /**
     * The encoding a leaf family is evaluated on: {@code gaussian} leaves on dequantised values,
     * {@code categorical} leaves on levels.
     *
     * @throws InvalidArgumentException for another family, naming it
     */
    public static PixelEncoding forLeafFamily(String family) {
        Objects.requireNonNull(family, "family");
        return switch (family) {
            case "gaussian" -> DEQUANTISED;
            case "categorical" -> LEVELS;
            default -> throw new InvalidArgumentException("no pixel encoding for '" + family
                    + "' leaves; known: gaussian (dequantised values), categorical (levels)");
        };
    }
}
