package io.vqdistill.backend.djl.nn;

import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.vqdistill.api.Backend;
import io.vqdistill.api.FormatException;
import io.vqdistill.api.spi.BackendOptions;
import io.vqdistill.backend.djl.DjlBackendProvider;
import io.vqdistill.formats.SafeTensors;
import io.vqdistill.models.ModelLoader;
import io.vqdistill.models.checkpoint.Checkpoint;
import io.vqdistill.models.train.DecoderHead;
import io.vqdistill.models.train.ModelTrainer;
import io.vqdistill.models.train.ModelTrainerContractTest;
import io.vqdistill.models.train.TrainingListener;
import io.vqdistill.models.train.TrainingSpec;
import io.vqdistill.models.train.VqVaeSpec;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

class TrainingTest extends ModelTrainerContractTest {
    private Backend backend;
    private DjlModelTrainer trainer;
    private ModelLoader loader;

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

    @Override
    protected Backend backend() {
        return backend;
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
