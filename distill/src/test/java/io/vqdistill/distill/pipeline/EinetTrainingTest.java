package io.vqdistill.distill.pipeline;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import io.vqdistill.api.Backend;
import io.vqdistill.api.InvalidArgumentException;
import io.vqdistill.api.circuit.Circuit;
import io.vqdistill.api.fake.FakeBackendProvider;
import io.vqdistill.api.model.ImageShape;
import io.vqdistill.api.spi.BackendOptions;
import io.vqdistill.circuits.io.CircuitFiles;
import io.vqdistill.circuits.layered.LayeredCircuit;
import io.vqdistill.circuits.layered.LayeredSpec;
import io.vqdistill.distill.eval.PixelEncoding;
import io.vqdistill.models.data.DataSplit;
import io.vqdistill.models.data.ImageSet;
import io.vqdistill.models.train.TrainingListener;
import io.vqdistill.models.train.TrainingReport;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Stochastic EM training of an Einsum network on tiny images: progress, files, resume and refusals. */
class EinetTrainingTest {

    private static ImageSet images(int n, long seed, String name) {
        SplittableRandom rng = new SplittableRandom(seed);
        byte[] pixels = new byte[n * 16];
        for (int r = 0; r < n; r++) {
            int kind = r % 2;
            for (int i = 0; i < 16; i++) {
                int bright = kind == 0 ? (i % 4 < 2 ? 200 : 20) : (i / 4 < 2 ? 220 : 10);
                pixels[r * 16 + i] = (byte) Math.min(255, bright + rng.nextInt(30));
            }
        }
        return new ImageSet(new ImageShape(1, 4, 4), pixels, new int[n], 1, name);
    }

    private static DataSplit data() {
        return new DataSplit(images(60, 1, "train"), images(20, 2, "validation"), images(20, 3, "test"),
                "tiny 4x4 stripes");
    }

    private static EinetTraining.Spec spec(String head, int epochs) {
        return new EinetTraining.Spec(new LayeredSpec(4, 4, new int[] {2}, 2, 2), head, 1e-3, 1, 0.01, 20, 2, 0.5,
                epochs, 15, 3);
    }

    @Test
    void trainingLowersTheValidationBpdAndResumesAfterTheLastEpoch(@TempDir Path dir) throws IOException {
        Path out = dir.resolve("einet");
        try (Backend backend = new FakeBackendProvider().create(BackendOptions.defaults())) {
            TrainingReport first = EinetTraining.train(backend, spec("gaussian", 3), data(), out, TrainingListener.NONE);
            assertThat(first.epochs()).isEqualTo(3);
            assertThat(Files.readAllLines(out.resolve(EinetTraining.METRICS))).hasSize(4);
            try (Circuit c = CircuitFiles.read(out, backend)) {
                assertThat(c).isInstanceOf(LayeredCircuit.class);
                double bpd = EinetTraining.bitsPerDim(c, data().validation(), PixelEncoding.DEQUANTISED, 7);
                assertThat(bpd).isCloseTo(first.metrics().get("validation_bpd"), within(1e-6));
                try (Circuit start = EinetTraining.initial(backend, spec("gaussian", 3), new SplittableRandom(3))) {
                    assertThat(bpd).isLessThan(EinetTraining.bitsPerDim(start, data().validation(),
                            PixelEncoding.DEQUANTISED, 7) - 1);
                }
            }
            TrainingReport resumed = EinetTraining.train(backend, spec("gaussian", 4), data(), out,
                    TrainingListener.NONE);
            assertThat(resumed.epochs()).isEqualTo(4);
            assertThat(CircuitFiles.provenance(out.resolve(EinetTraining.LAST))).containsEntry("epoch", "4");
            assertThat(Files.readAllLines(out.resolve(EinetTraining.METRICS))).hasSize(5);
            assertThatThrownBy(() -> EinetTraining.train(backend, spec("categorical", 5), data(), out,
                    TrainingListener.NONE)).isInstanceOf(InvalidArgumentException.class)
                    .hasMessageContaining("other settings");
        }
    }

    @Test
    void categoricalLeavesTrainOnLevels(@TempDir Path dir) {
        try (Backend backend = new FakeBackendProvider().create(BackendOptions.defaults())) {
            TrainingReport r = EinetTraining.train(backend, spec("categorical", 2), data(), dir.resolve("c"),
                    TrainingListener.NONE);
            assertThat(r.metrics().get("validation_bpd")).isBetween(0.0, 8.0);
            assertThat(CircuitFiles.provenance(dir.resolve("c"))).containsKey("configuration");
            assertThat(Map.copyOf(r.metrics())).containsKeys("train_bpd", "validation_bpd");
        }
    }
}
