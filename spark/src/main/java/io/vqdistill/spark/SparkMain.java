package io.vqdistill.spark;

import io.vqdistill.cli.Failures;
import io.vqdistill.cli.Main;
import io.vqdistill.cli.VersionProvider;
import io.vqdistill.cli.options.BackendOptionsMixin;
import io.vqdistill.cli.options.HistogramOptions;
import io.vqdistill.cli.options.ProgressOptions;
import io.vqdistill.cli.render.Reports;
import io.vqdistill.distill.pipeline.CircuitEvaluation;
import io.vqdistill.distill.pipeline.ExactEvaluation;
import io.vqdistill.distill.pipeline.PriorEnumeration;
import io.vqdistill.models.data.ImageSet;
import java.io.PrintWriter;
import java.util.Locale;
import java.util.concurrent.Callable;
import java.util.function.Function;
import org.apache.spark.api.java.JavaSparkContext;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * The {@code spark-submit} entry point: {@code exact}, {@code evaluate} and {@code enumerate} on a Spark
 * cluster ({@link SparkRuns}), with the options of the command line's commands, locations as Hadoop
 * paths, and the same error handling and exit statuses ({@link Failures}).
 */
@Command(name = "vqdistill-spark", mixinStandardHelpOptions = true, versionProvider = VersionProvider.class,
        description = "Runs the exact model, circuit evaluation and the prior enumeration on Apache Spark: the grids "
                + "or images are split into shards, each executor task opens its own backend and the parts combine "
                + "exactly.",
        subcommands = {SparkMain.Exact.class, SparkMain.Evaluate.class, SparkMain.Enumerate.class,
            CommandLine.HelpCommand.class})
public final class SparkMain implements Runnable {

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(spec.commandLine().getOut());
    }

    /** Runs the command and exits with its status. */
    public static void main(String[] args) {
        int status;
        try {
            status = Main.commandLine(SparkMain.class, Main.createInjector()).execute(args);
        } catch (OutOfMemoryError | RuntimeException e) {
            status = Failures.report(e, null, new PrintWriter(System.err, true));
        }
        System.exit(status);
    }

    /** Starts a Spark context for {@code app}, runs {@code work} on it and stops it. */
    private static <T> T onSpark(SparkOptions cluster, BackendOptionsMixin backend, String app,
                                 Function<SparkRuns, T> work) {
        try (JavaSparkContext spark = cluster.start(app)) {
            return work.apply(new SparkRuns(spark, ExecutorBackend.of(backend.choice()), cluster.partitions(spark)));
        }
    }

    private static String backendName(String name) {
        return name.isEmpty() ? "the executors' default backend" : name;
    }

    /** {@code exact}: the exact model ExM, its grids split across the executors. */
    @Command(name = "exact", mixinStandardHelpOptions = true,
            description = "Measures the exact model ExM on the MNIST test images: log p(x) = logsumexp over all "
                    + "K^(h*w) grids of log p(z) + log p(x|z), the grids split across the executors in whole chunks, "
                    + "the parts combined by log-add-exp in float64.")
    static final class Exact implements Callable<Integer> {
        @Mixin
        BackendOptionsMixin backendOptions;

        @Mixin
        SparkOptions cluster;

        @Mixin
        SparkImageOptions testImages;

        @Mixin
        ProgressOptions progress;

        @Option(names = "--vqvae", paramLabel = "URI", required = true, description = "the VQ-VAE checkpoint folder")
        String vqvae;

        @Option(names = "--prior", paramLabel = "URI", required = true,
                description = "the prior's checkpoint folder")
        String prior;

        @Option(names = "--chunk", paramLabel = "N", defaultValue = "" + ExactEvaluation.DEFAULT_CHUNK,
                description = "grids decoded and evaluated at a time (default: ${DEFAULT-VALUE})")
        int chunk;

        @CommandLine.Spec
        CommandLine.Model.CommandSpec spec;

        @Override
        public Integer call() {
            PrintWriter w = spec.commandLine().getOut();
            onSpark(cluster, backendOptions, "vqdistill exact", runs -> {
                ImageSet test = testImages.load(runs);
                ExactEvaluation e = runs.exact(vqvae, prior, test, chunk, plan -> {
                    w.printf(Locale.ROOT, "exact model: %,d grids of %s on %d %s images, chunks of %d, in %d shards, "
                                    + "on %s%n", plan.components(), plan.shape(), test.size(), testImages.set(),
                            plan.chunk(), runs.shards(plan.components(), plan.chunk()), backendName(plan.backend()));
                    w.flush();
                }, progress.bars());
                w.printf(Locale.ROOT, "ExM %s BPD %.4f bits/dim (%,d components) in %.1f s%n", testImages.set(),
                        e.bitsPerDim(), e.components(), e.seconds());
                w.flush();
                return e;
            });
            return 0;
        }
    }

    /** {@code evaluate}: a saved circuit's bits per dimension, its images split across the executors. */
    @Command(name = "evaluate", mixinStandardHelpOptions = true,
            description = "Measures a saved circuit's bits per dimension on the MNIST test (or validation) images, "
                    + "the images split across the executors in whole batches.")
    static final class Evaluate implements Callable<Integer> {
        @Mixin
        BackendOptionsMixin backendOptions;

        @Mixin
        SparkOptions cluster;

        @Mixin
        SparkImageOptions testImages;

        @Mixin
        ProgressOptions progress;

        @Option(names = "--circuit", paramLabel = "URI", required = true, description = "the circuit folder")
        String circuit;

        @Option(names = "--seed", paramLabel = "S", defaultValue = "" + CircuitEvaluation.DEFAULT_SEED,
                description = "seed of the dequantisation noise (default: ${DEFAULT-VALUE})")
        long seed;

        @CommandLine.Spec
        CommandLine.Model.CommandSpec spec;

        @Override
        public Integer call() {
            onSpark(cluster, backendOptions, "vqdistill evaluate", runs -> {
                ImageSet test = testImages.load(runs);
                CircuitEvaluation e = runs.evaluate(circuit, test, seed, progress.bars());
                Reports.evaluated(spec.commandLine().getOut(), testImages.set(), e);
                return e;
            });
            return 0;
        }
    }

    /** {@code enumerate}: the histogram of log p(z) over every grid, the grids split across the executors. */
    @Command(name = "enumerate", mixinStandardHelpOptions = true,
            description = "Scores every one of the K^(h*w) grids with the prior and writes the histogram of log p(z) "
                    + "with the cumulative share of grids and of mass, most probable first (the prior's use of its "
                    + "latent space); the grids split across the executors in whole chunks.")
    static final class Enumerate implements Callable<Integer> {
        @Mixin
        BackendOptionsMixin backendOptions;

        @Mixin
        SparkOptions cluster;

        @Mixin
        ProgressOptions progress;

        @Option(names = "--prior", paramLabel = "URI", required = true,
                description = "the prior's checkpoint folder")
        String prior;

        @Mixin
        HistogramOptions histogram;

        @CommandLine.Spec
        CommandLine.Model.CommandSpec spec;

        @Override
        public Integer call() {
            PrintWriter w = spec.commandLine().getOut();
            histogram.check();
            PriorEnumeration e = onSpark(cluster, backendOptions, "vqdistill enumerate", runs -> runs.enumerate(prior,
                    histogram.chunk(), histogram.binWidth(), histogram.bins(), progress.bars()));
            e.histogram().writeCsv(histogram.out());
            Reports.enumerated(w, e);
            w.printf("wrote %s%n", histogram.out());
            w.flush();
            return 0;
        }
    }
}
