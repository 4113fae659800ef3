package io.vqdistill.cli;

import io.vqdistill.api.Backend;
import io.vqdistill.api.Tensor;
import io.vqdistill.api.circuit.Circuit;
import io.vqdistill.distill.eval.PixelEncoding;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.SplittableRandom;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code vqdistill sample}: a PNG grid of unconditional samples of a saved circuit. */
@Command(name = "sample", mixinStandardHelpOptions = true,
        description = "Draws samples from a saved circuit and writes them as a PNG grid; every pixel is generated, "
            + "so every pixel is tinted red as the filled-in pixels of 'vqdistill inpaint'.")
final class SampleCommand implements Callable<Integer> {
    @Mixin
    BackendOptionsMixin backendOptions;

    @Option(names = "--circuit", paramLabel = "DIR", required = true, description = "the circuit folder")
    Path circuit;

    @Option(names = "--count", paramLabel = "N", defaultValue = "32",
            description = "samples drawn (default: ${DEFAULT-VALUE})")
    int count;

    @Option(names = "--columns", paramLabel = "N", defaultValue = "8",
            description = "images per row (default: ${DEFAULT-VALUE})")
    int columns;

    @Option(names = "--scale", paramLabel = "N", defaultValue = "2",
            description = "screen pixels per image pixel (default: ${DEFAULT-VALUE})")
    int scale;

    @Option(names = "--seed", paramLabel = "S", defaultValue = "1", description = "seed (default: ${DEFAULT-VALUE})")
    long seed;

    @Option(names = "--out", paramLabel = "PNG", required = true, description = "the PNG file to write")
    Path out;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() {
        CircuitInput.check(circuit);
        if (count < 1) {
            throw new IllegalArgumentException("--count must be >= 1, found " + count);
        }
        try (Backend backend = backendOptions.injector().getInstance(Backend.class);
             Circuit c = CircuitInput.read(circuit, backend)) {
            write(spec.commandLine().getOut(), c, count, columns, scale, seed, out);
        }
        return 0;
    }

    /** Draws {@code count} samples of {@code c} and writes their grid to {@code out}. */
    static void write(PrintWriter w, Circuit c, int count, int columns, int scale, long seed, Path out) {
        int s = c.numVariables();
        int side = (int) Math.round(Math.sqrt(s));
        if (side * side != s) {
            throw new IllegalArgumentException("the circuit has " + s + " variables, not a square image");
        }
        float[] values;
        try (Tensor samples = c.sample(count, new SplittableRandom(seed))) {
            values = samples.toFloatArray();
        }
        PixelEncoding encoding = PixelEncoding.forLeafFamily(c.leafFamily().name());
        ImageGrid grid = new ImageGrid(count, columns, side, side, scale);
        boolean[] none = new boolean[s];
        for (int i = 0; i < count; i++) {
            int[] levels = new int[s];
            for (int p = 0; p < s; p++) {
                levels[p] = ImageGrid.level(values[i * s + p], encoding);
            }
            grid.tinted(i, levels, none);
        }
        grid.write(out);
        w.printf("wrote %s (%d samples, seed %d)%n", out, count, seed);
        w.flush();
    }
}
