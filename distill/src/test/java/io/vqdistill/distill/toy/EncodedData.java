package io.vqdistill.distill.toy;

import io.vqdistill.api.model.LatentShape;
import io.vqdistill.api.search.EncodedImages;
import java.util.Random;

/** Encoded training images for the data-guided searches: skewed grid use, random labels. */
public final class EncodedData {
    private EncodedData() {
    }

    /**
     * {@code images} grids of {@code shape}: each code is 0 with probability 1/2 and uniform
     * otherwise, so that a few grids repeat often and many occur once; labels uniform in [0, classes).
     */
    public static EncodedImages random(LatentShape shape, int images, int classes, Random rng) {
        int p = shape.positions();
        int[] codes = new int[images * p];
        int[] labels = new int[images];
        for (int b = 0; b < images; b++) {
            for (int i = 0; i < p; i++) {
                codes[b * p + i] = rng.nextBoolean() ? 0 : rng.nextInt(shape.codebookSize());
            }
            labels[b] = rng.nextInt(classes);
        }
        return new EncodedImages(shape, codes, labels);
    }

    /** {@link #random} followed by every grid of the shape once (label 0), so that every grid occurs. */
    public static EncodedImages withEveryGrid(LatentShape shape, int images, int classes, Random rng) {
        EncodedImages some = random(shape, images, classes, rng);
        int p = shape.positions();
        int all = (int) Math.pow(shape.codebookSize(), p);
        int[] codes = java.util.Arrays.copyOf(some.codes(), (images + all) * p);
        int[] labels = java.util.Arrays.copyOf(some.labels(), images + all);
        for (int g = 0; g < all; g++) {
            int rest = g;
            for (int i = p - 1; i >= 0; i--) {
                codes[(images + g) * p + i] = rest % shape.codebookSize();
                rest /= shape.codebookSize();
            }
        }
        return new EncodedImages(shape, codes, labels);
    }
}
