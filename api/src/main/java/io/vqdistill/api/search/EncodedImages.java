package io.vqdistill.api.search;

import io.vqdistill.api.InvalidArgumentException;
import io.vqdistill.api.model.LatentShape;
import java.util.Objects;

/**
 * The latent grids a VQ-VAE's encoder assigns to a set of images (the training images), with each
 * image's class label: the data a data-guided {@link LatentSearch} selects its grids from. Grids may
 * repeat (images that share a grid). Held on the host: B * h*w ints.
 *
 * @param shape  the grid shape
 * @param codes  B * h*w codes in [0, K), image after image in raster order
 * @param labels B class labels, each >= 0, or -1 where an image has none
 */
public record EncodedImages(LatentShape shape, int[] codes, int[] labels) {
    /** Validates and copies. */
    public EncodedImages {
        Objects.requireNonNull(shape, "shape");
        codes = codes.clone();
        labels = labels.clone();
        if (codes.length != (long) labels.length * shape.positions()) {
            throw new InvalidArgumentException("encoded images: " + codes.length + " codes do not describe "
                    + labels.length + " grids of " + shape.positions() + " positions");
        }
        for (int i = 0; i < codes.length; i++) {
            if (codes[i] < 0 || codes[i] >= shape.codebookSize()) {
                throw new InvalidArgumentException("encoded images: code " + codes[i] + " of image "
                        + i / shape.positions() + " is outside [0, " + shape.codebookSize() + ")");
            }
        }
        for (int i = 0; i < labels.length; i++) {
            if (labels[i] < -1) {
                throw new InvalidArgumentException("encoded images: label " + labels[i] + " of image " + i
                        + " is below -1");
            }
        }
    }

    /** B, the number of images. */
    public int size() {
        return labels.length;
    }

    @Override
    public int[] codes() {
        return codes.clone();
    }

    @Override
    public int[] labels() {
        return labels.clone();
    }
}
