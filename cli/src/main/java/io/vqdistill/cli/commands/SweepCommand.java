package io.vqdistill.cli.commands;

import io.vqdistill.cli.data.TestImageOptions;
import io.vqdistill.cli.options.BackendOptionsMixin;
import io.vqdistill.cli.options.Flags;
import io.vqdistill.cli.options.MemoryBudget;
import io.vqdistill.cli.options.ModelPaths;
import io.vqdistill.cli.options.MixtureOptions;
import io.vqdistill.cli.options.PrecisionOption;
import io.vqdistill.cli.options.ProgressOptions;
import io.vqdistill.cli.render.LinePlot;
import io.vqdistill.cli.render.ProgressBars;
import io.vqdistill.api.InvalidArgumentException;
import io.vqdistill.api.search.LatentSearch;
import io.vqdistill.distill.eval.Sweep;
import io.vqdistill.distill.pipeline.SearchCatalog;
import io.vqdistill.distill.pipeline.Session;
import io.vqdistill.distill.pipeline.Sessions;
import io.vqdistill.distill.pipeline.SweepPipeline;
import io.vqdistill.distill.pipeline.SweepRequest;
import io.vqdistill.distill.pipeline.WeightingKind;
import io.vqdistill.formats.AtomicFolder;
import io.vqdistill.models.ModelLoader;
import io.vqdistill.models.data.ImageSet;
import jakarta.inject.Inject;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * {@code vqdistill sweep}: BPD against N = 2^0 .. 2^k with the {@link SweepPipeline}, as CSV and a
 * PNG line plot.
 */
@Command(name = "sweep", mixinStandardHelpOptions = true,
        description = "Distils mixtures of N = 2^0 .. 2^k grids found by one latent search (each N the first N "
            + "grids of one search for 2^k) and measures each on the test images. Writes OUT/sweep.csv (N, "
            + "parameter count, BPD and the timings) and OUT/sweep.png, a line plot with the --reference values "
            + "(e.g. the exact model's) as dashed lines. A data-guided search (encoded, encoded-prior, "
            + "encoded-sampled) selects from the grids the VQ-VAE's encoder assigns to the training images of --data"
            + " and --split-seed, all of them (--limit limits only the images measured), encoded once, as distill"
            + " encodes them.")
public final class SweepCommand implements Callable<Integer> {
    /** The plot's file name in the output folder. */
    private static final String PNG = "sweep.png";

    @Mixin
    BackendOptionsMixin backendOptions;

    @Mixin
    MixtureOptions mixture;

    @Mixin
    TestImageOptions testImages;

    @Mixin
    ProgressOptions progress;

    @Mixin
    PrecisionOption precision;

    @Option(names = "--max-exponent", paramLabel = "K", required = true,
            description = "the largest N is 2^K, K in 0.." + SweepRequest.MAX_EXPONENT)
    int maxExponent;

    @Option(names = "--each", description = "run a search of its own for every N instead of taking prefixes")
    boolean each;

    @Option(names = "--weights", paramLabel = "W", defaultValue = "uniform",
            description = "uniform or prior (default: ${DEFAULT-VALUE})")
    String weights;

    @Option(names = "--reference", paramLabel = "LABEL=BPD",
            description = "a horizontal reference line, e.g. 'ExM K=16=2.95' (the value after the last '='); "
                + "repeatable")
    List<String> references = new ArrayList<>();

    @Option(names = "--out", paramLabel = "DIR", required = true, description = "folder of sweep.csv and sweep.png,"
            + " written as a whole when the sweep ends")
    Path out;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Inject
    Sessions sessions;

    @Inject
    SearchCatalog searches;

    @Inject
    SweepPipeline pipeline;

    @Override
    public Integer call() {
        Flags.inRange("--max-exponent", maxExponent, 0, SweepRequest.MAX_EXPONENT);
        Map<String, Double> lines = Flags.references(references);
        WeightingKind weighting = WeightingKind.byLabel(weights).filter(k -> k != WeightingKind.EM)
                .orElseThrow(() -> new InvalidArgumentException("unknown --weights '" + weights + "' for a sweep;"
                        + " known: uniform, prior"));
        ModelPaths.Checked models = mixture.check(searches, weighting);
        Flags.outputFolder("--out", out, "sweep", dir -> AtomicFolder.read(dir,
                d -> Files.isRegularFile(d.resolve(SweepPipeline.CSV))));
        MemoryBudget.distillation("sweep --max-exponent " + maxExponent, 1L << maxExponent, models.pixels(),
                models.leafFamily(), "--max-exponent");
        SweepRequest request = mixture.sweep(maxExponent, each ? Sweep.Mode.SEARCH_EACH : Sweep.Mode.PREFIXES,
                weighting, precision.precision(), out);
        ImageSet test = testImages.load();
        ImageSet train = mixture.search(searches).usesEncodedImages() ? testImages.train() : null;
        if (train != null) {
            request = request.withSearchImages(train);
        }
        PrintWriter w = spec.commandLine().getOut();
        ProgressBars bars = progress.bars();
        try (Session session = sessions.open(backendOptions.choice(ModelLoader.class))) {
            SweepPipeline.Result result = pipeline.run(session, request, test, new SweepPipeline.Listener() {
                @Override
                public void started(LatentSearch search) {
                    w.printf("sweep of %s over N = 2^0 .. 2^%d on %d %s images%s%n", search.name(), maxExponent,
                            test.size(), testImages.set(), train == null ? "" : String.format(Locale.ROOT,
                                    ", the grids of %d training images searched", train.size()));
                    w.flush();
                }

                @Override
                public void measured(Sweep.Row r) {
                    bars.println(w, String.format(Locale.ROOT, "N = %6d: %,12d parameters, %.4f bits/dim (search %.2f"
                            + " s, distil %.2f s, evaluate %.2f s)", r.components(), r.parameters(), r.bitsPerDim(),
                            r.searchSeconds(), r.distillSeconds(), r.evaluateSeconds()));
                }

                @Override
                public void writing(SweepPipeline.Result result, AtomicFolder.Staging staging) {
                    List<Sweep.Row> rows = result.rows();
                    LinePlot.writePng(LinePlot.chart("bits per dimension of " + result.search() + " mixtures",
                            result.search(), LinePlot.exponents(rows.stream().map(Sweep.Row::requested).toList()),
                            rows.stream().mapToDouble(Sweep.Row::bitsPerDim).toArray(), lines),
                            staging.resolve(PNG));
                }
            }, bars);
            Path png = out.resolve(PNG);
            w.printf("wrote %s and %s%n", result.csv(), png);
            w.flush();
        }
        return 0;
    }
}
