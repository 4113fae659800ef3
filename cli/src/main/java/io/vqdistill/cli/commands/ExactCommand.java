package io.vqdistill.cli.commands;

import io.vqdistill.cli.data.TestImageOptions;
import io.vqdistill.cli.options.BackendOptionsMixin;
import io.vqdistill.cli.options.Flags;
import io.vqdistill.cli.options.MemoryBudget;
import io.vqdistill.cli.options.ModelPaths;
import io.vqdistill.cli.options.ProgressOptions;
import io.vqdistill.distill.pipeline.ExactEvaluation;
import io.vqdistill.distill.pipeline.Session;
import io.vqdistill.distill.pipeline.Sessions;
import io.vqdistill.models.ModelLoader;
import io.vqdistill.models.data.ImageSet;
import jakarta.inject.Inject;
import java.io.PrintWriter;
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
            + "grids only (2x2 with K up to 32 on a CPU).")
public final class ExactCommand implements Callable<Integer> {

    @Mixin
    BackendOptionsMixin backendOptions;

    @Mixin
    ModelPaths models;

    @Mixin
    TestImageOptions testImages;

    @Mixin
    ProgressOptions progress;

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
        ModelPaths.Checked checked = models.check();
        MemoryBudget.distillation("exact --chunk " + chunk, chunk, checked.pixels(), checked.leafFamily(), "--chunk");
        ImageSet test = testImages.load();
        PrintWriter w = spec.commandLine().getOut();
        try (Session session = sessions.open(backendOptions.choice(ModelLoader.class))) {
            ExactEvaluation e = ExactEvaluation.run(session, models.vqvae(), models.prior(), test, chunk, plan -> {
                w.printf(Locale.ROOT, "exact model: %,d grids of %s on %d %s images, chunks of %d, on %s%n",
                        plan.components(), plan.shape(), test.size(), testImages.set(), plan.chunk(), plan.backend());
                w.flush();
            }, progress.bars());
            w.printf(Locale.ROOT, "ExM %s BPD %.4f bits/dim (%,d components) in %.1f s%n", testImages.set(),
                    e.bitsPerDim(), e.components(), e.seconds());
            w.flush();
        }
        return 0;
    }
}
