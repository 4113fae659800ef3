package io.vqdistill.cli;

import io.vqdistill.api.Backend;
import io.vqdistill.api.circuit.Circuit;
import io.vqdistill.distill.eval.Evaluator;
import io.vqdistill.distill.eval.PixelEncoding;
import io.vqdistill.models.data.ImageSet;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine;

/** {@code vqdistill evaluate}: the test-set bits per dimension of a saved circuit. */
@Command(name = "evaluate", mixinStandardHelpOptions = true,
        description = "Measures a saved circuit's bits per dimension on the MNIST test (or validation) images: "
            + "mean(-log2 p(x))/784 + 8 on pixels dequantised to (p+u)/256 with a fixed seed (Gaussian leaves), "
            + "mean(-log2 p(x))/784 on the levels (categorical leaves).")
final class EvaluateCommand implements Callable<Integer> {
    /** The default seed of the dequantisation noise. */
    static final long DEFAULT_SEED = 0;

    @Mixin
    BackendOptionsMixin backendOptions;

    @Mixin
    TestImageOptions testImages;

    @Option(names = "--circuit", paramLabel = "DIR", required = true, description = "the circuit folder")
    Path circuit;

    @Option(names = "--seed", paramLabel = "S", defaultValue = "" + DEFAULT_SEED,
            description = "seed of the dequantisation noise (default: ${DEFAULT-VALUE})")
    long seed;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() {
        CircuitInput.check(circuit);
        ImageSet test = testImages.load();
        try (Backend backend = backendOptions.injector().getInstance(Backend.class);
             Circuit c = CircuitInput.read(circuit, backend)) {
            evaluate(spec.commandLine().getOut(), c, test, testImages.images, seed);
        }
        return 0;
    }

    /** Measures and prints the BPD of {@code c} on {@code test}, the image set called {@code set}; returns it. */
    static double evaluate(PrintWriter w, Circuit c, ImageSet test, String set, long seed) {
        PixelEncoding encoding = PixelEncoding.forLeafFamily(c.leafFamily().name());
        long t0 = System.nanoTime();
        double bpd = new Evaluator(test, encoding, seed, Evaluator.DEFAULT_BATCH).bitsPerDim(c);
        double seconds = (System.nanoTime() - t0) / 1e9;
        w.printf(Locale.ROOT, "%s BPD %.4f bits/dim on %d %s images (%s leaves, %,d parameters; %s) in %.2f s%n",
                set, bpd, test.size(), set, c.leafFamily().name(), c.parameterCount(), encoding == PixelEncoding.DEQUANTISED
                        ? "pixels dequantised to (p+u)/256, seed " + seed + ", +8" : "levels, no offset", seconds);
        w.flush();
        return bpd;
    }
}
