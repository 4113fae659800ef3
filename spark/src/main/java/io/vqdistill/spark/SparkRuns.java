package io.vqdistill.spark;

import io.vqdistill.api.InvalidArgumentException;
import io.vqdistill.api.circuit.Circuit;
import io.vqdistill.api.circuit.Precision;
import io.vqdistill.api.model.LatentShape;
import io.vqdistill.cli.options.Flags;
import io.vqdistill.cli.options.ModelPaths;
import io.vqdistill.distill.eval.Evaluator;
import io.vqdistill.distill.eval.LogProbHistogram;
import io.vqdistill.distill.pipeline.CircuitEvaluation;
import io.vqdistill.distill.pipeline.ExactEvaluation;
import io.vqdistill.distill.pipeline.PriorEnumeration;
import io.vqdistill.distill.pipeline.ProgressListener;
import io.vqdistill.distill.pipeline.Session;
import io.vqdistill.models.data.ImageSet;
import java.io.Serializable;
import java.nio.file.Path;
import java.util.List;
import java.util.Objects;
import java.util.function.Consumer;
import java.util.function.Function;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.broadcast.Broadcast;

/**
 * The exact model, circuit evaluation and the prior enumeration on Apache Spark. The work is split
 * into contiguous shards (of grids, or of images) at multiples of the in-process work unit (a chunk
 * of grids, a batch of images), one Spark task each; a task opens its own backend through the SPI
 * ({@link ExecutorBackend}), reads the models from a local copy of their Hadoop-compatible location
 * ({@link Staging}) and runs the in-process shard unit of {@code distill.pipeline}. The parts combine
 * exactly: per-image log-add-exp in float64 for the exact model ({@link ExactEvaluation#combine}), the
 * shards' per-image log-likelihoods side by side for evaluation (their sum gives the bits per
 * dimension), merged histograms for the enumeration. Images travel from the driver to the executors
 * as a broadcast variable.
 *
 * <p>Locations are Hadoop paths: {@code hdfs://nn/models/vqvae}, {@code s3a://bucket/circuit},
 * {@code file:/shared/data/mnist} or a plain local path (which every executor must see).
 */
public final class SparkRuns {
    private final JavaSparkContext spark;
    private final ExecutorBackend backend;
    private final int partitions;
    private final Staging staging;

    /**
     * @param spark      the Spark context the jobs run on
     * @param backend    the backend every task opens
     * @param partitions the most shards a job is split into, >= 1 (e.g. {@code spark.defaultParallelism()})
     */
    public SparkRuns(JavaSparkContext spark, ExecutorBackend backend, int partitions) {
        this.spark = Objects.requireNonNull(spark, "spark");
        this.backend = Objects.requireNonNull(backend, "backend");
        if (partitions < 1) {
            throw new InvalidArgumentException("--partitions must be >= 1, found " + partitions);
        }
        this.partitions = partitions;
        this.staging = Staging.of(spark.hadoopConfiguration());
    }

    /**
     * The exact model of the VQ-VAE at {@code vqvae} and the prior at {@code prior} on {@code images}:
     * all K^(h*w) grids in shards of whole chunks of {@code chunk} grids. No bound on the number of
     * grids applies: the cluster decides what is feasible.
     *
     * @param planned  told the size of the model before the (long) evaluation starts; its backend is the
     *                 executors' backend name, empty for their default
     * @param progress hears the task {@value ExactEvaluation#TASK} in grids, shard by shard
     * @throws InvalidArgumentException when a location cannot be read, the checkpoints do not fit each
     *                                  other, or {@code chunk} is below 1
     */
    public ExactEvaluation exact(String vqvae, String prior, ImageSet images, int chunk,
                                 Consumer<ExactEvaluation.Plan> planned, ProgressListener progress) {
        Objects.requireNonNull(images, "images");
        Flags.atLeastOne("--chunk", chunk);
        ModelPaths.Checked checked = ModelPaths.check(staging.local("--vqvae", vqvae),
                staging.local("--prior", prior));
        long grids = grids(checked.prior().latent());
        List<Shards.Shard> shards = Shards.split(grids, chunk, partitions);
        planned.accept(new ExactEvaluation.Plan(grids, checked.prior().latent(), chunk, backend.name(), Precision.FAST,
                0));
        Broadcast<ImagePayload> payload = spark.broadcast(ImagePayload.of(images));
        Staging s = staging;
        ExecutorBackend b = backend;
        long t0 = System.nanoTime();
        double[] ll = run(ExactEvaluation.TASK, grids, "grids", shards, progress, shard -> shard.map(range -> {
            try (Session session = b.open(true)) {
                return ExactEvaluation.partialLogLikelihoods(session, s.local("--vqvae", vqvae),
                        s.local("--prior", prior), payload.value().images(), chunk, range.from(), range.to(),
                        n -> { });
            }
        }).reduce(ExactEvaluation::combine));
        payload.destroy();
        return ExactEvaluation.of(ll, images.shape().pixels(), checked.leafFamily(), grids,
                (System.nanoTime() - t0) / 1e9);
    }

