package io.vqdistill.api.model;

import io.vqdistill.api.InvalidArgumentException;

/**
 * The shape of one image: {@code channels x height x width}; MNIST is 1 x 28 x 28.
 *
 * @param channels channels, >= 1
 * @param height   rows, >= 1
 * @param width    columns, >= 1
 */
public record ImageShape(int channels, int height, int width) {
    /** MNIST's shape. */
    public static final ImageShape MNIST = new ImageShape(1, 28, 28);

    /** Validates the sizes. */
    public ImageShape {
        if (channels < 1 || height < 1 || width < 1) {
            throw new InvalidArgumentException("image shape must be positive, found " + channels + "x" + height + "x"
                    + width);
        }
    }

    /** Number of pixel variables, C * H * W (S in the circuit). */
    public int pixels() {
        return channels * height * width;
    }
}
