package io.vqdistill.models.checkpoint;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.vqdistill.api.DType;
import io.vqdistill.api.FormatException;
import io.vqdistill.api.model.ImageShape;
import io.vqdistill.api.model.LatentShape;
import io.vqdistill.formats.SafeTensors;
import io.vqdistill.models.train.DecoderHead;
import io.vqdistill.models.train.VqVaeSpec;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class CheckpointTest {
    @TempDir
    Path dir;

    private static Checkpoint sample() {
        VqVaeSpec spec = VqVaeSpec.defaults(ImageShape.MNIST, new LatentShape(4, 4, 16), DecoderHead.GAUSSIAN);
        Map<String, Double> metrics = new LinkedHashMap<>();
        metrics.put("test_bpd", 1.5);
        metrics.put("val_loss", Double.NaN);
        return new Checkpoint(Checkpoint.KIND_VQVAE, spec.toJson(),
                Provenance.now(3, "synthetic", "fake", "Fake 1.0", 4, 2, Map.of("note", "x")), metrics);
    }

    @Test
    void roundTripsConfigurationAndWeights() {
        Checkpoint c = sample();
        c.write(dir, List.of(SafeTensors.Entry.of("codebook.weight", new float[] {1, 2, 3, 4, 5, 6}, 3, 2)));
        assertThat(Checkpoint.exists(dir)).isTrue();
        Checkpoint back = Checkpoint.read(dir, Checkpoint.KIND_VQVAE);
        assertThat(back.provenance()).isEqualTo(c.provenance());
        assertThat(back.metrics().get("test_bpd")).isEqualTo(1.5);
        assertThat(back.metrics().get("val_loss")).isNaN();
        assertThat(VqVaeSpec.fromJson(back.architecture(), dir)).isEqualTo(VqVaeSpec.fromJson(c.architecture(), dir));
        SafeTensors w = Checkpoint.weights(dir);
        assertThat(w.get("codebook.weight", DType.FLOAT32, 3, 2).toFloats()).containsExactly(1, 2, 3, 4, 5, 6);
        assertThat(w.metadata()).containsEntry("format", "pt");
    }

    @Test
    void misshapenTensorNamesTensorAndBothShapes() {
        sample().write(dir, List.of(SafeTensors.Entry.of("codebook.weight", new float[6], 3, 2)));
        assertThatThrownBy(() -> Checkpoint.weights(dir).get("codebook.weight", DType.FLOAT32, 16, 64))
                .isInstanceOf(FormatException.class).hasMessageContaining("codebook.weight")
                .hasMessageContaining("[3, 2]").hasMessageContaining("[16, 64]");
        assertThatThrownBy(() -> Checkpoint.weights(dir).get("decoder.head.weight"))
                .isInstanceOf(FormatException.class).hasMessageContaining("decoder.head.weight")
                .hasMessageContaining("missing");
    }

    @Test
    void wrongKindVersionOrFieldsAreNamed() throws Exception {
        sample().write(dir, List.of());
        assertThatThrownBy(() -> Checkpoint.read(dir, Checkpoint.KIND_PRIOR)).isInstanceOf(FormatException.class)
                .hasMessageContaining("kind").hasMessageContaining("'vqvae'");
        Path cfg = Checkpoint.configFile(dir);
        String text = Files.readString(cfg);
        Files.writeString(cfg, text.replace("\"format_version\" : 1", "\"format_version\" : 9"));
        assertThatThrownBy(() -> Checkpoint.read(dir)).hasMessageContaining("format_version")
                .hasMessageContaining("9 was written by a newer vqdistill").hasMessageContaining(cfg.toString());
        Files.writeString(cfg, text.replace("\"format_version\" : 1", "\"format_version\" : 0"));
        assertThatThrownBy(() -> Checkpoint.read(dir)).hasMessageContaining("format_version")
                .hasMessageContaining("0 is not supported");
        Files.writeString(cfg, text.replace("\"embedding_dim\" : 64", "\"embedding_dim\" : \"big\""));
        assertThatThrownBy(() -> VqVaeSpec.fromJson(Checkpoint.read(dir).architecture(), cfg))
                .isInstanceOf(FormatException.class).hasMessageContaining("architecture.embedding_dim")
                .hasMessageContaining("\"big\"");
        Files.writeString(cfg, text.replace("\"seed\" : 3,", ""));
        assertThatThrownBy(() -> Checkpoint.read(dir)).hasMessageContaining("provenance.seed")
                .hasMessageContaining("nothing");
    }

    @Test
    void missingFolderIsNamed() {
        assertThatThrownBy(() -> Checkpoint.read(dir.resolve("none"))).isInstanceOf(FormatException.class)
                .hasMessageContaining("none").hasMessageContaining("not a checkpoint folder");
    }
}