    /**
     * The circuit at {@code circuit} on {@code images}, with dequantisation noise seeded by {@code seed},
     * in shards of whole batches of {@link Evaluator#DEFAULT_BATCH} images.
     *
     * @param progress hears the task {@value CircuitEvaluation#TASK} in images, shard by shard
     */
    public CircuitEvaluation evaluate(String circuit, ImageSet images, long seed, ProgressListener progress) {
        Objects.requireNonNull(images, "images");
        staging.local("--circuit", circuit);
        List<Shards.Shard> shards = Shards.split(images.size(), Evaluator.DEFAULT_BATCH, partitions);
        Broadcast<ImagePayload> payload = spark.broadcast(ImagePayload.of(images));
        Staging s = staging;
        ExecutorBackend b = backend;
        long t0 = System.nanoTime();
        List<Evaluated> parts = run(CircuitEvaluation.TASK, images.size(), "images", shards, progress,
                shard -> shard.map(range -> {
                    try (Session session = b.open(false)) {
                        Circuit c = session.circuit(s.local("--circuit", circuit));
                        return new Evaluated(CircuitEvaluation.logLikelihoods(c, payload.value().images(), seed, Precision.FAST,
                                (int) range.from(), (int) range.to(), n -> { }), c.leafFamily().name(),
                                c.parameterCount());
                    }
                }).collect());
        payload.destroy();
        double[] ll = new double[images.size()];
        int at = 0;
        for (Evaluated part : parts) {
            System.arraycopy(part.logLikelihoods(), 0, ll, at, part.logLikelihoods().length);
            at += part.logLikelihoods().length;
        }
        Evaluated first = parts.get(0);
        return CircuitEvaluation.of(ll, images.shape().pixels(), first.leafFamily(), first.parameters(), seed,
                Precision.FAST, (System.nanoTime() - t0) / 1e9);
    }

    /**
     * The histogram of log p(z) over every grid of the prior at {@code prior}, in shards of whole
     * chunks of {@code chunk} grids; the bins are {@code bins} of {@code binWidth} nats.
     *
     * @param progress hears the task {@value PriorEnumeration#TASK} in grids, shard by shard
     */
    public PriorEnumeration enumerate(String prior, int chunk, double binWidth, int bins, ProgressListener progress) {
        Flags.atLeastOne("--chunk", chunk);
        new LogProbHistogram(binWidth, bins); // refuses bad bins before any work
        LatentShape shape = ModelPaths.checkPrior(staging.local("--prior", prior)).latent();
        long grids = grids(shape);
        List<Shards.Shard> shards = Shards.split(grids, chunk, partitions);
        Staging s = staging;
        ExecutorBackend b = backend;
        long t0 = System.nanoTime();
        LogProbHistogram h = run(PriorEnumeration.TASK, grids, "grids", shards, progress, shard -> shard.map(range -> {
            try (Session session = b.open(true)) {
                return PriorEnumeration.histogram(session, s.local("--prior", prior), chunk, binWidth, bins,
                        range.from(), range.to(), n -> { });
            }
        }).reduce(LogProbHistogram::merge));
        return new PriorEnumeration(h, shape, (System.nanoTime() - t0) / 1e9);
    }

    /** The local copy, on the driver, of {@code location}, named by {@code flag} in messages. */
    Path local(String flag, String location) {
        return staging.local(flag, location);
    }

    /** The shards a run over {@code total} items in units of {@code unit} is split into, for reports. */
    public int shards(long total, long unit) {
        return Shards.split(total, unit, partitions).size();
    }

    /** One shard's evaluation: its images' log-likelihoods and what the circuit is. */
    private record Evaluated(double[] logLikelihoods, String leafFamily, long parameters) implements Serializable {
    }

    /** Runs {@code job} on the shards, one partition each, reporting finished shards to {@code progress}. */
    private <T> T run(String task, long total, String unit, List<Shards.Shard> shards, ProgressListener progress,
                      Function<org.apache.spark.api.java.JavaRDD<Shards.Shard>, T> job) {
        Objects.requireNonNull(progress, "progress");
        ShardProgress listener = new ShardProgress(shards, progress);
        spark.sc().addSparkListener(listener);
        try {
            return ProgressListener.track(progress, task, total, unit,
                    done -> job.apply(spark.parallelize(shards, shards.size())));
        } finally {
            spark.sc().removeSparkListener(listener);
        }
    }

    /** K^(h*w), the number of grids. */
    static long grids(LatentShape shape) {
        long n = 1;
        for (int i = 0; i < shape.positions(); i++) {
            try {
                n = Math.multiplyExact(n, shape.codebookSize());
            } catch (ArithmeticException e) {
                throw new InvalidArgumentException(shape + " has more than 2^63 grids; no enumeration can visit them",
                        e);
            }
        }
        return n;
    }
}
