package io.vqdistill.cli.render;

import io.vqdistill.distill.pipeline.Inpainting;
import io.vqdistill.distill.pipeline.Sampling;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Locale;

/** The PNG grids of samples and inpaintings, written and reported. */
public final class Pictures {
    private Pictures() {
    }

    /**
     * Writes {@code samples} in grey as a grid of {@code columns} images per row to {@code out}: each
     * pixel's level is the sample's value (a component mean or a pixel draw) in the circuit's pixel
     * encoding, rounded down and clamped to 0..255.
     *
     * @param seed the seed the samples were drawn with, for the report
     */
    public static void samples(PrintWriter w, Sampling samples, int columns, int scale, long seed, Path out) {
        int s = samples.side() * samples.side();
        ImageGrid grid = new ImageGrid(samples.count(), columns, samples.side(), samples.side(), scale);
        float[] values = samples.values();
        for (int i = 0; i < samples.count(); i++) {
            int[] levels = new int[s];
            for (int p = 0; p < s; p++) {
                levels[p] = ImageGrid.level(values[i * s + p], samples.encoding());
            }
            grid.grey(i, levels);
        }
        grid.write(out);
        w.printf("wrote %s (%d %s, seed %d)%n", out, samples.count(),
                samples.draw() == Sampling.Draw.MEANS ? "component means" : "pixel draws", seed);
        w.flush();
    }

    /**
     * Writes an inpainting as a grid of pairs, {@code columns} pairs per row, to {@code out}: the
     * original in grey, then the completion with the observed pixels tinted blue and the filled-in ones
     * red.
     */
    public static void inpainting(PrintWriter w, Inpainting in, Inpainting.Mask mask, Inpainting.Query query,
                                  int columns, int scale, Path out) {
        int s = in.shape().pixels();
        int n = in.count();
        int[] original = in.original();
        float[] filled = in.filled();
        boolean[] observed = in.observed();
        ImageGrid grid = new ImageGrid(2 * n, 2 * columns, in.shape().height(), in.shape().width(), scale);
        for (int i = 0; i < n; i++) {
            int[] levels = new int[s];
            for (int p = 0; p < s; p++) {
                levels[p] = observed[p] ? original[i * s + p] : ImageGrid.level(filled[i * s + p], in.encoding());
            }
            grid.grey(2 * i, Arrays.copyOfRange(original, i * s, (i + 1) * s));
            grid.tinted(2 * i + 1, levels, observed);
        }
        grid.write(out);
        w.printf(Locale.ROOT, "inpainted %d test images (%s hidden, conditional %s) in %.2f s; wrote %s%n", n,
                mask.label(), query.label(), in.seconds(), out);
        w.flush();
    }
}
