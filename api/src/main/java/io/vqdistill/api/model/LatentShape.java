package io.vqdistill.api.model;

import io.vqdistill.api.InvalidArgumentException;

/**
 * The discrete latent space of a VQ-VAE: a {@code height x width} grid of codes, each one of
 * {@code codebookSize} values. Grids are flattened in raster order (row by row), so position
 * {@code i} is row {@code i / width}, column {@code i % width}.
 *
 * @param height       grid rows, >= 1
 * @param width        grid columns, >= 1
 * @param codebookSize K, the number of codes, >= 1
 */
public record LatentShape(int height, int width, int codebookSize) {
    /** Validates the sizes. */
    public LatentShape {
        if (height < 1 || width < 1) {
            throw new InvalidArgumentException("latent grid must be at least 1x1, found " + height + "x" + width);
        }
        if (codebookSize < 1) {
            throw new InvalidArgumentException("codebookSize must be >= 1, found " + codebookSize);
        }
    }

    /** H * W, the number of positions of a grid. */
    public int positions() {
        return height * width;
    }

    @Override
    public String toString() {
        return height + "x" + width + " K=" + codebookSize;
    }
}
