package io.vqdistill.cli;

import io.vqdistill.api.Backend;
import io.vqdistill.api.Tensor;
import io.vqdistill.api.TensorScope;
import io.vqdistill.api.circuit.Circuit;
import io.vqdistill.api.model.ImageShape;
import io.vqdistill.distill.eval.PixelEncoding;
import io.vqdistill.models.data.ImageSet;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Locale;
import java.util.SplittableRandom;
import java.util.concurrent.Callable;
import java.util.stream.Collectors;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine;

/**
 * {@code vqdistill inpaint}: hides part of test images and fills it in with an exact conditional
 * query of a saved circuit, drawn as in the paper's Figure 3.
 */
@Command(name = "inpaint", mixinStandardHelpOptions = true,
        description = "Hides one part of each of the first test images (--mask: the left, right, top or bottom "
            + "half, or the centre 14x14 square) and fills it in from the circuit: the conditional mean, the most "
            + "probable completion (mode) or a conditional sample. Writes a PNG grid of pairs: the original in "
            + "grey, then the completion with the observed pixels tinted blue and the filled-in ones red.")
final class InpaintCommand implements Callable<Integer> {

    /** The region a mask hides. */
    enum Mask {
        LEFT, RIGHT, TOP, BOTTOM, CENTRE;

        /** Whether pixel (y, x) of an h x w image is hidden. */
        boolean hides(int y, int x, int h, int w) {
            return switch (this) {
                case LEFT -> x < w / 2;
                case RIGHT -> x >= w / 2;
                case TOP -> y < h / 2;
                case BOTTOM -> y >= h / 2;
                case CENTRE -> y >= h / 4 && y < h / 4 + h / 2 && x >= w / 4 && x < w / 4 + w / 2;
            };
        }

        /** The mask called {@code name}; an unknown name is an error listing the known ones. */
        static Mask parse(String name) {
            return parseEnum(Mask.class, name, "--mask");
        }
    }

    /** The conditional query that fills in the hidden pixels. */
    enum Query {
        MEAN, MODE, SAMPLE;

        /** The query called {@code name}; an unknown name is an error listing the known ones. */
        static Query parse(String name) {
            return parseEnum(Query.class, name, "--query");
        }
    }

    @Mixin
    BackendOptionsMixin backendOptions;

    @Option(names = "--circuit", paramLabel = "DIR", required = true, description = "the circuit folder")
    Path circuit;

    @Option(names = "--data", paramLabel = "DIR", defaultValue = DataOptions.DEFAULT_DATA,
            description = "the MNIST folder (default: ${DEFAULT-VALUE})")
    Path data;

    @Option(names = "--mask", paramLabel = "MASK", required = true,
            description = "the hidden part: left, right, top, bottom or centre")
    String mask;

    @Option(names = "--query", paramLabel = "Q", defaultValue = "mean",
            description = "mean, mode or sample (default: ${DEFAULT-VALUE})")
    String query;

    @Option(names = "--count", paramLabel = "N", defaultValue = "16",
            description = "test images inpainted, the first N (default: ${DEFAULT-VALUE})")
    int count;

    @Option(names = "--columns", paramLabel = "N", defaultValue = "4",
            description = "pairs per row (default: ${DEFAULT-VALUE})")
    int columns;

    @Option(names = "--scale", paramLabel = "N", defaultValue = "2",
            description = "screen pixels per image pixel (default: ${DEFAULT-VALUE})")
    int scale;

    @Option(names = "--seed", paramLabel = "S", defaultValue = "1",
            description = "seed of the dequantisation noise and of sampling (default: ${DEFAULT-VALUE})")
    long seed;

    @Option(names = "--out", paramLabel = "PNG", required = true, description = "the PNG file to write")
    Path out;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() {
        CircuitInput.check(circuit);
        Mask m = Mask.parse(mask);
        Query q = Query.parse(query);
        ImageSet test = CircuitInput.testImages(data, null);
        if (count < 1 || count > test.size()) {
            throw new IllegalArgumentException("--count must be in [1, " + test.size() + "], found " + count);
        }
        try (Backend backend = backendOptions.injector().getInstance(Backend.class);
             Circuit c = CircuitInput.read(circuit, backend)) {
            write(spec.commandLine().getOut(), backend, c, test.range(0, count), m, q, columns, scale, seed, out);
        }
        return 0;
    }

    /** Inpaints every image of {@code images} and writes the grid of pairs to {@code out}. */
    static void write(PrintWriter w, Backend backend, Circuit c, ImageSet images, Mask mask, Query query,
                      int columns, int scale, long seed, Path out) {
        ImageShape shape = images.shape();
        int s = shape.pixels();
        if (c.numVariables() != s) {
            throw new IllegalArgumentException("the circuit has " + c.numVariables() + " variables but the images "
                    + s + " pixels");
        }
        int n = images.size();
        int[] idx = new int[n];
        for (int i = 0; i < n; i++) {
            idx[i] = i;
        }
        PixelEncoding encoding = PixelEncoding.forLeafFamily(c.leafFamily().name());
        SplittableRandom rng = new SplittableRandom(seed);
        float[] x = encoding.values(images, idx, rng);
        boolean[] observedOne = new boolean[s];
        for (int p = 0; p < s; p++) {
            observedOne[p] = !mask.hides(p / shape.width(), p % shape.width(), shape.height(), shape.width());
        }
        boolean[] observed = new boolean[n * s];
        for (int i = 0; i < n; i++) {
            System.arraycopy(observedOne, 0, observed, i * s, s);
        }
        long t0 = System.nanoTime();
        float[] filled;
        try (TensorScope scope = TensorScope.open()) {
            Tensor xs = backend.of(x, n, s);
            Tensor obs = backend.of(observed, n, s);
            Tensor result = switch (query) {
                case MEAN -> c.conditionalMean(xs, obs);
                case MODE -> c.conditionalMode(xs, obs);
                case SAMPLE -> c.conditionalSample(xs, obs, rng);
            };
            filled = result.toFloatArray();
        }
        double seconds = (System.nanoTime() - t0) / 1e9;
        int[] original = images.levels(idx);
        ImageGrid grid = new ImageGrid(2 * n, 2 * columns, shape.height(), shape.width(), scale);
        for (int i = 0; i < n; i++) {
            int[] levels = new int[s];
            for (int p = 0; p < s; p++) {
                levels[p] = observedOne[p] ? original[i * s + p] : ImageGrid.level(filled[i * s + p], encoding);
            }
            grid.grey(2 * i, Arrays.copyOfRange(original, i * s, (i + 1) * s));
            grid.tinted(2 * i + 1, levels, observedOne);
        }
        grid.write(out);
        w.printf(Locale.ROOT, "inpainted %d test images (%s hidden, conditional %s) in %.2f s; wrote %s%n", n,
                name(mask), name(query), seconds, out);
        w.flush();
    }

    /** The lower-case name users type. */
    static String name(Enum<?> e) {
        return e.name().toLowerCase(Locale.ROOT);
    }

    private static <E extends Enum<E>> E parseEnum(Class<E> type, String name, String option) {
        for (E e : type.getEnumConstants()) {
            if (name(e).equals(name)) {
                return e;
            }
        }
        throw new IllegalArgumentException("unknown " + option + " '" + name + "'; known: " + Arrays
                .stream(type.getEnumConstants()).map(InpaintCommand::name).collect(Collectors.joining(", ")));
    }
}
