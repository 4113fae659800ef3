package io.vqdistill.models.train;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import io.vqdistill.api.Backend;
import io.vqdistill.api.DType;
import io.vqdistill.api.InvalidArgumentException;
import io.vqdistill.api.Tensor;
import io.vqdistill.api.TensorScope;
import io.vqdistill.api.model.Classifier;
import io.vqdistill.api.model.Decoder;
import io.vqdistill.api.model.Encoder;
import io.vqdistill.api.model.ImageShape;
import io.vqdistill.api.model.LatentShape;
import io.vqdistill.api.model.Prior;
import io.vqdistill.formats.SafeTensors;
import io.vqdistill.models.ModelLoader;
import io.vqdistill.models.checkpoint.Checkpoint;
import io.vqdistill.models.data.DataSplit;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

/**
 * The contract of {@link ModelTrainer} on a backend's own instance: a tiny VQ-VAE trained for a few
 * epochs on {@link TinyData} learns, writes a portable checkpoint that the backend's
 * {@link ModelLoader} loads and that measures the test set as the training run did, resumes a
 * killed run to the same weights, and trains a categorical head; a prior trained on its grids
 * answers its queries and measures the test grids as its training run did. A backend's test
 * extends this, creating its backend once per class (and closing it) in {@link #backend()}'s
 * lifecycle.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
public abstract class ModelTrainerContractTest {
    /** 48 training, 12 validation and 9 test images. */
    protected static final DataSplit DATA = TinyData.split(48, 12, 9);
    private static final TrainingSpec THREE_EPOCHS = new TrainingSpec(3e-3, 16, 3, 5, 42);

    /** A folder for the runs of one test. */
    @TempDir
    protected Path tmp;

    /** The backend under test, started once per class. */
    protected abstract Backend backend();

    private ModelTrainer trainer() {
        return backend().capability(ModelTrainer.class).orElseThrow();
    }

    private ModelLoader loader() {
        return backend().capability(ModelLoader.class).orElseThrow();
    }

    /** A VQ-VAE with 4 channels per stage, D = 4, K = 8, one residual block and a {@code side} x {@code side} grid. */
    protected static VqVaeSpec tiny(DecoderHead head, int side) {
        LatentShape latent = new LatentShape(side, side, 8);
        int stages = VqVaeSpec.sides(28, side).length - 1;
        return new VqVaeSpec(ImageShape.MNIST, latent, 4, Collections.nCopies(stages, 4), 1, head, 10);
    }

    /** Collects what a listener receives, and the wall time of each step. */
    protected static final class Recorder implements TrainingListener {
        /** The epochs' metrics, in order. */
        public final List<EpochMetrics> epochs = new ArrayList<>();
        final List<Double> stepMillis = new ArrayList<>();
        private long last = System.nanoTime();

        /** An empty recorder. */
        public Recorder() {
        }

        @Override
        public void started(String what, int firstEpoch, int maxEpochs, int batchesPerEpoch) {
            last = System.nanoTime();
        }

        @Override
        public void batchDone(int epoch, int batch, double loss) {
            long now = System.nanoTime();
            stepMillis.add((now - last) / 1e6);
            last = now;
        }

        @Override
        public void epochDone(EpochMetrics metrics) {
            epochs.add(metrics);
            last = System.nanoTime();
        }

        /** The median step time after the first epoch (graph warm-up), in milliseconds. */
        double medianSteadyStepMillis(int batchesPerEpoch) {
            List<Double> steady = new ArrayList<>(stepMillis.subList(batchesPerEpoch, stepMillis.size()));
            Collections.sort(steady);
            return steady.get(steady.size() / 2);
        }
    }

    /** Trains a Gaussian head for three epochs and checks the checkpoint against the backend's loader. */
    @Test
    void trainsAGaussianVqVaeWhoseCheckpointLoadsAndMeasuresAsTheTrainingRunDid() throws Exception {
        Path dir = tmp.resolve("vq");
        Recorder rec = new Recorder();
        VqVaeSpec spec = tiny(DecoderHead.GAUSSIAN, 4);
        TrainingReport report = trainer().trainVqVae(spec, THREE_EPOCHS, DATA, dir, rec);
        System.out.printf(Locale.ROOT, "%s tiny VQ-VAE (batch 16): median step %.1f ms, epochs %s%n", backend().name(),
                rec.medianSteadyStepMillis(3), rec.epochs.stream().map(m -> String.format(Locale.ROOT,
                        "%.2fs train_loss %.1f", m.seconds(), m.get("train_loss"))).toList());
        assertThat(report.epochs()).isEqualTo(3);
        assertThat(rec.stepMillis).hasSize(9);
        assertThat(rec.epochs.get(2).get("train_loss")).isLessThan(rec.epochs.get(0).get("train_loss"));
        assertThat(rec.epochs.get(2).values()).containsKeys("train_loss", "val_loss", "val_nll", "val_bpd",
                "codes_used", "perplexity");
        assertThat(report.metrics().get("test_bpd"))
                .isCloseTo(report.metrics().get("test_nll") / (784 * Math.log(2)) + 8, within(1e-9));
        assertThat(Files.readAllLines(dir.resolve("metrics.csv"))).hasSize(4);
        Checkpoint c = Checkpoint.read(dir, Checkpoint.KIND_VQVAE);
        assertThat(c.provenance().backend()).isEqualTo(backend().name());
        assertThat(c.provenance().epochs()).isEqualTo(3);
        assertThat(c.metrics()).containsKey("test_bpd");
        SafeTensors w = Checkpoint.weights(dir);
        assertThat(w.get("encoder.down.0.conv.weight").shape()).containsExactly(4, 1, 4, 4);
        assertThat(w.get("decoder.up.0.conv.weight").shape()).containsExactly(4, 4, 3, 3);
        assertThat(w.get("decoder.up.2.conv.weight").shape()).containsExactly(4, 2, 4, 4);
        assertThat(w.get("encoder.down.0.bn.num_batches_tracked").dtype()).isEqualTo(DType.INT64);
        assertThat(w.get("encoder.down.0.bn.num_batches_tracked").buffer().getLong(0))
                .isEqualTo(3L * report.bestEpoch());
        assertThat(w.get("encoder.down.0.bn.running_var").toDoubles()).doesNotContain(1.0);
        assertThat(Files.exists(dir.resolve("resume/state.safetensors"))).isFalse();

        // the loaded checkpoint measures the test set as the training run did in inference mode
        int n = DATA.test().size();
        int[] all = new int[n];
        for (int i = 0; i < n; i++) {
            all[i] = i;
        }
        float[] px = DATA.test().dequantised(all, new SplittableRandom(VqVaeRunner.TEST_NOISE));
        try (Encoder enc = loader().loadEncoder(dir); Decoder dec = loader().loadDecoder(dir);
                TensorScope scope = TensorScope.open()) {
            Tensor codes = enc.encode(backend().of(px, n, 1, 28, 28));
            assertThat(codes.shape()).containsExactly(n, 16);
            assertThat(codes.dtype()).isEqualTo(DType.INT64);
            Map<String, Tensor> leaves = dec.decode(codes);
            assertThat(dec.leafFamily()).isEqualTo("gaussian");
            assertThat(leaves.get("mean").shape()).containsExactly(n, 784);
            float[] mean = leaves.get("mean").toFloatArray();
            float[] logVar = leaves.get("log_var").toFloatArray();
            for (float v : logVar) {
                assertThat((double) v).isBetween(DecoderHead.LOG_VAR_MIN - 1e-6, 1e-6);
            }
            double nll = 0;
            for (int i = 0; i < mean.length; i++) {
                double d = px[i] - mean[i];
                nll += 0.5 * (Math.log(2 * Math.PI) + logVar[i] + d * d / Math.exp(logVar[i]));
            }
            nll /= n;
            double trained = report.metrics().get("test_nll");
            System.out.printf(Locale.ROOT, "%s test NLL: training run %.6f, loaded checkpoint %.6f%n", backend().name(),
                    trained, nll);
            assertThat(nll).isCloseTo(trained, within(1e-4 * Math.max(1, Math.abs(trained))));
            long[] z = codes.toLongArray();
            Set<List<Long>> grids = new HashSet<>();
            for (int i = 0; i < n; i++) {
                List<Long> g = new ArrayList<>();
                for (int p = 0; p < 16; p++) {
                    g.add(z[i * 16 + p]);
                }
                grids.add(g);
            }
            assertThat((double) grids.size()).isEqualTo(report.metrics().get("test_distinct_grids"));
        }
    }

    /** A run killed in its second epoch resumes to the weights of an uninterrupted run. */
    @Test
    void aKilledRunResumesToTheSameWeightsAsAnUninterruptedOne() throws Exception {
        assertResumesToTheSameWeights(tiny(DecoderHead.GAUSSIAN, 4));
    }

    /**
     * With EMA updates, dead-code restarts and a k-means start, a killed run resumes to the same
     * weights too (the codebook training's state is saved beside Adam's), and the checkpoint records
     * the options and loads.
     */
    @Test
    void codebookTrainingOptionsResumeExactlyAndAreRecordedInTheCheckpoint() throws Exception {
        CodebookTraining options = new CodebookTraining(0.9, 1, 3, 2);
        VqVaeSpec spec = tiny(DecoderHead.GAUSSIAN, 4).withCodebook(options);
        assertResumesToTheSameWeights(spec);
        Checkpoint c = Checkpoint.read(tmp.resolve("straight"), Checkpoint.KIND_VQVAE);
        assertThat(VqVaeSpec.fromJson(c.architecture(), Checkpoint.configFile(tmp.resolve("straight"))).codebook())
                .isEqualTo(options);
        try (Encoder e = loader().loadEncoder(tmp.resolve("straight"))) {
            assertThat(e.latentShape()).isEqualTo(spec.latent());
        }
    }

    private void assertResumesToTheSameWeights(VqVaeSpec spec) throws Exception {
        TrainingSpec twoEpochs = new TrainingSpec(3e-3, 16, 2, 5, 7);
        Path straight = tmp.resolve("straight");
        trainer().trainVqVae(spec, twoEpochs, DATA, straight, TrainingListener.NONE);

        Path killed = tmp.resolve("killed");
        TrainingListener killer = KilledRuns.killedAt(2, 2);
        assertThatThrownBy(() -> trainer().trainVqVae(spec, twoEpochs, DATA, killed, killer)).hasMessage("killed");
        assertThat(Files.exists(killed.resolve("resume/state.safetensors"))).isTrue();
        Recorder rec = new Recorder();
        TrainingReport resumed = trainer().trainVqVae(spec, twoEpochs, DATA, killed, rec);
        assertThat(rec.epochs).extracting(EpochMetrics::epoch).containsExactly(2);
        assertThat(resumed.epochs()).isEqualTo(2);
        assertThat(Files.readAllLines(killed.resolve("metrics.csv"))).hasSize(3);
        KilledRuns.assertSameWeights(straight, killed);
        TrainingReport again = trainer().trainVqVae(spec, twoEpochs, DATA, killed, TrainingListener.NONE);
        assertThat(again.metrics()).isEqualTo(resumed.metrics());
        VqVaeSpec other = new VqVaeSpec(spec.image(), spec.latent(), 5, spec.channels(), 1, DecoderHead.GAUSSIAN, 10);
        assertThatThrownBy(() -> trainer().trainVqVae(other, twoEpochs, DATA, killed, TrainingListener.NONE))
                .isInstanceOf(InvalidArgumentException.class).hasMessageContaining("another configuration");
    }

    /** A categorical head on a 2x2 grid trains and decodes to normalised logits. */
    @Test
    void trainsACategoricalVqVaeWithA2x2Grid() {
        Path dir = tmp.resolve("cat");
        TrainingReport r = trainer().trainVqVae(tiny(DecoderHead.CATEGORICAL, 2), new TrainingSpec(3e-3, 16, 1, 5, 1),
                DATA, dir, TrainingListener.NONE);
        assertThat(r.metrics().get("test_bpd"))
                .isCloseTo(r.metrics().get("test_nll") / (784 * Math.log(2)), within(1e-9));
        assertThat(r.metrics().get("test_bpd")).isBetween(0.0, 8.5);
        try (Decoder dec = loader().loadDecoder(dir); TensorScope scope = TensorScope.open()) {
            Tensor logits = dec.decode(backend().of(new long[] {0, 1, 2, 3, 7, 7, 7, 7}, 2, 4)).get("logits");
            assertThat(logits.shape()).containsExactly(2, 784, 256);
            float[] l = logits.toFloatArray();
            double total = 0;
            for (int v = 0; v < 256; v++) {
                total += Math.exp(l[v]);
            }
            assertThat(total).isCloseTo(1, within(1e-4));
        }
    }

    /**
     * A tiny classifier learns (the training loss falls) and its checkpoint, loaded by the
     * backend's loader, measures the test set as the training run did.
     */
    @Test
    void trainsAClassifierWhoseCheckpointMeasuresAsTheTrainingRunDid() {
        ClassifierTrainer trainer = backend().capability(ClassifierTrainer.class).orElseThrow();
        Path dir = tmp.resolve("classifier");
        ClassifierSpec spec = new ClassifierSpec(ImageShape.MNIST, 3, List.of(4, 4), 8);
        Recorder rec = new Recorder();
        TrainingReport r = trainer.trainClassifier(spec, THREE_EPOCHS, DATA, dir, rec);
        assertThat(rec.epochs).hasSize(3);
        assertThat(rec.epochs.get(2).get("train_loss")).isLessThan(rec.epochs.get(0).get("train_loss"));
        assertThat(r.metrics()).containsKeys("test_loss", "test_accuracy", "val_accuracy");

        int n = DATA.test().size();
        int[] all = new int[n];
        for (int i = 0; i < n; i++) {
            all[i] = i;
        }
        float[] px = DATA.test().dequantised(all, new SplittableRandom(VqVaeRunner.TEST_NOISE));
        try (Classifier classifier = loader().loadClassifier(dir); TensorScope scope = TensorScope.open()) {
            float[] lp = classifier.logProbs(backend().of(px, n, 1, 28, 28)).toFloatArray();
            double loss = 0;
            for (int i = 0; i < n; i++) {
                loss -= lp[i * 3 + DATA.test().label(i)];
            }
            loss /= n;
            assertThat(loss).isCloseTo(r.metrics().get("test_loss"), within(1e-4 * Math.max(1, loss)));
        }
    }

    /** A prior on the grids of a trained VQ-VAE answers its queries consistently and as measured in training. */
    @Test
    void trainsThePriorAndAnswersItsQueries() {
        Path vq = tmp.resolve("prior-vq");
        VqVaeSpec vqSpec = tiny(DecoderHead.GAUSSIAN, 2);
        trainer().trainVqVae(vqSpec, new TrainingSpec(3e-3, 16, 1, 5, 3), DATA, vq, TrainingListener.NONE);
        Path dir = tmp.resolve("prior");
        PriorSpec spec = new PriorSpec(vqSpec.latent(), 3, 2, 8, 16, 7, 3);
        Recorder rec = new Recorder();
        TrainingReport r = trainer().trainPrior(spec, new TrainingSpec(3e-3, 16, 2, 5, 3), vq, DATA, dir, rec);
        assertThat(rec.epochs).hasSize(2);
        assertThat(r.metrics()).containsKeys("test_nll", "test_bits", "test_nll_per_position", "val_loss");
        assertThat(Checkpoint.read(dir, Checkpoint.KIND_PRIOR).provenance().details()).containsKey("vqvae");
        assertThat(rec.epochs.get(1).get("train_loss")).isLessThan(rec.epochs.get(0).get("train_loss"));

        // the loaded prior measures the test grids as the training run did
        int n = DATA.test().size();
        int[] all = new int[n];
        long[] labels = new long[n];
        for (int i = 0; i < n; i++) {
            all[i] = i;
            labels[i] = DATA.test().labels()[i];
        }
        float[] px = DATA.test().dequantised(all, new SplittableRandom(VqVaeRunner.TEST_NOISE));
        try (Encoder enc = loader().loadEncoder(vq); Prior prior = loader().loadPrior(dir);
                TensorScope scope = TensorScope.open()) {
            float[] lp = prior.logProb(enc.encode(backend().of(px, n, 1, 28, 28)), backend().of(labels, n))
                    .toFloatArray();
            double nll = 0;
            for (float v : lp) {
                nll -= v;
            }
            nll /= n;
            System.out.printf(Locale.ROOT, "%s prior test NLL: training run %.6f, loaded checkpoint %.6f%n",
                    backend().name(), r.metrics().get("test_nll"), nll);
            assertThat(nll).isCloseTo(r.metrics().get("test_nll"), within(1e-4 * Math.max(1, nll)));
        }

        try (Prior prior = loader().loadPrior(dir); TensorScope scope = TensorScope.open()) {
            assertThat(prior.numClasses()).isEqualTo(3);
            assertThat(prior.classLogPrior().toFloatArray()).containsExactly(new float[] {
                    (float) Math.log(16 / 48.0), (float) Math.log(16 / 48.0), (float) Math.log(16 / 48.0)},
                    within(1e-6f));
            long[] grids = {1, 2, 3, 4, 0, 0, 0, 0, 5, 6, 7, 1};
            Tensor z = backend().of(grids, 3, 4);
            Tensor c = backend().of(new long[] {0, 1, 2}, 3);
            float[] whole = prior.logProb(z, c).toFloatArray();
            double[] summed = new double[3];
            for (int pos = 0; pos < 4; pos++) {
                float[] next = prior.nextLogProbs(z, c, pos).toFloatArray();
                for (int b = 0; b < 3; b++) {
                    double norm = 0;
                    for (int k = 0; k < 8; k++) {
                        norm += Math.exp(next[b * 8 + k]);
                    }
                    assertThat(norm).isCloseTo(1, within(1e-5));
                    summed[b] += next[b * 8 + (int) grids[b * 4 + pos]];
                }
            }
            for (int b = 0; b < 3; b++) {
                assertThat((double) whole[b]).isCloseTo(summed[b], within(1e-4));
            }
            assertThat(prior.marginalLogProb(z).shape()).containsExactly(3);
            Tensor drawn = prior.sample(backend().of(new long[] {0, 2}, 2), new SplittableRandom(4));
            assertThat(drawn.shape()).containsExactly(2, 4);
            assertThatThrownBy(() -> prior.nextLogProbs(z, backend().of(new long[] {0, 1, 3}, 3), 0))
                    .hasMessageContaining("class 3 of row 2");
        }
    }
}
