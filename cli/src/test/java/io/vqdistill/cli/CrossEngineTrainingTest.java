package io.vqdistill.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import io.vqdistill.api.Backend;
import io.vqdistill.api.BackendSelector;
import io.vqdistill.api.model.ImageShape;
import io.vqdistill.api.model.LatentShape;
import io.vqdistill.api.spi.BackendOptions;
import io.vqdistill.formats.SafeTensors;
import io.vqdistill.models.checkpoint.Checkpoint;
import io.vqdistill.models.data.DataSplit;
import io.vqdistill.models.data.ImageSet;
import io.vqdistill.models.train.DecoderHead;
import io.vqdistill.models.train.EpochMetrics;
import io.vqdistill.models.train.ModelTrainer;
import io.vqdistill.models.train.PriorSpec;
import io.vqdistill.models.train.TrainingListener;
import io.vqdistill.models.train.TrainingSpec;
import io.vqdistill.models.train.VqVaeSpec;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.function.BiConsumer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * DJL and TensorFlow train the same networks: from the same seed they start from the same weights,
 * so their losses agree step by step, and a checkpoint written by one trains on the other.
 */
class CrossEngineTrainingTest {
    private static final List<String> ENGINES = List.of("djl", "tensorflow");

    @TempDir
    Path tmp;

    private static ImageSet images(int n, long seed, String name) {
        SplittableRandom r = new SplittableRandom(seed);
        byte[] px = new byte[n * 784];
        int[] labels = new int[n];
        for (int i = 0; i < n; i++) {
            int c = r.nextInt(3);
            labels[i] = c;
            for (int y = 0; y < 28; y++) {
                for (int x = 0; x < 28; x++) {
                    boolean on = y >= 4 + 6 * c && y < 8 + 6 * c && x >= 4 + (i % 3) && x < 24;
                    px[i * 784 + y * 28 + x] = (byte) (on ? 200 + r.nextInt(50) : r.nextInt(3));
                }
            }
        }
        return new ImageSet(ImageShape.MNIST, px, labels, 3, name);
    }

    private static final DataSplit DATA = new DataSplit(images(96, 1, "train"), images(24, 2, "validation"),
            images(24, 3, "test"), "random bars");

    /** Runs {@code body} with each engine's trainer and collects the per-step losses. */
    private static List<List<Double>> onEachEngine(BiConsumer<ModelTrainer, TrainingListener> body) {
        List<List<Double>> out = new ArrayList<>();
        for (String name : ENGINES) {
            try (Backend b = BackendSelector.discover().select(name, new BackendOptions("cpu", 2))) {
                List<Double> losses = new ArrayList<>();
                body.accept(b.capability(ModelTrainer.class).orElseThrow(), new TrainingListener() {
                    @Override
                    public void batchDone(int epoch, int batch, double loss) {
                        losses.add(loss);
                    }
                });
                out.add(losses);
            }
        }
        return out;
    }

    private static void assertSameLosses(List<List<Double>> losses) {
        List<Double> djl = losses.get(0);
        List<Double> tf = losses.get(1);
        assertThat(tf).hasSameSizeAs(djl);
        for (int i = 0; i < djl.size(); i++) {
            assertThat(tf.get(i)).as("step %d", i + 1).isCloseTo(djl.get(i), within(1e-4 * Math.abs(djl.get(i))));
        }
    }

    @Test
    void bothEnginesTrainACategoricalVqVaeAndAPriorStepByStepAlike() {
        VqVaeSpec vq = new VqVaeSpec(ImageShape.MNIST, new LatentShape(4, 4, 16), 8, List.of(8, 8, 8), 1,
                DecoderHead.CATEGORICAL, 10);
        TrainingSpec training = new TrainingSpec(1e-3, 32, 1, 5, 5);
        List<Path> dirs = new ArrayList<>();
        assertSameLosses(onEachEngine((trainer, listener) -> {
            Path dir = tmp.resolve("vq-" + dirs.size());
            dirs.add(dir);
            trainer.trainVqVae(vq, training, DATA, dir, listener);
        }));
        SafeTensors djl = Checkpoint.weights(dirs.get(0));
        SafeTensors tf = Checkpoint.weights(dirs.get(1));
        assertThat(tf.names()).isEqualTo(djl.names());

        PriorSpec prior = new PriorSpec(vq.latent(), 3, 3, 8, 16, 5, 3);
        List<Path> priors = new ArrayList<>();
        assertSameLosses(onEachEngine((trainer, listener) -> {
            Path dir = tmp.resolve("prior-" + priors.size());
            priors.add(dir);
            trainer.trainPrior(prior, new TrainingSpec(3e-3, 32, 2, 5, 5), dirs.get(0), DATA, dir, listener);
        }));
    }

    @Test
    void aRunKilledOnDjlResumesOnTensorFlow() {
        VqVaeSpec vq = new VqVaeSpec(ImageShape.MNIST, new LatentShape(4, 4, 8), 4, List.of(4, 4, 4), 1,
                DecoderHead.GAUSSIAN, 10);
        TrainingSpec training = new TrainingSpec(1e-3, 32, 2, 5, 9);
        Path dir = tmp.resolve("handover");
        try (Backend b = BackendSelector.discover().select("djl", new BackendOptions("cpu", 2))) {
            TrainingListener killer = new TrainingListener() {
                @Override
                public void batchDone(int epoch, int batch, double loss) {
                    if (epoch == 2) {
                        throw new IllegalStateException("killed");
                    }
                }
            };
            ModelTrainer trainer = b.capability(ModelTrainer.class).orElseThrow();
            assertThatThrownBy(() -> trainer.trainVqVae(vq, training, DATA, dir, killer)).hasMessage("killed");
        }
        List<Integer> epochs = new ArrayList<>();
        try (Backend b = BackendSelector.discover().select("tensorflow", new BackendOptions("cpu", 2))) {
            b.capability(ModelTrainer.class).orElseThrow().trainVqVae(vq, training, DATA, dir, new TrainingListener() {
                @Override
                public void epochDone(EpochMetrics m) {
                    epochs.add(m.epoch());
                }
            });
        }
        assertThat(epochs).containsExactly(2);
        Checkpoint c = Checkpoint.read(dir, Checkpoint.KIND_VQVAE);
        assertThat(c.provenance().epochs()).isEqualTo(2);
        assertThat(c.provenance().backend()).isEqualTo("tensorflow");
    }
}
