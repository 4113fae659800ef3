package io.vqdistill.cli.options;

import io.vqdistill.api.InvalidArgumentException;
import io.vqdistill.distill.pipeline.PriorEnumeration;
import java.nio.file.Files;
import java.nio.file.Path;
import picocli.CommandLine.Option;

/** The options of a prior enumeration: grids per prior call, the histogram's bins, and the CSV it writes. */
public final class HistogramOptions {
    /** The most bins a histogram may have. */
    public static final int MAX_BINS = 1_000_000;

    @Option(names = "--chunk", paramLabel = "N", defaultValue = "" + PriorEnumeration.DEFAULT_CHUNK,
            description = "grids scored per prior call (default: ${DEFAULT-VALUE})")
    int chunk;

    @Option(names = "--bin-width", paramLabel = "NATS", defaultValue = "" + PriorEnumeration.DEFAULT_BIN_WIDTH,
            description = "the width of a histogram bin of log p(z) (default: ${DEFAULT-VALUE})")
    double binWidth;

    @Option(names = "--bins", paramLabel = "N", defaultValue = "" + PriorEnumeration.DEFAULT_BINS,
            description = "bins from log p(z) = 0 down; lower values share one tail bin (default: ${DEFAULT-VALUE})")
    int bins;

    @Option(names = "--out", paramLabel = "CSV", required = true, description = "the histogram CSV to write")
    Path out;

    /** Grids scored per prior call. */
    public int chunk() {
        return chunk;
    }

    /** The width of a bin in nats. */
    public double binWidth() {
        return binWidth;
    }

    /** The number of bins. */
    public int bins() {
        return bins;
    }

    /** The CSV file to write. */
    public Path out() {
        return out;
    }

    /**
     * Checks the options before any work: a chunk of at least one grid, a positive bin width, 1 to
     * {@value #MAX_BINS} bins, and a CSV path that is not a folder.
     *
     * @throws InvalidArgumentException naming the flag and the value
     */
    public void check() {
        Flags.atLeastOne("--chunk", chunk);
        Flags.positive("--bin-width", binWidth);
        Flags.inRange("--bins", bins, 1, MAX_BINS);
        if (Files.isDirectory(out)) {
            throw new InvalidArgumentException("--out " + out + " is a folder; give the CSV file to write");
        }
    }
}
