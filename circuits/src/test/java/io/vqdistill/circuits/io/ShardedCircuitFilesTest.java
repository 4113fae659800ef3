package io.vqdistill.circuits.io;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.vqdistill.api.Backend;
import io.vqdistill.api.FormatException;
import io.vqdistill.api.Tensor;
import io.vqdistill.api.fake.FakeBackendProvider;
import io.vqdistill.api.model.LatentShape;
import io.vqdistill.api.search.LatentSet;
import io.vqdistill.api.spi.BackendOptions;
import io.vqdistill.circuits.LeafFamilies;
import io.vqdistill.circuits.ShallowMixture;
import io.vqdistill.formats.Digests;
import io.vqdistill.formats.ShardedSafeTensors;
import io.vqdistill.formats.TensorStore;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

/**
 * A circuit too large for one shard (here with a shard of 1,000 bytes; by default 1 GiB) is stored
 * as shards under {@code circuit.safetensors.index.json}, its categorical logits split along the
 * components, and reads back identically through {@link CircuitFiles#read}.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class ShardedCircuitFilesTest {
    private static final int N = 5;
    private static final int S = 6;
    private static final int V = 16;
    /** logits take 5 x 6 x 16 x 4 = 1,920 bytes, rows (components) of 384. */
    private static final long SHARD = 1000;

    private final Backend backend = new FakeBackendProvider().create(BackendOptions.defaults());

    @TempDir
    Path tmp;

    @AfterAll
    void closeBackend() {
        backend.close();
    }

    private ShallowMixture mixture() {
        SplittableRandom rng = new SplittableRandom(13);
        float[] logits = new float[N * S * V];
        for (int i = 0; i < logits.length; i++) {
            logits[i] = (float) rng.nextGaussian();
        }
        double[] weights = new double[N];
        int[] codes = new int[N * 4];
        int[] classes = new int[N];
        double[] scores = new double[N];
        for (int n = 0; n < N; n++) {
            weights[n] = rng.nextGaussian();
            classes[n] = n % 3;
            scores[n] = -n - 0.5;
            for (int p = 0; p < 4; p++) {
                codes[n * 4 + p] = (n + p * 3) % 7;
            }
        }
        try (Tensor t = backend.of(logits, N, S, V)) {
            return ShallowMixture.builder(LeafFamilies.create("categorical", Map.of("categories", "16")))
                    .parameters(Map.of("logits", t)).logWeights(weights).normaliseWeights()
                    .latents(new LatentSet(new LatentShape(2, 2, 7), codes, classes, scores)).build();
        }
    }

    private static List<String> files(Path dir) throws IOException {
        try (Stream<Path> s = Files.list(dir)) {
            return s.map(p -> p.getFileName().toString()).sorted().toList();
        }
    }

    @Test
    void aShardedCircuitReadsBackIdentically() throws IOException {
        Path dir = tmp.resolve("sharded");
        float[] levels = new float[3 * S];
        for (int i = 0; i < levels.length; i++) {
            levels[i] = (i * 7) % V;
        }
        try (ShallowMixture m = mixture(); Tensor x = backend.of(levels, 3, S); Tensor ll = m.logLikelihood(x)) {
            CircuitFiles.write(dir, m, Map.of("made_by", "test"), 3, SHARD);
            assertThat(files(dir)).containsExactly("circuit-00001-of-00003.safetensors",
                    "circuit-00002-of-00003.safetensors", "circuit-00003-of-00003.safetensors",
                    "circuit.json", "circuit.safetensors.index.json");
            assertThat(CircuitFiles.tensorFile(dir)).isEqualTo(dir.resolve(CircuitFiles.INDEX));
            assertThat(new ObjectMapper().readTree(dir.resolve(CircuitFiles.JSON).toFile()).path("tensors_sha256")
                    .asText()).as("circuit.json records the index's digest")
                    .isEqualTo(Digests.sha256(dir.resolve(CircuitFiles.INDEX)));
            try (ShallowMixture back = (ShallowMixture) CircuitFiles.read(dir, backend);
                 Tensor llBack = back.logLikelihood(x)) {
                // the family normalises logits again when the mixture is built: float32 rounding at most
                assertThat(back.parameters().get("logits").toFloatArray())
                        .containsExactly(m.parameters().get("logits").toFloatArray(), within(1e-6f));
                assertThat(back.logWeights()).containsExactly(m.logWeights(), within(1e-6));
                assertThat(back.latents().orElseThrow().codes()).containsExactly(m.latents().orElseThrow().codes());
                assertThat(back.latents().orElseThrow().classes()).containsExactly(0, 1, 2, 0, 1);
                assertThat(back.latents().orElseThrow().logProbs())
                        .containsExactly(m.latents().orElseThrow().logProbs());
                assertThat(llBack.toFloatArray()).containsExactly(ll.toFloatArray(), within(1e-5f));
            }
            assertThat(CircuitFiles.provenance(dir)).containsEntry("made_by", "test");

            Path single = tmp.resolve("single");
            CircuitFiles.write(single, m, Map.of(), 3, 1L << 20);
            TensorStore shards = ShardedSafeTensors.read(dir, CircuitFiles.STEM);
            TensorStore one = ShardedSafeTensors.read(single, CircuitFiles.STEM);
            assertThat(shards.names()).containsExactlyElementsOf(one.names());
            for (String name : one.names()) {
                assertThat(shards.get(name).data()).as("the bytes of %s", name).isEqualTo(one.get(name).data());
                assertThat(shards.get(name).shape()).isEqualTo(one.get(name).shape());
            }

            CircuitFiles.write(dir, m, Map.of(), 3, 1L << 20);
            assertThat(files(dir)).as("one file again, the shards gone")
                    .containsExactly("circuit.json", "circuit.safetensors");
            try (var back = CircuitFiles.read(dir, backend); Tensor llBack = back.logLikelihood(x)) {
                assertThat(llBack.toFloatArray()).containsExactly(ll.toFloatArray(), within(1e-5f));
            }
        }
    }

    @Test
    void aMissingOrDamagedShardIsNamed() throws IOException {
        Path dir = tmp.resolve("damaged");
        try (ShallowMixture m = mixture()) {
            CircuitFiles.write(dir, m, Map.of(), 3, SHARD);
        }
        Path shard = dir.resolve("circuit-00002-of-00003.safetensors");
        byte[] bytes = Files.readAllBytes(shard);
        bytes[bytes.length - 3] ^= 0x40;
        Files.write(shard, bytes);
        assertThatThrownBy(() -> CircuitFiles.read(dir, backend)).isInstanceOf(FormatException.class)
                .hasMessageStartingWith(shard + ": sha256: the shard's SHA-256 is");
        Files.delete(shard);
        assertThatThrownBy(() -> CircuitFiles.read(dir, backend)).isInstanceOf(FormatException.class)
                .hasMessage(shard + ": file not found");
    }

    @Test
    void aWrongShardSizePropertyIsNamed() {
        String old = System.setProperty(CircuitFiles.MAX_SHARD_BYTES_PROPERTY, "lots");
        try {
            assertThatThrownBy(CircuitFiles::maxShardBytes).hasMessage("-Dvqdistill.circuit.maxShardBytes must be a"
                    + " number of bytes in [1, 2147483647], found 'lots'");
            System.setProperty(CircuitFiles.MAX_SHARD_BYTES_PROPERTY, "4096");
            assertThat(CircuitFiles.maxShardBytes()).isEqualTo(4096);
        } finally {
            System.clearProperty(CircuitFiles.MAX_SHARD_BYTES_PROPERTY);
        }
        assertThat(CircuitFiles.maxShardBytes()).isEqualTo(1L << 30);
    }
}
