package io.vqdistill.spark;

import io.vqdistill.api.model.ImageShape;
import io.vqdistill.models.data.ImageSet;
import java.io.Serializable;

/**
 * An {@link ImageSet} as it travels from the driver to the executors (a broadcast variable): the
 * pixel levels, labels and shape, so that every executor presents the same values to its model.
 *
 * @param channels    image channels
 * @param height      image height
 * @param width       image width
 * @param pixels      the levels, image after image
 * @param labels      one label per image
 * @param numClasses  the number of classes
 * @param description where the images come from
 */
record ImagePayload(int channels, int height, int width, byte[] pixels, int[] labels, int numClasses,
                    String description) implements Serializable {

    /** The payload of {@code images}. */
    static ImagePayload of(ImageSet images) {
        int[] all = new int[images.size()];
        for (int i = 0; i < all.length; i++) {
            all[i] = i;
        }
        int[] levels = images.levels(all);
        byte[] pixels = new byte[levels.length];
        for (int i = 0; i < levels.length; i++) {
            pixels[i] = (byte) levels[i];
        }
        ImageShape shape = images.shape();
        return new ImagePayload(shape.channels(), shape.height(), shape.width(), pixels, images.labels(),
                images.numClasses(), images.description());
    }

    /** The image set again. */
    ImageSet images() {
        return new ImageSet(new ImageShape(channels, height, width), pixels, labels, numClasses, description);
    }
}
