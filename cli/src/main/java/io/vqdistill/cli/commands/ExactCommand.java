package io.vqdistill.cli.commands;

import io.vqdistill.api.circuit.Precision;
import io.vqdistill.cli.data.TestImageOptions;
import io.vqdistill.cli.options.BackendOptionsMixin;
import io.vqdistill.cli.options.Flags;
import io.vqdistill.cli.options.MemoryBudget;
import io.vqdistill.cli.options.ModelPaths;
import io.vqdistill.cli.options.PrecisionOption;
import io.vqdistill.cli.options.ProgressOptions;
import io.vqdistill.distill.pipeline.ExactEvaluation;
import io.vqdistill.distill.pipeline.Session;
import io.vqdistill.distill.pipeline.Sessions;
import io.vqdistill.models.ModelLoader;
import io.vqdistill.models.data.ImageSet;
import jakarta.inject.Inject;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * {@code vqdistill exact}: the test-set BPD of the exact model (ExM), summing every grid of the prior,
 * with {@link ExactEvaluation}.
 */
@Command(name = "exact", mixinStandardHelpOptions = true,
        description = "Measures the exact model ExM on the MNIST test images: log p(x) = logsumexp over all K^(h*w) "
            + "grids of log p(z) + log p(x|z), streamed in chunks and accumulated in float64. Feasible for tiny "
            + "grids only (2x2 with K up to 32 on a CPU). With --state FILE the per-image partial sums are saved "
            + "after every chunk, and a run started again with the same options continues from them.")
public final class ExactCommand implements Callable<Integer> {

    @Mixin
    BackendOptionsMixin backendOptions;

    @Mixin
    ModelPaths models;

    @Mixin
    TestImageOptions testImages;

    @Mixin
    ProgressOptions progress;

    @Mixin
    PrecisionOption precision;

    @Option(names = "--state", paramLabel = "FILE",
            description = "save the per-image partial sums to FILE (safetensors, replaced atomically) after every"
                + " chunk, and continue from FILE when it exists; a state made with other models, images, --chunk or"
                + " --precision is refused")
    Path state;

    @Option(names = "--chunk", paramLabel = "N", defaultValue = "" + ExactEvaluation.DEFAULT_CHUNK,
            description = "grids decoded and evaluated at a time (default: ${DEFAULT-VALUE})")
    int chunk;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Inject
    Sessions sessions;

    @Override
    public Integer call() {
        Flags.atLeastOne("--chunk", chunk);
        Precision chosen = precision.precision();
        if (state != null) {
            Flags.outputFile("--state", state);
        }
        ModelPaths.Checked checked = models.check();
        MemoryBudget.distillation("exact --chunk " + chunk, chunk, checked.pixels(), checked.leafFamily(), "--chunk");
        ImageSet test = testImages.load();
        PrintWriter w = spec.commandLine().getOut();
        try (Session session = sessions.open(backendOptions.choice(ModelLoader.class))) {
            ExactEvaluation e = ExactEvaluation.run(session, models.vqvae(), models.prior(), test,
                    new ExactEvaluation.Settings(chunk, chosen, state), plan -> {
                        w.printf(Locale.ROOT, "exact model: %,d grids of %s on %d %s images, chunks of %d, %s"
                                + " precision, on %s%n", plan.components(), plan.shape(), test.size(), testImages.set(),
                                plan.chunk(), plan.precision().name().toLowerCase(Locale.ROOT), plan.backend());
                        if (plan.resumed() > 0) {
                            w.printf(Locale.ROOT, "continuing from %s: %,d of %,d grids summed%n", state,
                                    plan.resumed(), plan.components());
                        }
                        w.flush();
                    }, progress.bars());
            w.printf(Locale.ROOT, "ExM %s BPD %.4f bits/dim (%,d components) in %.1f s%n", testImages.set(),
                    e.bitsPerDim(), e.components(), e.seconds());
            w.flush();
        }
        return 0;
    }
}
