package io.vqdistill.cli.commands;

import io.vqdistill.cli.options.BackendOptionsMixin;
import io.vqdistill.cli.options.HistogramOptions;
import io.vqdistill.cli.options.ModelPaths;
import io.vqdistill.cli.options.ProgressOptions;
import io.vqdistill.cli.render.Reports;
import io.vqdistill.distill.pipeline.PriorEnumeration;
import io.vqdistill.distill.pipeline.Session;
import io.vqdistill.distill.pipeline.Sessions;
import io.vqdistill.models.ModelLoader;
import jakarta.inject.Inject;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * {@code vqdistill enumerate}: the histogram of the prior's log p(z) over every grid
 * ({@link PriorEnumeration}), the data of the curve of how much mass the most probable grids hold.
 */
@Command(name = "enumerate", mixinStandardHelpOptions = true,
        description = "Scores every one of the K^(h*w) grids with the prior and writes the histogram of log p(z) with "
            + "the cumulative share of grids and of mass, most probable first (how much of its latent space the prior "
            + "uses). Feasible in one process for up to 2^24 grids; the spark module runs larger ones.")
public final class EnumerateCommand implements Callable<Integer> {

    @Mixin
    BackendOptionsMixin backendOptions;

    @Mixin
    ProgressOptions progress;

    @Option(names = "--prior", paramLabel = "DIR", required = true, description = "the prior's checkpoint folder")
    Path prior;

    @Mixin
    HistogramOptions histogram;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Inject
    Sessions sessions;

    @Override
    public Integer call() {
        histogram.check();
        ModelPaths.checkPrior(prior);
        PrintWriter w = spec.commandLine().getOut();
        try (Session session = sessions.open(backendOptions.choice(ModelLoader.class))) {
            PriorEnumeration e = PriorEnumeration.run(session, prior, histogram.chunk(), histogram.binWidth(),
                    histogram.bins(), progress.bars());
            e.histogram().writeCsv(histogram.out());
            Reports.enumerated(w, e);
        }
        w.printf("wrote %s%n", histogram.out());
        w.flush();
        return 0;
    }
}
