package io.vqdistill.formats;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.vqdistill.api.DType;
import io.vqdistill.api.FormatException;
import io.vqdistill.api.InvalidArgumentException;
import io.vqdistill.api.Tensor;
import io.vqdistill.api.fake.FakeBackend;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Large tensor sets as shards under a Hugging Face style index: placement, the split of a tensor
 * larger than a shard, the exact round trip, and every defect of a shard named by its file.
 */
class ShardedSafeTensorsTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path dir;

    /** weights [2] (8 bytes), logits [5, 3] (60 bytes, 12 per row), codes [4] I32 (16 bytes). */
    private static List<ShardedSafeTensors.Source> sources() {
        float[] logits = new float[15];
        for (int i = 0; i < logits.length; i++) {
            logits[i] = i * 0.5f - 3;
        }
        return List.of(ShardedSafeTensors.Source.of(SafeTensors.Entry.of("weights", new float[] {0.25f, 0.75f}, 2)),
                ShardedSafeTensors.Source.of(SafeTensors.Entry.of("logits", logits, 5, 3)),
                ShardedSafeTensors.Source.of(SafeTensors.Entry.of("codes", new int[] {3, 1, 4, 1}, 4)));
    }

    private Path write(long maxShardBytes) {
        ShardedSafeTensors.Plan plan = ShardedSafeTensors.plan("test", "model", sources(), Map.of("format", "t"),
                maxShardBytes);
        AtomicFolder.update(dir, plan::write);
        return dir;
    }

    private static List<String> files(Path dir) throws IOException {
        try (Stream<Path> s = Files.list(dir)) {
            return s.map(p -> p.getFileName().toString()).filter(n -> n.startsWith("model")).sorted().toList();
        }
    }

    @Test
    void tensorsThatFitOneShardStayOneFile() throws IOException {
        write(84);
        assertThat(files(dir)).containsExactly("model.safetensors");
        TensorStore st = ShardedSafeTensors.read(dir, "model");
        assertThat(st).isInstanceOf(SafeTensors.class);
        assertThat(st.names()).containsExactly("weights", "logits", "codes");
    }

    @Test
    void largerSetsAreShardedAndATensorLargerThanAShardIsSplitIntoRowBlocks() throws IOException {
        // 30-byte shards: weights (8) + 1 row of logits (12); then 2 rows; 2 rows; codes (16)
        write(30);
        assertThat(files(dir)).containsExactly("model-00001-of-00004.safetensors", "model-00002-of-00004.safetensors",
                "model-00003-of-00004.safetensors", "model-00004-of-00004.safetensors", "model.safetensors.index.json");
        JsonNode index = JSON.readTree(dir.resolve("model.safetensors.index.json").toFile());
        assertThat(index.path("metadata").path("total_size").asLong()).isEqualTo(84);
        assertThat(index.path("weight_map").toString()).isEqualTo("{\"weights\":\"model-00001-of-00004.safetensors\","
                + "\"logits.part-00001-of-00003\":\"model-00001-of-00004.safetensors\","
                + "\"logits.part-00002-of-00003\":\"model-00002-of-00004.safetensors\","
                + "\"logits.part-00003-of-00003\":\"model-00003-of-00004.safetensors\","
                + "\"codes\":\"model-00004-of-00004.safetensors\"}");
        assertThat(index.path("metadata").path("split_tensors").toString()).isEqualTo("{\"logits\":["
                + "\"logits.part-00001-of-00003\",\"logits.part-00002-of-00003\",\"logits.part-00003-of-00003\"]}");
        assertThat(SafeTensors.read(dir.resolve("model-00002-of-00004.safetensors")).get("logits.part-00002-of-00003")
                .shape()).containsExactly(2, 3);
        assertThat(SafeTensors.read(dir.resolve("model-00001-of-00004.safetensors")).metadata())
                .containsEntry("format", "t");
        for (JsonNode digest : index.path("metadata").path("shards")) {
            assertThat(digest.asText()).hasSize(64);
        }
    }

    @Test
    void aShardedSetReadsBackIdentically() {
        write(30);
        TensorStore st = ShardedSafeTensors.read(dir, "model");
        assertThat(st.file()).isEqualTo(dir.resolve("model.safetensors.index.json"));
        assertThat(st.names()).containsExactly("weights", "logits", "codes");
        SafeTensors.Entry whole = sources().get(1).rows().read("logits", 0, 5);
        assertThat(st.get("logits", DType.FLOAT32, 5, 3).toFloats()).containsExactly(whole.toFloats());
        assertThat(st.get("codes").toInts()).containsExactly(3, 1, 4, 1);
        assertThat(st.get("weights").toFloats()).containsExactly(0.25f, 0.75f);
        try (FakeBackend backend = new FakeBackend();
             Tensor t = st.toTensor("logits", DType.FLOAT32, new long[] {5, 3}, backend)) {
            assertThat(t.shape()).containsExactly(5, 3);
            assertThat(t.toFloatArray()).containsExactly(whole.toFloats());
        }
        st.require("logits", DType.FLOAT32, 5, 3).requireFinite("logits", false);
        assertThatThrownBy(() -> st.require("logits", DType.FLOAT32, 3, 5)).isInstanceOf(FormatException.class)
                .hasMessage(dir.resolve("model.safetensors.index.json") + ": tensor 'logits' has float32 [5, 3], expected"
                        + " float32 [3, 5]");
        assertThatThrownBy(() -> st.require("mean")).isInstanceOf(FormatException.class)
                .hasMessageContaining("tensor 'mean' is missing (the shards hold [weights, logits, codes])");
    }

    @Test
    void rewritingAsOneFileRemovesTheShardsAndViceVersa() throws IOException {
        write(30);
        write(1000);
        assertThat(files(dir)).containsExactly("model.safetensors");
        write(30);
        assertThat(files(dir)).hasSize(5).doesNotContain("model.safetensors");
    }

    @Test
    void aMissingShardIsNamed() throws IOException {
        write(30);
        Path shard = dir.resolve("model-00003-of-00004.safetensors");
        Files.delete(shard);
        assertThatThrownBy(() -> ShardedSafeTensors.read(dir, "model")).isInstanceOf(FormatException.class)
                .hasMessage(shard + ": file not found");
    }

    @Test
    void aDamagedShardIsNamedByItsDigest() throws IOException {
        write(30);
        Path shard = dir.resolve("model-00002-of-00004.safetensors");
        byte[] bytes = Files.readAllBytes(shard);
        bytes[bytes.length - 1] ^= 1;
        Files.write(shard, bytes);
        assertThatThrownBy(() -> ShardedSafeTensors.read(dir, "model")).isInstanceOf(FormatException.class)
                .hasMessageStartingWith(shard + ": sha256: the shard's SHA-256 is ")
                .hasMessageContaining("but model.safetensors.index.json records");
    }

    @Test
    void aTruncatedShardIsNamed() throws IOException {
        write(30);
        Path shard = dir.resolve("model-00004-of-00004.safetensors");
        byte[] bytes = Files.readAllBytes(shard);
        Files.write(shard, java.util.Arrays.copyOf(bytes, bytes.length - 4));
        assertThatThrownBy(() -> ShardedSafeTensors.read(dir, "model")).isInstanceOf(FormatException.class)
                .hasMessageStartingWith(shard + ": tensor 'codes': data_offsets [0, 16] outside the 12 data bytes");
    }

    @Test
    void anIndexThatDisagreesWithItsShardsIsRefused() throws IOException {
        write(30);
        Path index = dir.resolve("model.safetensors.index.json");
        String text = Files.readString(index);
        Files.writeString(index, text.replace("\"total_size\" : 84", "\"total_size\" : 85"));
        assertThatThrownBy(() -> ShardedSafeTensors.read(dir, "model")).isInstanceOf(FormatException.class)
                .hasMessage(index + ": metadata.total_size: 85 but the shards hold 84 data bytes");
        Files.writeString(index, text.replace("\"codes\" : \"model-00004", "\"codes\" : \"model-00003"));
        assertThatThrownBy(() -> ShardedSafeTensors.read(dir, "model")).isInstanceOf(FormatException.class)
                .hasMessageContaining("metadata.shards: shard model-00004-of-00004.safetensors holds no tensor of weight_map");
        Files.writeString(index, text.replace("\"model-00004-of-00004.safetensors\" : \"",
                "\"../model-00004-of-00004.safetensors\" : \""));
        assertThatThrownBy(() -> ShardedSafeTensors.read(dir, "model")).isInstanceOf(FormatException.class)
                .hasMessageContaining("no SHA-256 for shard model-00004-of-00004.safetensors");
        Files.writeString(index, text.replace("\"weight_map\"", "\"weights_map\""));
        assertThatThrownBy(() -> ShardedSafeTensors.read(dir, "model")).isInstanceOf(FormatException.class)
                .hasMessageContaining(index + ": weights_map: unknown field");
        Files.writeString(index, text);
        Files.writeString(dir.resolve("model.safetensors"), "stale");
        assertThatThrownBy(() -> ShardedSafeTensors.read(dir, "model")).isInstanceOf(FormatException.class)
                .hasMessage(dir + ": holds both model.safetensors and model.safetensors.index.json; one folder stores"
                        + " its tensors one way: remove the stale one");
    }

    @Test
    void aShardSizeOutOfRangeOrBelowOneRowIsRefusedBeforeWriting() {
        assertThatThrownBy(() -> ShardedSafeTensors.plan("test", "model", sources(), Map.of(), 0))
                .isInstanceOf(InvalidArgumentException.class).hasMessageContaining("maxShardBytes");
        assertThatThrownBy(() -> ShardedSafeTensors.plan("test", "model", sources(), Map.of(), 10))
                .isInstanceOf(InvalidArgumentException.class)
                .hasMessage("test: tensor 'logits' [5, 3] has rows of 12 bytes, more than a shard's 10");
    }
}
