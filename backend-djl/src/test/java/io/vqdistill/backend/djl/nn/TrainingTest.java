package io.vqdistill.backend.djl.nn;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import io.vqdistill.api.Backend;
import io.vqdistill.api.DType;
import io.vqdistill.api.FormatException;
import io.vqdistill.api.Tensor;
import io.vqdistill.api.TensorScope;
import io.vqdistill.api.checkpoint.Checkpoint;
import io.vqdistill.api.data.DataSplit;
import io.vqdistill.api.io.SafeTensors;
import io.vqdistill.api.model.Decoder;
import io.vqdistill.api.model.Encoder;
import io.vqdistill.api.model.ImageShape;
import io.vqdistill.api.model.LatentShape;
import io.vqdistill.api.model.Prior;
import io.vqdistill.api.spi.BackendOptions;
import io.vqdistill.api.train.DecoderHead;
import io.vqdistill.api.train.EpochMetrics;
import io.vqdistill.api.train.ModelLoader;
import io.vqdistill.api.train.ModelTrainer;
import io.vqdistill.api.train.PriorSpec;
import io.vqdistill.api.train.TrainingListener;
import io.vqdistill.api.train.TrainingReport;
import io.vqdistill.api.train.TrainingSpec;
import io.vqdistill.api.train.VqVaeSpec;
import io.vqdistill.backend.djl.DjlBackendProvider;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class TrainingTest {
    private static final DataSplit DATA = TinyData.split(48, 12, 9);
    private static final TrainingSpec TWO_EPOCHS = new TrainingSpec(3e-3, 16, 2, 5, 42);

    private Backend backend;
    private DjlModelTrainer trainer;
    private ModelLoader loader;

    @TempDir
    Path tmp;

    @BeforeAll
    void start() {
        backend = new DjlBackendProvider().create(BackendOptions.defaults());
        trainer = (DjlModelTrainer) backend.capability(ModelTrainer.class).orElseThrow();
        loader = backend.capability(ModelLoader.class).orElseThrow();
    }

    @AfterAll
    void stop() throws Exception {
        backend.close();
    }

    private static VqVaeSpec tiny(DecoderHead head, int side) {
        LatentShape latent = new LatentShape(side, side, 8);
        int stages = VqVaeSpec.sides(28, side).length - 1;
        return new VqVaeSpec(ImageShape.MNIST, latent, 4, Collections.nCopies(stages, 4), 1, head, 10);
    }

    /** Collects what a listener receives. */
    private static final class Recorder implements TrainingListener {
        final List<EpochMetrics> epochs = new ArrayList<>();
        int batches;

        @Override
        public void batchDone(int epoch, int batch, double loss) {
            batches++;
        }

        @Override
        public void epochDone(EpochMetrics metrics) {
            epochs.add(metrics);
        }
    }

    @Test
    void trainsAGaussianVqVaeWritesACheckpointAndLoadsIt() throws Exception {
        Path dir = tmp.resolve("vq");
        Recorder rec = new Recorder();
        TrainingReport report = trainer.trainVqVae(tiny(DecoderHead.GAUSSIAN, 4), TWO_EPOCHS, DATA, dir, rec);
        assertThat(report.epochs()).isEqualTo(2);
        assertThat(rec.epochs).hasSize(2);
        assertThat(rec.batches).isEqualTo(6);
        assertThat(rec.epochs.get(1).values()).containsKeys("train_loss", "val_loss", "val_nll", "val_bpd",
                "codes_used", "perplexity");
        assertThat(report.metrics()).containsKeys("test_nll", "test_bpd", "test_codes_used", "test_distinct_grids");
        assertThat(report.metrics().get("test_bpd"))
                .isCloseTo(report.metrics().get("test_nll") / (784 * Math.log(2)) + 8, within(1e-9));
        assertThat(Files.readAllLines(dir.resolve("metrics.csv"))).hasSize(3)
                .first().asString().startsWith("epoch,seconds,best,train_loss,val_loss");
        Checkpoint c = Checkpoint.read(dir, Checkpoint.KIND_VQVAE);
        assertThat(c.provenance().backend()).isEqualTo(backend.name());
        assertThat(c.provenance().epochs()).isEqualTo(2);
        assertThat(c.metrics()).containsKey("test_bpd");
        SafeTensors w = Checkpoint.weights(dir);
        assertThat(w.get("encoder.down.0.conv.weight").shape()).containsExactly(4, 1, 4, 4);
        assertThat(w.get("decoder.up.0.conv.weight").shape()).containsExactly(4, 4, 3, 3);
        assertThat(w.get("decoder.up.2.conv.weight").shape()).containsExactly(4, 2, 4, 4);
        assertThat(w.get("encoder.down.0.bn.num_batches_tracked").dtype()).isEqualTo(DType.INT64);
        assertThat(Files.exists(dir.resolve("resume/state.safetensors"))).isFalse();

        try (Encoder enc = loader.loadEncoder(dir); Decoder dec = loader.loadDecoder(dir);
                TensorScope scope = TensorScope.open()) {
            float[] px = DATA.test().dequantised(new int[] {0, 1, 2}, new SplittableRandom(1));
            Tensor codes = enc.encode(backend.of(px, 3, 1, 28, 28));
            assertThat(codes.shape()).containsExactly(3, 16);
            assertThat(codes.dtype()).isEqualTo(DType.INT64);
            Map<String, Tensor> leaves = dec.decode(codes);
            assertThat(dec.leafFamily()).isEqualTo("gaussian");
            assertThat(leaves.get("mean").shape()).containsExactly(3, 784);
            float[] logVar = leaves.get("log_var").toFloatArray();
            for (float v : logVar) {
                assertThat((double) v).isBetween(DecoderHead.LOG_VAR_MIN - 1e-6, 1e-6);
            }
            float[] mean = leaves.get("mean").toFloatArray();
            double nll = 0;
            for (int i = 0; i < mean.length; i++) {
                double d = px[i] - mean[i];
                nll += 0.5 * (Math.log(2 * Math.PI) + logVar[i] + d * d / Math.exp(logVar[i]));
            }
            assertThat(Double.isFinite(nll)).isTrue();
        }
    }

    @Test
    void aKilledRunResumesToTheSameWeightsAsAnUninterruptedOne() throws Exception {
        VqVaeSpec spec = tiny(DecoderHead.GAUSSIAN, 4);
        Path straight = tmp.resolve("straight");
        trainer.trainVqVae(spec, TWO_EPOCHS, DATA, straight, TrainingListener.NONE);

        Path killed = tmp.resolve("killed");
        TrainingListener killer = new TrainingListener() {
            @Override
            public void batchDone(int epoch, int batch, double loss) {
                if (epoch == 2 && batch == 2) {
                    throw new IllegalStateException("killed");
                }
            }
        };
        assertThatThrownBy(() -> trainer.trainVqVae(spec, TWO_EPOCHS, DATA, killed, killer)).hasMessage("killed");
        assertThat(Files.exists(killed.resolve("resume/state.safetensors"))).isTrue();
        Recorder rec = new Recorder();
        TrainingReport resumed = trainer.trainVqVae(spec, TWO_EPOCHS, DATA, killed, rec);
        assertThat(rec.epochs).extracting(EpochMetrics::epoch).containsExactly(2);
        assertThat(resumed.epochs()).isEqualTo(2);
        SafeTensors a = Checkpoint.weights(straight);
        SafeTensors b = Checkpoint.weights(killed);
        assertThat(b.names()).isEqualTo(a.names());
        for (String name : a.names()) {
            assertThat(b.get(name).toDoubles()).as(name).containsExactly(a.get(name).toDoubles(), within(1e-6));
        }
        assertThat(Files.readAllLines(killed.resolve("metrics.csv"))).hasSize(3);

        TrainingReport again = trainer.trainVqVae(spec, TWO_EPOCHS, DATA, killed, TrainingListener.NONE);
        assertThat(again.metrics()).isEqualTo(resumed.metrics());
        VqVaeSpec other = new VqVaeSpec(spec.image(), spec.latent(), 5, spec.channels(), 1, DecoderHead.GAUSSIAN, 10);
        assertThatThrownBy(() -> trainer.trainVqVae(other, TWO_EPOCHS, DATA, killed, TrainingListener.NONE))
                .hasMessageContaining("another configuration");
    }

    @Test
    void trainsACategoricalVqVaeWithA2x2Grid() {
        Path dir = tmp.resolve("cat");
        TrainingReport r = trainer.trainVqVae(tiny(DecoderHead.CATEGORICAL, 2), new TrainingSpec(3e-3, 16, 1, 5, 1),
                DATA, dir, TrainingListener.NONE);
        assertThat(r.metrics().get("test_bpd"))
                .isCloseTo(r.metrics().get("test_nll") / (784 * Math.log(2)), within(1e-9));
        try (Decoder dec = loader.loadDecoder(dir); TensorScope scope = TensorScope.open()) {
            Tensor logits = dec.decode(backend.of(new long[] {0, 1, 2, 3, 7, 7, 7, 7}, 2, 4)).get("logits");
            assertThat(logits.shape()).containsExactly(2, 784, 256);
            float[] l = logits.toFloatArray();
            double total = 0;
            for (int v = 0; v < 256; v++) {
                total += Math.exp(l[v]);
            }
            assertThat(total).isCloseTo(1, within(1e-4));
        }
    }

    @Test
    void trainsThePriorAndAnswersItsQueries() {
        Path vq = tmp.resolve("prior-vq");
        VqVaeSpec vqSpec = tiny(DecoderHead.GAUSSIAN, 2);
        trainer.trainVqVae(vqSpec, new TrainingSpec(3e-3, 16, 1, 5, 3), DATA, vq, TrainingListener.NONE);
        Path dir = tmp.resolve("prior");
        PriorSpec spec = new PriorSpec(vqSpec.latent(), 3, 2, 8, 16, 7, 3);
        Recorder rec = new Recorder();
        TrainingReport r = trainer.trainPrior(spec, new TrainingSpec(3e-3, 16, 2, 5, 3), vq, DATA, dir, rec);
        assertThat(rec.epochs).hasSize(2);
        assertThat(r.metrics()).containsKeys("test_nll", "test_bits", "test_nll_per_position", "val_loss");
        assertThat(Checkpoint.read(dir, Checkpoint.KIND_PRIOR).provenance().details()).containsKey("vqvae");

        try (Prior prior = loader.loadPrior(dir); TensorScope scope = TensorScope.open()) {
            assertThat(prior.numClasses()).isEqualTo(3);
            assertThat(prior.classLogPrior().toFloatArray()).containsExactly(new float[] {
                    (float) Math.log(16 / 48.0), (float) Math.log(16 / 48.0), (float) Math.log(16 / 48.0)},
                    within(1e-6f));
            long[] grids = {1, 2, 3, 4, 0, 0, 0, 0, 5, 6, 7, 1};
            Tensor z = backend.of(grids, 3, 4);
            Tensor c = backend.of(new long[] {0, 1, 2}, 3);
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
            Tensor drawn = prior.sample(backend.of(new long[] {0, 2}, 2), new SplittableRandom(4));
            assertThat(drawn.shape()).containsExactly(2, 4);
            assertThatThrownBy(() -> prior.nextLogProbs(z, backend.of(new long[] {0, 1, 3}, 3), 0))
                    .hasMessageContaining("class 3 of row 2");
        }
    }

    @Test
    void loadingAMisshapenOrMissingTensorNamesItAndBothShapes() throws Exception {
        Path dir = tmp.resolve("broken");
        VqVaeSpec spec = tiny(DecoderHead.GAUSSIAN, 2);
        trainer.trainVqVae(spec, new TrainingSpec(3e-3, 16, 1, 5, 3), DATA, dir, TrainingListener.NONE);
        Path cfg = Checkpoint.configFile(dir);
        String text = Files.readString(cfg);
        Files.writeString(cfg, text.replace("\"embedding_dim\" : 4", "\"embedding_dim\" : 6"));
        assertThatThrownBy(() -> loader.loadDecoder(dir)).isInstanceOf(FormatException.class)
                .hasMessageContaining("weights.safetensors").hasMessageContaining("encoder.proj.weight")
                .hasMessageContaining("[4, 4, 1, 1]").hasMessageContaining("[6, 4, 1, 1]");
        Files.writeString(cfg, text);
        SafeTensors w = Checkpoint.weights(dir);
        List<SafeTensors.Entry> kept = new ArrayList<>();
        for (String n : w.names()) {
            if (!n.equals("codebook.weight")) {
                kept.add(w.get(n));
            }
        }
        SafeTensors.write(Checkpoint.weightsFile(dir), kept, Map.of());
        assertThatThrownBy(() -> loader.loadEncoder(dir)).isInstanceOf(FormatException.class)
                .hasMessageContaining("codebook.weight").hasMessageContaining("missing");
        assertThatThrownBy(() -> loader.loadPrior(dir)).isInstanceOf(FormatException.class)
                .hasMessageContaining("kind").hasMessageContaining("'vqvae'");
    }
}
