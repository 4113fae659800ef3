package io.vqdistill.models.train;

import io.vqdistill.api.model.ImageShape;
import io.vqdistill.models.data.DataSplit;
import io.vqdistill.models.data.ImageSet;

/**
 * A few synthetic 28x28 images for fast training tests of every backend: each class draws a bright
 * bar at its own rows.
 */
public final class TinyData {
    private TinyData() {
    }

    /** {@code n} images of {@code classes} classes, the first of class {@code offset}. */
    public static ImageSet images(int n, int classes, int offset, String name) {
        byte[] px = new byte[n * 784];
        int[] labels = new int[n];
        for (int i = 0; i < n; i++) {
            int c = (i + offset) % classes;
            labels[i] = c;
            for (int y = 0; y < 28; y++) {
                for (int x = 0; x < 28; x++) {
                    boolean on = y >= 4 + 6 * c && y < 8 + 6 * c && x >= 4 + (i % 3) && x < 24;
                    px[i * 784 + y * 28 + x] = (byte) (on ? 200 + (i % 50) : (x + y + i) % 3);
                }
            }
        }
        return new ImageSet(ImageShape.MNIST, px, labels, classes, name);
    }

    /** A split of 3 classes with the given sizes. */
    public static DataSplit split(int train, int validation, int test) {
        return new DataSplit(images(train, 3, 0, "tiny train"), images(validation, 3, 1, "tiny validation"),
                images(test, 3, 2, "tiny test"), "tiny synthetic bars");
    }
}
