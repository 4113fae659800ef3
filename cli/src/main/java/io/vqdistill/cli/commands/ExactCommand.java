package io.vqdistill.cli;

import io.vqdistill.api.Backend;
import io.vqdistill.api.model.Decoder;
import io.vqdistill.api.model.Prior;
import io.vqdistill.distill.ExactModel;
import io.vqdistill.distill.eval.Evaluator;
import io.vqdistill.distill.eval.PixelEncoding;
import io.vqdistill.models.ModelLoader;
import io.vqdistill.models.data.ImageSet;
import java.io.PrintWriter;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine;

/** {@code vqdistill exact}: the test-set BPD of the exact model (ExM), summing every grid of the prior. */
@Command(name = "exact", mixinStandardHelpOptions = true,
        description = "Measures the exact model ExM on the MNIST test images: log p(x) = logsumexp over all K^(h*w) "
            + "grids of log p(z) + log p(x|z), streamed in chunks and accumulated in float64. Feasible for tiny "
            + "grids only (2x2 with K up to 32 on a CPU).")
final class ExactCommand implements Callable<Integer> {
    /** The default number of grids decoded per chunk. */
    static final int DEFAULT_CHUNK = 4096;
    /** The largest enumeration accepted. */
    static final long MAX_GRIDS = 1L << 24;

    @Mixin
    BackendOptionsMixin backendOptions;

    @Mixin
    ModelPaths models;

    @Mixin
    TestImageOptions testImages;

    @Option(names = "--chunk", paramLabel = "N", defaultValue = "" + DEFAULT_CHUNK,
            description = "grids decoded and evaluated at a time (default: ${DEFAULT-VALUE})")
    int chunk;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() {
        if (chunk < 1) {
            throw new IllegalArgumentException("--chunk must be >= 1, found " + chunk);
        }
        ImageSet test = testImages.load();
        PrintWriter w = spec.commandLine().getOut();
        try (Backend backend = backendOptions.injector(ModelLoader.class).getInstance(Backend.class)) {
            ModelLoader loader = Capabilities.require(backend, ModelLoader.class, "load networks");
            try (Decoder decoder = loader.loadDecoder(models.vqvae); Prior p = loader.loadPrior(models.prior)) {
                ExactModel model = new ExactModel(backend, p, decoder, chunk, MAX_GRIDS);
                w.printf(Locale.ROOT, "exact model: %,d grids of %s on %d %s images, chunks of %d, on %s%n",
                        model.components(), p.latentShape(), test.size(), testImages.images, chunk, backend.name());
                w.flush();
                long t0 = System.nanoTime();
                double bpd = new Evaluator(test, PixelEncoding.forLeafFamily(decoder.leafFamily()),
                        EvaluateCommand.DEFAULT_SEED, Evaluator.DEFAULT_BATCH).bitsPerDim(backend, model);
                w.printf(Locale.ROOT, "ExM %s BPD %.4f bits/dim (%,d components) in %.1f s%n", testImages.images, bpd,
                        model.components(), (System.nanoTime() - t0) / 1e9);
                w.flush();
            }
        }
        return 0;
    }
}
