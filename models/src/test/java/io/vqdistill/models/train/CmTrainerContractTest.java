package io.vqdistill.models.train;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import io.vqdistill.api.Backend;
import io.vqdistill.api.InvalidArgumentException;
import io.vqdistill.api.Tensor;
import io.vqdistill.api.TensorScope;
import io.vqdistill.api.model.ImageShape;
import io.vqdistill.formats.SafeTensors;
import io.vqdistill.models.checkpoint.Checkpoint;
import io.vqdistill.models.data.DataSplit;
import io.vqdistill.models.data.ImageSet;
import io.vqdistill.models.nn.PortableCmDecoder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

/**
 * The contract of {@link CmTrainer} on a backend's own instance, on tiny 8x8 images: both training
 * rules lower the validation NLL; the checkpoint's decoder, loaded on the backend
 * ({@link PortableCmDecoder}), gives leaves whose finite mixture at the test points, summed in
 * float64 here, has the test NLL the training run recorded; a categorical head trains; a killed run
 * resumes to the weights of an uninterrupted one. The same holds for a convolutional decoder, whose
 * BatchNorm layers train on the statistics of each step's points and are measured and loaded in
 * inference mode. A backend's test extends this, creating its backend once per class in
 * {@link #backend()}'s lifecycle.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
public abstract class CmTrainerContractTest {
    /** The side of the tiny images. */
    public static final int SIDE = 8;
    /** 96 training, 24 validation and 12 test images of 8x8 pixels. */
    public static final DataSplit DATA = new DataSplit(images(96, 1, "tiny train"), images(24, 2, "tiny validation"),
            images(12, 3, "tiny test"), "tiny 8x8 bars");

    /** A folder for the runs of one test. */
    @TempDir
    protected Path tmp;

    /** The backend under test, started once per class. */
    protected abstract Backend backend();

    private CmTrainer trainer() {
        return backend().capability(CmTrainer.class).orElseThrow();
    }

    /**
     * {@code n} 8x8 images of 3 classes: class c draws a bright horizontal bar at rows 2c..2c+1 over
     * a dark, slightly noisy background, drawn from a generator seeded with {@code seed}.
     */
    public static ImageSet images(int n, long seed, String name) {
        SplittableRandom r = new SplittableRandom(seed);
        byte[] px = new byte[n * SIDE * SIDE];
        int[] labels = new int[n];
        for (int i = 0; i < n; i++) {
            int c = r.nextInt(3);
            labels[i] = c;
            for (int y = 0; y < SIDE; y++) {
                for (int x = 0; x < SIDE; x++) {
                    boolean on = y >= 1 + 2 * c && y < 3 + 2 * c && x >= 1 + r.nextInt(2) && x < 7;
                    px[i * SIDE * SIDE + y * SIDE + x] = (byte) (on ? 180 + r.nextInt(60) : r.nextInt(4));
                }
            }
        }
        return new ImageSet(new ImageShape(1, SIDE, SIDE), px, labels, 3, name);
    }

    /** A decoder 4 -> 16 -> leaves trained on 32 points. */
    public static CmSpec tiny(DecoderHead head, CmRule rule) {
        return new CmSpec(new ImageShape(1, SIDE, SIDE), 4, List.of(16), head, 32, rule);
    }

    /** A convolutional decoder 4 -> 4 maps of 2x2 -> ... -> leaves trained on 32 points. */
    public static CmSpec tinyConv(DecoderHead head, CmRule rule) {
        return new CmSpec(new ImageShape(1, SIDE, SIDE), 4, new CmDecoder.Conv(4), head, 32, rule);
    }

    @Test
    void bothRulesLowerTheValidationNllAndRecordTheTestNllOfTheDecodedMixture() throws Exception {
        for (CmRule rule : CmRule.values()) {
            CmSpec spec = tiny(DecoderHead.GAUSSIAN, rule);
            Path dir = trainsAndRecordsTheDecodedTestNll(spec, rule.label());
            SafeTensors w = Checkpoint.weights(dir);
            assertThat(w.get("decoder.hidden.0.weight").shape()).containsExactly(16, 4);
            assertThat(w.get("decoder.out.weight").shape()).containsExactly(128, 16);
        }
    }

    @Test
    void aConvolutionalDecoderLowersTheValidationNllAndRecordsTheTestNllOfItsInferenceMode() throws Exception {
        CmSpec spec = tinyConv(DecoderHead.GAUSSIAN, CmRule.LSE);
        Path dir = trainsAndRecordsTheDecodedTestNll(spec, "conv");
        SafeTensors w = Checkpoint.weights(dir);
        assertThat(w.get("decoder.fc.weight").shape()).containsExactly(16, 4);
        assertThat(w.get("decoder.up.1.conv.weight").shape()).containsExactly(4, 2, 4, 4);
        // 6 epochs of 6 steps, every BatchNorm counted each step, its running statistics moved from the start
        assertThat(w.get("decoder.fc_bn.num_batches_tracked", io.vqdistill.api.DType.INT64).buffer().getLong(0))
                .isEqualTo(36);
        assertThat(w.get("decoder.up.0.bn.running_var").toDoubles()).doesNotContain(1.0);
    }

    /**
     * Trains {@code spec} on Gaussian leaves for 6 epochs into {@code name}, checks that the
     * validation NLL fell and that the checkpoint's decoder gives the recorded test NLL; returns the folder.
     */
    private Path trainsAndRecordsTheDecodedTestNll(CmSpec spec, String name) throws Exception {
        CmRule rule = spec.rule();
        Path dir = tmp.resolve(name);
        ModelTrainerContractTest.Recorder rec = new ModelTrainerContractTest.Recorder();
        TrainingReport report = trainer().trainCm(spec, new TrainingSpec(1e-2, 16, 6, 6, 3), DATA, dir, rec);
        List<Double> val = rec.epochs.stream().map(m -> m.get("val_loss")).toList();
        assertThat(val.get(5)).as("%s validation NLL by epoch %s", rule, val).isLessThan(val.get(0) - 20);
        assertThat(rec.epochs.get(0).values()).containsOnlyKeys("train_loss", "val_loss", "val_bpd");
        assertThat(report.metrics().get("test_bpd"))
                .isCloseTo(report.metrics().get("test_nll") / (64 * Math.log(2)) + 8, within(1e-9));
        assertThat(Files.readAllLines(dir.resolve("metrics.csv"))).hasSize(7);
        Checkpoint c = Checkpoint.read(dir, Checkpoint.KIND_CM);
        assertThat(CmSpec.fromJson(c.architecture(), Checkpoint.configFile(dir))).isEqualTo(spec);
        assertThat(c.provenance().backend()).isEqualTo(backend().name());
        assertThat(c.provenance().details()).containsKey("lattice");

        double nll = -mean(mixtureLogLikelihoods(dir, DATA.test(), spec));
        assertThat(nll).as("%s test NLL from the loaded decoder", rule)
                .isCloseTo(report.metrics().get("test_nll"), within(1e-4));
        return dir;
    }

    /**
     * log (1/M) sum_m prod_i N(x_i; mu_mi, s_mi) of each image of {@code set} (dequantised with the
     * test noise), in float64 from the leaves the checkpoint's decoder gives at the test points.
     */
    private double[] mixtureLogLikelihoods(Path dir, ImageSet set, CmSpec spec) {
        int n = set.size();
        int[] all = new int[n];
        for (int i = 0; i < n; i++) {
            all[i] = i;
        }
        float[] x = set.dequantised(all, new SplittableRandom(VqVaeRunner.TEST_NOISE));
        float[] z = CmRunner.fixedPoints(RqmcLattice.korobov(spec.points(), spec.latentDim()), CmRunner.TEST_SHIFT);
        int m = spec.points();
        float[] mean;
        float[] logVar;
        try (PortableCmDecoder decoder = PortableCmDecoder.load(backend(), dir); TensorScope scope = TensorScope.open()) {
            Map<String, Tensor> leaves = decoder.decode(backend().of(z, m, spec.latentDim()));
            mean = leaves.get("mean").toFloatArray();
            logVar = leaves.get("log_var").toFloatArray();
        }
        double[] logWeights = new double[m];
        Arrays.fill(logWeights, -Math.log(m));
        return Float64Mixture.logLikelihoods(x, mean, logVar, logWeights);
    }

    private static double mean(double[] v) {
        double s = 0;
        for (double x : v) {
            s += x;
        }
        return s / v.length;
    }

    @Test
    void aCategoricalHeadTrainsWithTheTopOneRule() {
        Path dir = tmp.resolve("cat");
        ModelTrainerContractTest.Recorder rec = new ModelTrainerContractTest.Recorder();
        TrainingReport r = trainer().trainCm(tiny(DecoderHead.CATEGORICAL, CmRule.TOP1),
                new TrainingSpec(1e-2, 16, 3, 5, 1), DATA, dir, rec);
        assertThat(rec.epochs.get(2).get("val_loss")).isLessThan(rec.epochs.get(0).get("val_loss"));
        assertThat(r.metrics().get("test_bpd")).isCloseTo(r.metrics().get("test_nll") / (64 * Math.log(2)),
                within(1e-9));
        assertThat(r.metrics().get("test_bpd")).isBetween(0.0, 8.5);
        try (PortableCmDecoder decoder = PortableCmDecoder.load(backend(), dir); TensorScope scope = TensorScope.open()) {
            Tensor logits = decoder.decode(backend().of(new float[8], 2, 4)).get("logits");
            assertThat(logits.shape()).containsExactly(2, 64, 256);
        }
    }

    @Test
    void aKilledRunResumesToTheSameWeightsAsAnUninterruptedOne() throws Exception {
        // the convolutional decoder's BatchNorm statistics and counters are part of the weights compared
        for (CmSpec spec : List.of(tiny(DecoderHead.GAUSSIAN, CmRule.LSE),
                tinyConv(DecoderHead.GAUSSIAN, CmRule.LSE))) {
            resumesToTheSameWeights(spec, spec.decoder().type());
        }
    }

    private void resumesToTheSameWeights(CmSpec spec, String name) {
        TrainingSpec twoEpochs = new TrainingSpec(1e-2, 16, 2, 5, 7);
        Path straight = tmp.resolve(name + "-straight");
        trainer().trainCm(spec, twoEpochs, DATA, straight, TrainingListener.NONE);
        Path killed = tmp.resolve(name + "-killed");
        TrainingListener killer = KilledRuns.killedAt(2, 2);
        assertThatThrownBy(() -> trainer().trainCm(spec, twoEpochs, DATA, killed, killer)).hasMessage("killed");
        TrainingReport resumed = trainer().trainCm(spec, twoEpochs, DATA, killed, TrainingListener.NONE);
        assertThat(resumed.epochs()).isEqualTo(2);
        KilledRuns.assertSameWeights(straight, killed);
        CmSpec other = new CmSpec(spec.image(), 4, spec.decoder(), DecoderHead.GAUSSIAN, 32, CmRule.TOP1);
        assertThatThrownBy(() -> trainer().trainCm(other, twoEpochs, DATA, killed, TrainingListener.NONE))
                .isInstanceOf(InvalidArgumentException.class).hasMessageContaining("another configuration");
    }
}
