package io.vqdistill.spark;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import io.vqdistill.api.BackendSelector;
import io.vqdistill.api.InvalidArgumentException;
import io.vqdistill.api.circuit.Precision;
import io.vqdistill.api.spi.BackendOptions;
import io.vqdistill.cli.data.CircuitInput;
import io.vqdistill.distill.eval.LogProbHistogram;
import io.vqdistill.distill.inject.BackendChoice;
import io.vqdistill.distill.pipeline.CircuitEvaluation;
import io.vqdistill.distill.pipeline.ExactEvaluation;
import io.vqdistill.distill.pipeline.PriorEnumeration;
import io.vqdistill.distill.pipeline.ProgressListener;
import io.vqdistill.distill.pipeline.Session;
import io.vqdistill.distill.pipeline.Sessions;
import io.vqdistill.models.ModelLoader;
import io.vqdistill.models.data.ImageSet;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import org.apache.spark.SparkConf;
import org.apache.spark.api.java.JavaSparkContext;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The Spark runs in local mode with two executor threads against the same runs in one JVM, on tiny
 * seeded models: per-image agreement to 1e-6 nats for the exact model and evaluation, equal histogram
 * counts for the enumeration.
 */
class SparkRunsTest {
    private static JavaSparkContext spark;
    private static TinyModels models;

    @BeforeAll
    static void start() {
        models = TinyModels.get();
        spark = new JavaSparkContext(new SparkConf().setMaster("local[2]").setAppName("SparkRunsTest")
                .set("spark.ui.enabled", "false").set("spark.driver.host", "127.0.0.1"));
    }

    @AfterAll
    static void stop() {
        spark.stop();
    }

    private static Session inProcess() {
        return new Sessions(BackendSelector::discover).open(new BackendChoice("", BackendOptions.defaults(),
                Set.of(ModelLoader.class)));
    }

    private static final class Recorder implements ProgressListener {
        final List<String> events = new ArrayList<>();

        @Override
        public synchronized void started(String task, long total, String unit) {
            events.add("start " + task + " " + total + " " + unit);
        }

        @Override
        public synchronized void advanced(long done) {
            events.add("done " + done);
        }

        @Override
        public synchronized void finished() {
            events.add("end");
        }
    }

    @Test
    void theExactModelOnFourShardsEqualsTheInProcessModelImageByImage() {
        ImageSet images = CircuitInput.testImages(models.data, 12);
        ExactEvaluation local;
        try (Session session = inProcess()) {
            local = ExactEvaluation.run(session, models.vqvae, models.prior, images, 100, plan -> { });
        }
        Recorder progress = new Recorder();
        List<ExactEvaluation.Plan> plans = new ArrayList<>();
        ExactEvaluation distributed = new SparkRuns(spark, ExecutorBackend.automatic(), 4).exact(
                TinyModels.uri(models.vqvae), TinyModels.uri(models.prior), images, 100, plans::add, progress);
        assertThat(plans).containsExactly(new ExactEvaluation.Plan(1296, TinyModels.LATENT, 100, "",
                Precision.FAST, 0));
        assertThat(distributed.components()).isEqualTo(1296);
        for (int i = 0; i < images.size(); i++) {
            assertThat(distributed.logLikelihoods()[i]).as("image %d", i)
                    .isCloseTo(local.logLikelihoods()[i], within(1e-6));
        }
        assertThat(distributed.bitsPerDim()).isCloseTo(local.bitsPerDim(), within(1e-9));
        assertThat(progress.events).first().isEqualTo("start exact 1296 grids");
        assertThat(progress.events).contains("done 1296").last().isEqualTo("end");
    }

    @Test
    void evaluationOnThreeBatchShardsEqualsTheInProcessEvaluationImageByImage() {
        ImageSet images = CircuitInput.testImages(models.data, null);
        CircuitEvaluation local;
        try (Session session = inProcess()) {
            local = CircuitEvaluation.of(session.circuit(models.circuit), images, 3);
        }
        CircuitEvaluation distributed = new SparkRuns(spark, ExecutorBackend.automatic(), 8).evaluate(
                TinyModels.uri(models.circuit), images, 3, ProgressListener.NONE);
        assertThat(distributed.images()).isEqualTo(TinyModels.TEST_IMAGES);
        for (int i = 0; i < images.size(); i++) {
            assertThat(distributed.logLikelihoods()[i]).as("image %d", i)
                    .isCloseTo(local.logLikelihoods()[i], within(1e-6));
        }
        assertThat(distributed.bitsPerDim()).isCloseTo(local.bitsPerDim(), within(1e-9));
        assertThat(distributed.parameters()).isEqualTo(local.parameters());
        assertThat(distributed.leafFamily()).isEqualTo("gaussian");
    }

    @Test
    void theEnumerationOnThreeShardsMergesIntoTheInProcessHistogram() {
        PriorEnumeration local;
        try (Session session = inProcess()) {
            local = PriorEnumeration.run(session, models.prior, 500, 0.5, 60, ProgressListener.NONE);
        }
        PriorEnumeration distributed = new SparkRuns(spark, ExecutorBackend.automatic(), 3).enumerate(
                TinyModels.uri(models.prior), 500, 0.5, 60, ProgressListener.NONE);
        LogProbHistogram a = distributed.histogram();
        LogProbHistogram b = local.histogram();
        assertThat(a.total()).isEqualTo(1296);
        assertThat(a.totalMass()).as("the class-marginal prior sums to one").isCloseTo(1, within(1e-5));
        for (int i = 0; i < a.bins(); i++) {
            assertThat(a.count(i)).as("bin %d", i).isEqualTo(b.count(i));
            assertThat(a.mass(i)).as("bin %d", i).isCloseTo(b.mass(i), within(1e-12));
        }
        assertThat(a.tailCount()).isEqualTo(b.tailCount());
        assertThat(distributed.shape()).isEqualTo(TinyModels.LATENT);
    }

    @Test
    void aMissingLocationIsRefusedNamingTheFlagAndTheLocation() {
        SparkRuns runs = new SparkRuns(spark, ExecutorBackend.automatic(), 2);
        String missing = TinyModels.uri(models.root.resolve("nowhere"));
        assertThatThrownBy(() -> runs.enumerate(missing, 10, 0.5, 10, ProgressListener.NONE))
                .isInstanceOf(InvalidArgumentException.class)
                .hasMessage("--prior " + missing + ": no such file or folder");
        assertThatThrownBy(() -> new SparkRuns(spark, ExecutorBackend.automatic(), 0))
                .hasMessage("--partitions must be >= 1, found 0");
    }

    @Test
    void shardsFollowTheUnitAndCoverTheWork() {
        assertThat(Shards.split(1296, 100, 4)).containsExactly(new Shards.Shard(0, 400), new Shards.Shard(400, 800),
                new Shards.Shard(800, 1200), new Shards.Shard(1200, 1296));
        assertThat(Shards.split(1100, 500, 8)).containsExactly(new Shards.Shard(0, 500), new Shards.Shard(500, 1000),
                new Shards.Shard(1000, 1100));
        assertThat(Shards.split(5, 10, 3)).containsExactly(new Shards.Shard(0, 5));
        assertThat(SparkRuns.grids(TinyModels.LATENT)).isEqualTo(1296);
        assertThatThrownBy(() -> SparkRuns.grids(new io.vqdistill.api.model.LatentShape(8, 8, 512)))
                .isInstanceOf(InvalidArgumentException.class).hasMessageContaining("more than 2^63 grids");
    }
}
