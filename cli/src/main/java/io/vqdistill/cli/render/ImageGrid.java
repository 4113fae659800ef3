package io.vqdistill.cli.render;

import io.vqdistill.api.InvalidArgumentException;
import io.vqdistill.distill.eval.PixelEncoding;
import io.vqdistill.formats.AtomicFiles;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Path;

/**
 * A PNG grid of images: a cell shows an image in grey, or (for inpainting) with its observed pixels
 * tinted blue and its filled-in pixels tinted red. Cells are separated by one black pixel line and
 * magnified {@code scale} times.
 */
public final class ImageGrid {
    /** Share of a tinted pixel's colour taken by the tint. */
    private static final double TINT = 0.4;

    private final int height;
    private final int width;
    private final int columns;
    private final int scale;
    private final BufferedImage image;

    /**
     * A black grid of {@code cells} cells of {@code height x width} pixels, {@code columns} per row.
     *
     * @throws InvalidArgumentException when a size is below 1
     */
    public ImageGrid(int cells, int columns, int height, int width, int scale) {
        if (cells < 1 || columns < 1 || scale < 1) {
            throw new InvalidArgumentException("cells, columns and scale must be >= 1, found " + cells + ", " + columns
                    + ", " + scale);
        }
        this.height = height;
        this.width = width;
        this.columns = Math.min(columns, cells);
        this.scale = scale;
        int rows = (cells + this.columns - 1) / this.columns;
        this.image = new BufferedImage(this.columns * (width + 1) * scale, rows * (height + 1) * scale,
                BufferedImage.TYPE_INT_RGB);
    }

    /**
     * The level 0..255 shown for a model value: dequantised values (p + u)/256 are scaled back by
     * 256, levels are taken as they are; both are rounded down and clamped.
     */
    public static int level(float value, PixelEncoding encoding) {
        double v = encoding == PixelEncoding.DEQUANTISED ? value * 256.0 : value;
        if (Double.isNaN(v)) {
            return 0;
        }
        return (int) Math.max(0, Math.min(255, Math.floor(v)));
    }

    /** Paints cell {@code cell} in grey from {@code levels} (row-major, height * width values). */
    public void grey(int cell, int[] levels) {
        paint(cell, levels, null, false);
    }

    /**
     * Paints cell {@code cell} from {@code levels}, blue where {@code observed} is true and red
     * elsewhere.
     */
    public void tinted(int cell, int[] levels, boolean[] observed) {
        paint(cell, levels, observed, true);
    }

    private void paint(int cell, int[] levels, boolean[] observed, boolean tint) {
        int x0 = (cell % columns) * (width + 1);
        int y0 = (cell / columns) * (height + 1);
        for (int y = 0; y < height; y++) {
            for (int x = 0; x < width; x++) {
                int p = y * width + x;
                int rgb = tint ? tint(levels[p], observed[p]) : (levels[p] << 16) | (levels[p] << 8) | levels[p];
                for (int dy = 0; dy < scale; dy++) {
                    for (int dx = 0; dx < scale; dx++) {
                        image.setRGB((x0 + x) * scale + dx, (y0 + y) * scale + dy, rgb);
                    }
                }
            }
        }
    }

    /** A grey level blended with blue (observed) or red (filled in). */
    static int tint(int level, boolean observed) {
        int grey = (int) Math.round(level * (1 - TINT));
        int tinted = (int) Math.round(level * (1 - TINT) + 255 * TINT);
        return observed ? (grey << 16) | (grey << 8) | tinted : (tinted << 16) | (grey << 8) | grey;
    }

    /** Writes the grid to {@code file} as PNG, atomically. */
    public void write(Path file) {
        AtomicFiles.write(file, o -> {
            if (!javax.imageio.ImageIO.write(image, "png", o)) {
                throw new IOException("no PNG writer in this JDK");
            }
        });
    }
}
