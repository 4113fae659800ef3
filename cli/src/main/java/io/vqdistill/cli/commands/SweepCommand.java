package io.vqdistill.cli;

import io.vqdistill.api.Backend;
import io.vqdistill.api.model.Decoder;
import io.vqdistill.api.model.Prior;
import io.vqdistill.api.search.LatentSearch;
import io.vqdistill.distill.Distiller;
import io.vqdistill.distill.Weighting;
import io.vqdistill.distill.eval.Evaluator;
import io.vqdistill.distill.eval.PixelEncoding;
import io.vqdistill.distill.eval.Sweep;
import io.vqdistill.models.ModelLoader;
import io.vqdistill.models.data.ImageSet;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine;

/** {@code vqdistill sweep}: the paper's Figure 2, BPD against N = 2^0 .. 2^k, as CSV and PNG. */
@Command(name = "sweep", mixinStandardHelpOptions = true,
        description = "Distils mixtures of N = 2^0 .. 2^k grids found by one latent search (each N the first N "
            + "grids of one search for 2^k) and measures each on the test images. Writes OUT/sweep.csv (N, "
            + "parameter count, BPD and the timings) and OUT/sweep.png, a line plot with the --reference values "
            + "(e.g. the exact model's) as dashed lines.")
final class SweepCommand implements Callable<Integer> {
    /** The largest --max-exponent accepted. */
    static final int MAX_EXPONENT = 20;

    @Mixin
    BackendOptionsMixin backendOptions;

    @Mixin
    MixtureOptions mixture;

    @Mixin
    TestImageOptions testImages;

    @Option(names = "--max-exponent", paramLabel = "K", required = true,
            description = "the largest N is 2^K, K in 0.." + MAX_EXPONENT)
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

    @Option(names = "--out", paramLabel = "DIR", required = true, description = "folder of sweep.csv and sweep.png")
    Path out;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() {
        if (maxExponent < 0 || maxExponent > MAX_EXPONENT) {
            throw new IllegalArgumentException("--max-exponent must be in [0, " + MAX_EXPONENT + "], found "
                    + maxExponent);
        }
        LatentSearch strategy = mixture.strategy();
        Map<String, Double> lines = references(references);
        if (!weights.equals("uniform") && !weights.equals("prior")) {
            throw new IllegalArgumentException("unknown --weights '" + weights + "' for a sweep; known: uniform, prior");
        }
        ImageSet test = testImages.load();
        PrintWriter w = spec.commandLine().getOut();
        try (Backend backend = backendOptions.injector(ModelLoader.class).getInstance(Backend.class)) {
            ModelLoader loader = Capabilities.require(backend, ModelLoader.class, "load networks");
            ModelPaths models = mixture.models;
            try (Decoder raw = loader.loadDecoder(models.vqvae); Prior p = loader.loadPrior(models.prior)) {
                Decoder decoder = mixture.leaves(raw);
                Evaluator evaluator = new Evaluator(test, PixelEncoding.forLeafFamily(decoder.leafFamily()),
                        EvaluateCommand.DEFAULT_SEED, Evaluator.DEFAULT_BATCH);
                Sweep sweep = new Sweep(strategy, p, new Distiller(backend, decoder),
                        weights.equals("prior") ? Weighting.prior() : Weighting.uniform(), evaluator);
                w.printf("sweep of %s over N = 2^0 .. 2^%d on %d %s images%n", strategy.name(), maxExponent,
                        test.size(), testImages.images);
                w.flush();
                List<Sweep.Row> rows = sweep.run(maxExponent, mixture.seed, each ? Sweep.Mode.SEARCH_EACH
                        : Sweep.Mode.PREFIXES, r -> {
                            w.printf(Locale.ROOT, "N = %6d: %,12d parameters, %.4f bits/dim (search %.2f s, distil"
                                    + " %.2f s, evaluate %.2f s)%n", r.components(), r.parameters(), r.bitsPerDim(),
                                    r.searchSeconds(), r.distillSeconds(), r.evaluateSeconds());
                            w.flush();
                        });
                Path csv = out.resolve("sweep.csv");
                Path png = out.resolve("sweep.png");
                Sweep.writeCsv(csv, rows);
                ImageGrid.writePng(LinePlot.draw("bits per dimension of " + strategy.name() + " mixtures",
                        strategy.name(), LinePlot.exponents(rows.stream().map(Sweep.Row::requested).toList()),
                        rows.stream().mapToDouble(Sweep.Row::bitsPerDim).toArray(), lines), png);
                w.printf("wrote %s and %s%n", csv, png);
                w.flush();
            }
        }
        return 0;
    }

    /**
     * The reference lines of {@code LABEL=BPD} arguments, split at the last '='.
     *
     * @throws IllegalArgumentException for an argument without a label or a number, naming it
     */
    static Map<String, Double> references(List<String> args) {
        Map<String, Double> out = new LinkedHashMap<>();
        for (String a : args) {
            int eq = a.lastIndexOf('=');
            try {
                if (eq < 1) {
                    throw new NumberFormatException();
                }
                out.put(a.substring(0, eq), Double.parseDouble(a.substring(eq + 1)));
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("--reference must be LABEL=BPD, found '" + a + "'", e);
            }
        }
        return out;
    }
}
