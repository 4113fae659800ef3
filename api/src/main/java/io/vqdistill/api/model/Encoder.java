package io.vqdistill.api.model;

import io.vqdistill.api.Tensor;

/**
 * The VQ-VAE encoder followed by nearest-neighbour quantisation: images to code grids.
 * Implementations are backend-specific and loaded from a portable checkpoint.
 */
public interface Encoder extends AutoCloseable {

    /** The shape of the images accepted. */
    ImageShape imageShape();

    /** The shape of the code grids produced. */
    LatentShape latentShape();

    /**
     * Encodes a batch of images.
     *
     * @param images FLOAT32 [B, C, H, W] with pixel values in [0, 1]
     * @return INT64 [B, h*w] codes in [0, K), raster order
     */
    Tensor encode(Tensor images);

    /** Releases the network's engine memory. */
    @Override
    void close();
}
