package io.vqdistill.models.train;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import io.vqdistill.api.Backend;
import io.vqdistill.api.InvalidArgumentException;
import io.vqdistill.api.Tensor;
import io.vqdistill.api.TensorScope;
import io.vqdistill.api.model.Decoder;
import io.vqdistill.formats.SafeTensors;
import io.vqdistill.models.ModelLoader;
import io.vqdistill.models.checkpoint.Checkpoint;
import io.vqdistill.models.data.DataSplit;
import io.vqdistill.models.data.ImageSet;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

/**
 * The contract of {@link DecoderTuner} on a backend's own instance: a tiny VQ-VAE trained on
 * {@link TinyData}, whose decoder is tuned as the decoder of a 12-component mixture of random
 * grids. Tuning lowers the mixture's validation NLL below that of the untuned decoder; the recorded
 * test NLL is the float64 mixture of the leaves the tuned checkpoint's decoder gives through the
 * backend's {@link ModelLoader}; the encoder keeps its weights; a killed run resumes to the weights
 * of an uninterrupted one. A backend's test extends this, creating its backend once per class.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
public abstract class DecoderTunerContractTest {
    private static final DataSplit DATA = TinyData.split(48, 12, 9);
    private static final int COMPONENTS = 12;

    /** A folder for the runs of one test. */
    @TempDir
    protected Path tmp;

    private final VqVaeSpec model = ModelTrainerContractTest.tiny(DecoderHead.GAUSSIAN, 4);
    private Path sourceDir;
    private DecoderTuning tuning;

    /** The backend under test, started once per class. */
    protected abstract Backend backend();

    private DecoderTuner tuner() {
        return backend().capability(DecoderTuner.class).orElseThrow();
    }

    /** Trains the source VQ-VAE into the test's folder and sets the tuning of 12 random grids. */
    @BeforeEach
    void trainSource() {
        sourceDir = tmp.resolve("source");
        backend().capability(ModelTrainer.class).orElseThrow()
                .trainVqVae(model, new TrainingSpec(3e-3, 16, 3, 5, 42), DATA, sourceDir, TrainingListener.NONE);
        SplittableRandom r = new SplittableRandom(5);
        int[] grids = new int[COMPONENTS * model.latent().positions()];
        Arrays.setAll(grids, i -> r.nextInt(model.latent().codebookSize()));
        double[] logWeights = new double[COMPONENTS];
        Arrays.setAll(logWeights, i -> Math.log((i + 1.0) / (COMPONENTS * (COMPONENTS + 1) / 2.0)));
        tuning = new DecoderTuning(model, sourceDir, grids, logWeights, 3, "12 random grids");
    }

    @Test
    void tuningLowersTheMixturesValidationNllAndRecordsTheTestNllOfTheTunedDecodersMixture() {
        Path dir = tmp.resolve("tuned");
        ModelTrainerContractTest.Recorder rec = new ModelTrainerContractTest.Recorder();
        TrainingReport report = tuner().tuneDecoder(tuning, new TrainingSpec(1e-2, 16, 5, 5, 1), DATA, dir, rec);
        double before = -mean(mixtureLogLikelihoods(sourceDir, DATA.validation(), VqVaeRunner.VALIDATION_NOISE));
        List<Double> val = rec.epochs.stream().map(m -> m.get("val_loss")).toList();
        assertThat(val.get(0)).as("the untuned mixture's validation NLL is %s", before).isLessThan(before);
        assertThat(Collections.min(val)).isLessThan(before - 100);
        assertThat(rec.epochs.get(0).values()).containsOnlyKeys("train_loss", "val_loss", "val_bpd");
        assertThat(report.metrics().get("test_bpd"))
                .isCloseTo(report.metrics().get("test_nll") / (784 * Math.log(2)) + 8, within(1e-9));
        double tuned = -mean(mixtureLogLikelihoods(dir, DATA.test(), VqVaeRunner.TEST_NOISE));
        assertThat(tuned).isCloseTo(report.metrics().get("test_nll"), within(1e-3 * Math.abs(tuned)));

        Checkpoint c = Checkpoint.read(dir, Checkpoint.KIND_VQVAE);
        assertThat(VqVaeSpec.fromJson(c.architecture(), Checkpoint.configFile(dir))).isEqualTo(model);
        assertThat(c.provenance().details()).containsEntry("tuning_candidates", "3")
                .containsEntry("tuning_components", "12");
        SafeTensors source = Checkpoint.weights(sourceDir);
        SafeTensors out = Checkpoint.weights(dir);
        for (String name : source.names()) {
            if (name.startsWith("encoder.")) {
                assertThat(out.get(name).toDoubles()).as(name).containsExactly(source.get(name).toDoubles());
            }
        }
        assertThat(out.get("decoder.proj.weight").toDoubles())
                .isNotEqualTo(source.get("decoder.proj.weight").toDoubles());
    }

    @Test
    void aKilledRunResumesToTheSameWeightsAsAnUninterruptedOne() {
        TrainingSpec twoEpochs = new TrainingSpec(3e-3, 16, 2, 5, 7);
        Path straight = tmp.resolve("straight");
        tuner().tuneDecoder(tuning, twoEpochs, DATA, straight, TrainingListener.NONE);
        Path killed = tmp.resolve("killed");
        TrainingListener killer = KilledRuns.killedAt(2, 2);
        assertThatThrownBy(() -> tuner().tuneDecoder(tuning, twoEpochs, DATA, killed, killer)).hasMessage("killed");
        assertThat(tuner().tuneDecoder(tuning, twoEpochs, DATA, killed, TrainingListener.NONE).epochs()).isEqualTo(2);
        KilledRuns.assertSameWeights(straight, killed);
        DecoderTuning other = new DecoderTuning(model, sourceDir, tuning.grids(), tuning.logWeights(), 1,
                "12 random grids");
        assertThatThrownBy(() -> tuner().tuneDecoder(other, twoEpochs, DATA, killed, TrainingListener.NONE))
                .isInstanceOf(InvalidArgumentException.class).hasMessageContaining("another configuration");
    }

    /**
     * log sum_n w_n prod_i N(x_i; mu_ni, s_ni) of each image of {@code set}, dequantised with the
     * noise seeded by {@code noiseSeed}, in float64 from the leaves the VQ-VAE in {@code dir} gives
     * the tuning's grids through the backend's loader.
     */
    private double[] mixtureLogLikelihoods(Path dir, ImageSet set, long noiseSeed) {
        int n = set.size();
        int[] all = new int[n];
        Arrays.setAll(all, i -> i);
        float[] x = set.dequantised(all, new SplittableRandom(noiseSeed));
        int positions = model.latent().positions();
        long[] codes = Arrays.stream(tuning.grids()).asLongStream().toArray();
        float[] mean;
        float[] logVar;
        try (Decoder decoder = backend().capability(ModelLoader.class).orElseThrow().loadDecoder(dir);
                TensorScope scope = TensorScope.open()) {
            Map<String, Tensor> leaves = decoder.decode(backend().of(codes, COMPONENTS, positions));
            mean = leaves.get("mean").toFloatArray();
            logVar = leaves.get("log_var").toFloatArray();
        }
        return Float64Mixture.logLikelihoods(x, mean, logVar, tuning.logWeights());
    }

    private static double mean(double[] v) {
        return Arrays.stream(v).average().orElseThrow();
    }
}
