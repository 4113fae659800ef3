package io.vqdistill.models.data;

import io.vqdistill.api.InvalidArgumentException;
import io.vqdistill.api.model.ImageShape;
import java.util.Arrays;
import java.util.random.RandomGenerator;

/**
 * A labelled set of images with unsigned-byte pixel levels 0..255, held on the host. Images are
 * numbered 0..size-1; each has {@code shape().pixels()} pixels in row-major (C, H, W) order and a
 * class label in [0, numClasses).
 *
 * <p>The method sees pixels in two ways: continuous values dequantised to (p + u)/256 with
 * u ~ U[0, 1) (densities on [0, 1]; bits per dimension add 8), and the integer levels themselves
 * for categorical decoders. Both take a batch given by image indices, so training loops can
 * shuffle without copying the set.
 */
public final class ImageSet {
    private final ImageShape shape;
    private final byte[] pixels;
    private final int[] labels;
    private final int numClasses;
    private final String description;

    /**
     * @param shape       the shape of every image
     * @param pixels      size * shape.pixels() levels (unsigned bytes), image after image; not copied
     * @param labels      one label per image, each in [0, numClasses); not copied
     * @param numClasses  the number of classes, >= 1
     * @param description where the images come from, for provenance (e.g. "MNIST train 0..49999")
     */
    public ImageSet(ImageShape shape, byte[] pixels, int[] labels, int numClasses, String description) {
        if (numClasses < 1) {
            throw new InvalidArgumentException("numClasses must be >= 1, found " + numClasses);
        }
        if ((long) labels.length * shape.pixels() != pixels.length) {
            throw new InvalidArgumentException(description + ": " + pixels.length + " pixel bytes do not hold "
                    + labels.length + " images of " + shape.pixels() + " pixels");
        }
        for (int i = 0; i < labels.length; i++) {
            if (labels[i] < 0 || labels[i] >= numClasses) {
                throw new InvalidArgumentException(description + ": label of image " + i + " is " + labels[i]
                        + ", outside [0, " + numClasses + ")");
            }
        }
        this.shape = shape;
        this.pixels = pixels;
        this.labels = labels;
        this.numClasses = numClasses;
        this.description = description;
    }

    /** The shape of every image. */
    public ImageShape shape() {
        return shape;
    }

    /** Number of images. */
    public int size() {
        return labels.length;
    }

    /** Number of classes; labels lie in [0, numClasses). */
    public int numClasses() {
        return numClasses;
    }

    /** Where the images come from, for provenance. */
    public String description() {
        return description;
    }

    /** The label of image {@code i}. */
    public int label(int i) {
        return labels[i];
    }

    /** A copy of all labels. */
    public int[] labels() {
        return labels.clone();
    }

    /** The labels of the images {@code indices}. */
    public int[] labels(int[] indices) {
        int[] out = new int[indices.length];
        for (int i = 0; i < indices.length; i++) {
            out[i] = labels[checkIndex(indices[i])];
        }
        return out;
    }

    /** Pixel {@code p} (0..shape.pixels()-1) of image {@code i}, as a level 0..255. */
    public int level(int i, int p) {
        return pixels[checkIndex(i) * shape.pixels() + p] & 0xFF;
    }

    /** How many images carry each label: an array of length numClasses. */
    public int[] classCounts() {
        int[] counts = new int[numClasses];
        for (int l : labels) {
            counts[l]++;
        }
        return counts;
    }

    /**
     * The integer levels of the images {@code indices}, for categorical decoders.
     *
     * @return indices.length * shape.pixels() values in 0..255, image after image
     */
    public int[] levels(int[] indices) {
        int s = shape.pixels();
        int[] out = new int[indices.length * s];
        for (int i = 0; i < indices.length; i++) {
            int base = checkIndex(indices[i]) * s;
            for (int p = 0; p < s; p++) {
                out[i * s + p] = pixels[base + p] & 0xFF;
            }
        }
        return out;
    }

    /**
     * Continuous pixel values (p + u)/256 of the images {@code indices}, with one u ~ U[0, 1) per
     * pixel drawn from {@code rng} in order; the same seeded generator gives the same values.
     *
     * @return indices.length * shape.pixels() values in [0, 1), image after image
     */
    public float[] dequantised(int[] indices, RandomGenerator rng) {
        int s = shape.pixels();
        float[] out = new float[indices.length * s];
        for (int i = 0; i < indices.length; i++) {
            int base = checkIndex(indices[i]) * s;
            for (int p = 0; p < s; p++) {
                float v = ((pixels[base + p] & 0xFF) + rng.nextFloat()) / 256f;
                out[i * s + p] = Math.min(v, Math.nextDown(1f));
            }
        }
        return out;
    }

    /** The images {@code from} (inclusive) to {@code to} (exclusive) as a new set sharing no arrays. */
    public ImageSet range(int from, int to) {
        if (from < 0 || to > size() || from > to) {
            throw new IndexOutOfBoundsException(description + ": range [" + from + ", " + to + ") outside [0, "
                    + size() + "]");
        }
        int[] idx = new int[to - from];
        Arrays.setAll(idx, i -> from + i);
        return subset(idx, description + " [" + from + ", " + to + ")");
    }

    /** The images {@code indices}, in that order, as a new set with the given description. */
    public ImageSet subset(int[] indices, String newDescription) {
        int s = shape.pixels();
        byte[] px = new byte[indices.length * s];
        for (int i = 0; i < indices.length; i++) {
            System.arraycopy(pixels, checkIndex(indices[i]) * s, px, i * s, s);
        }
        return new ImageSet(shape, px, labels(indices), numClasses, newDescription);
    }

    private int checkIndex(int i) {
        if (i < 0 || i >= labels.length) {
            throw new IndexOutOfBoundsException(description + ": image " + i + " outside [0, " + labels.length + ")");
        }
        return i;
    }

    @Override
    public String toString() {
        return description + " (" + size() + " images " + shape.channels() + "x" + shape.height() + "x"
                + shape.width() + ", " + numClasses + " classes)";
    }
}
