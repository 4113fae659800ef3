package io.vqdistill.models.checkpoint;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.vqdistill.api.FormatException;
import io.vqdistill.api.VqdistillException;
import io.vqdistill.api.model.ImageShape;
import io.vqdistill.api.model.LatentShape;
import io.vqdistill.formats.AtomicFolder;
import io.vqdistill.formats.SafeTensors;
import io.vqdistill.models.train.DecoderHead;
import io.vqdistill.models.train.PriorSpec;
import io.vqdistill.models.train.VqVaeSpec;
import java.io.FilterOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.function.UnaryOperator;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Checkpoint folders under faults: a kill at every rename boundary over an existing checkpoint, a
 * full disk and a second writer leave the previous checkpoint whole (configuration and weights of
 * one version); non-finite weights, aliasing data and unknown configuration fields are errors naming
 * the file and the tensor or field. The quickstart checkpoints still read under the stricter checks.
 */
class CheckpointFaultTest {
    /** The quickstart's VQ-VAE and prior checkpoints as an earlier version wrote them (test resources). */
    private static final Path QUICKSTART = quickstart();

    private static Path quickstart() {
        try {
            return Path.of(CheckpointFaultTest.class.getResource("quickstart").toURI());
        } catch (java.net.URISyntaxException e) {
            throw new AssertionError(e);
        }
    }
    private static final VqVaeSpec SPEC = VqVaeSpec.defaults(ImageShape.MNIST, new LatentShape(4, 4, 16),
            DecoderHead.GAUSSIAN);

    @TempDir
    Path tmp;

    /** Version {@code v}: its metric and every weight equal {@code v}. */
    private static void write(Path dir, float v) {
        Checkpoint c = new Checkpoint(Checkpoint.KIND_VQVAE, SPEC.toJson(),
                Provenance.now(1, "synthetic", "fake", "Fake 1.0", 1, 1, Map.of()), Map.of("version", (double) v));
        c.write(dir, List.of(SafeTensors.Entry.of("codebook.weight", new float[] {v, v, v, v}, 2, 2),
                SafeTensors.Entry.of("class_log_prior", new float[] {Float.NEGATIVE_INFINITY, 0}, 2)));
    }

    /** The version in {@code dir}; configuration and weights must be of the same one. */
    private static float version(Path dir) {
        Checkpoint.Loaded c = Checkpoint.load(dir, Checkpoint.KIND_VQVAE);
        float v = c.config().metrics().get("version").floatValue();
        assertThat(c.weights().get("codebook.weight").toFloats()).containsOnly(v);
        return v;
    }

    private static List<String> leftovers(Path dir) throws IOException {
        try (Stream<Path> s = Files.list(dir.getParent())) {
            return s.map(p -> p.getFileName().toString()).filter(n -> n.startsWith("." + dir.getFileName() + "."))
                    .toList();
        }
    }

    @ParameterizedTest
    @EnumSource(AtomicFolder.Boundary.class)
    void aKillAtEveryBoundaryOverAnExistingCheckpointLeavesOneWholeVersion(AtomicFolder.Boundary at)
            throws Exception {
        Path dir = tmp.resolve("vqvae");
        write(dir, 1);
        Files.writeString(dir.resolve("metrics.csv"), "epoch\n1\n");
        try (AutoCloseable hook = AtomicFolder.installFaultHook(new AtomicFolder.FaultHook() {
            @Override
            public void at(AtomicFolder.Boundary boundary, Path folder) {
                if (boundary == at) {
                    throw new IllegalStateException("killed at " + boundary);
                }
            }
        })) {
            assertThatThrownBy(() -> write(dir, 2)).hasMessage("killed at " + at);
        }
        boolean renamed = at == AtomicFolder.Boundary.COMMITTED || at == AtomicFolder.Boundary.CLEANED;
        assertThat(Checkpoint.exists(dir)).isTrue();
        assertThat(version(dir)).isEqualTo(renamed ? 2f : 1f);
        assertThat(Checkpoint.read(dir).metrics().get("version")).isEqualTo(renamed ? 2.0 : 1.0);
        write(dir, 3);
        assertThat(version(dir)).isEqualTo(3f);
        assertThat(Files.readString(dir.resolve("metrics.csv"))).as("other files are kept").isEqualTo("epoch\n1\n");
        assertThat(leftovers(dir)).isEmpty();
    }

    @Test
    void aFullDiskOrASecondWriterLeavesThePreviousCheckpoint() throws Exception {
        Path dir = tmp.resolve("vqvae");
        write(dir, 1);
        try (AutoCloseable hook = AtomicFolder.installFaultHook(new AtomicFolder.FaultHook() {
            @Override
            public OutputStream wrap(Path file, OutputStream out) {
                return new FilterOutputStream(out) {
                    @Override
                    public void write(int b) throws IOException {
                        throw new IOException("No space left on device");
                    }
                };
            }
        })) {
            assertThatThrownBy(() -> write(dir, 2)).isInstanceOf(VqdistillException.class)
                    .hasMessageContaining(dir.toString()).hasMessageContaining("No space left on device");
        }
        assertThat(version(dir)).isEqualTo(1f);
        assertThat(leftovers(dir)).isEmpty();
        try (AtomicFolder.Writer other = AtomicFolder.open(dir)) {
            assertThatThrownBy(() -> write(dir, 2)).isInstanceOf(VqdistillException.class)
                    .hasMessageContaining(dir + " is being written by another writer")
                    .hasMessageContaining("pid " + ProcessHandle.current().pid());
            assertThatThrownBy(() -> Checkpoint.read(dir).writeConfig(dir)).isInstanceOf(VqdistillException.class)
                    .hasMessageContaining("is being written by another writer");
            assertThat(version(dir)).as("readers need no lock").isEqualTo(1f);
        }
        write(dir, 2);
        assertThat(version(dir)).isEqualTo(2f);
    }

    private static void rewriteWeights(Path dir, UnaryOperator<List<SafeTensors.Entry>> change) {
        SafeTensors st = SafeTensors.read(Checkpoint.weightsFile(dir));
        List<SafeTensors.Entry> entries = st.names().stream().map(st::get).toList();
        SafeTensors.write(Checkpoint.weightsFile(dir), change.apply(entries), st.metadata());
    }

    @Test
    void nonFiniteWeightsAreErrorsNamingFileTensorAndIndex() {
        Path dir = tmp.resolve("vqvae");
        write(dir, 1);
        Path file = Checkpoint.weightsFile(dir);
        assertThat(Checkpoint.weights(dir).get("class_log_prior").toFloats())
                .as("-inf: a class without training images").containsExactly(Float.NEGATIVE_INFINITY, 0);
        rewriteWeights(dir, e -> List.of(SafeTensors.Entry.of("codebook.weight", new float[] {1, 1, Float.NaN, 1}, 2, 2),
                e.get(1)));
        assertThatThrownBy(() -> Checkpoint.weights(dir)).isInstanceOf(FormatException.class).hasMessage(file
                + ": tensor 'codebook.weight': element 2 (index [1, 0]) is NaN; every value must be finite");
        assertThatThrownBy(() -> Checkpoint.load(dir, Checkpoint.KIND_VQVAE)).isInstanceOf(FormatException.class)
                .hasMessageContaining("'codebook.weight'");
        rewriteWeights(dir, e -> List.of(SafeTensors.Entry.of("codebook.weight", new float[] {1, 1, 1, 1}, 2, 2),
                SafeTensors.Entry.of("class_log_prior", new float[] {0, Float.POSITIVE_INFINITY}, 2)));
        assertThatThrownBy(() -> Checkpoint.weights(dir)).isInstanceOf(FormatException.class).hasMessage(file
                + ": tensor 'class_log_prior': element 1 (index [1]) is Infinity; every value must be finite or -inf");
        rewriteWeights(dir, e -> List.of(e.get(0), SafeTensors.Entry.of("running_var", new double[] {Double.NaN}, 1)));
        assertThatThrownBy(() -> Checkpoint.weights(dir)).isInstanceOf(FormatException.class).hasMessage(file
                + ": tensor 'running_var': element 0 (index [0]) is NaN; every value must be finite");
    }

    @Test
    void aliasingWeightDataIsAnErrorNamingFileAndTensors() throws IOException {
        Path dir = tmp.resolve("vqvae");
        Checkpoint c = new Checkpoint(Checkpoint.KIND_VQVAE, SPEC.toJson(),
                Provenance.now(1, "synthetic", "fake", "Fake 1.0", 1, 1, Map.of()), Map.of());
        c.write(dir, List.of(SafeTensors.Entry.of("a", new float[] {1, 2}, 2),
                SafeTensors.Entry.of("b", new float[] {3, 4}, 2)));
        Path file = Checkpoint.weightsFile(dir);
        byte[] bytes = Files.readAllBytes(file);
        int headerLength = (int) ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN).getLong(0);
        String header = new String(bytes, 8, headerLength, StandardCharsets.UTF_8);
        String aliased = header.replace("\"data_offsets\":[8,16]", "\"data_offsets\":[0, 8]");
        assertThat(aliased).isNotEqualTo(header).hasSize(headerLength);
        System.arraycopy(aliased.getBytes(StandardCharsets.UTF_8), 0, bytes, 8, headerLength);
        Files.write(file, bytes);
        assertThatThrownBy(() -> Checkpoint.weights(dir)).isInstanceOf(FormatException.class)
                .hasMessageStartingWith(file + ": tensor 'b': data_offsets [0, 8] alias tensor 'a'");
    }

    private static Path copyOf(Path from, Path to) throws IOException {
        try (Stream<Path> s = Files.walk(from)) {
            for (Path p : s.sorted(Comparator.naturalOrder()).toList()) {
                Path q = to.resolve(from.relativize(p).toString());
                if (Files.isDirectory(p)) {
                    Files.createDirectories(q);
                } else {
                    Files.copy(p, q);
                    q.toFile().setWritable(true);
                }
            }
        }
        return to;
    }

    private static void edit(Path dir, String from, String to) throws IOException {
        Path cfg = Checkpoint.configFile(dir);
        String text = Files.readString(cfg);
        assertThat(text).contains(from);
        Files.writeString(cfg, text.replace(from, to));
    }

    @Test
    void unknownConfigurationFieldsAreErrorsNamingFileAndPath() throws IOException {
        Path vq = copyOf(QUICKSTART.resolve("vqvae"), tmp.resolve("vqvae"));
        Path cfg = Checkpoint.configFile(vq);
        edit(vq, "\"beta\" : 10.0", "\"beta\" : 10.0,\n    \"dropout\" : 0.1");
        assertThatThrownBy(() -> VqVaeSpec.fromJson(Checkpoint.read(vq).architecture(), cfg))
                .isInstanceOf(FormatException.class)
                .hasMessageStartingWith(cfg + ": architecture.dropout: unknown field; expected only [");

        Path latent = copyOf(QUICKSTART.resolve("vqvae"), tmp.resolve("latent"));
        edit(latent, "\"codebook_size\" : 64", "\"codebook_size\" : 64, \"depth\" : 3");
        assertThatThrownBy(() -> VqVaeSpec.fromJson(Checkpoint.read(latent).architecture(),
                Checkpoint.configFile(latent))).hasMessageContaining("architecture.latent.depth: unknown field");

        Path top = copyOf(QUICKSTART.resolve("vqvae"), tmp.resolve("top"));
        edit(top, "\"kind\" : \"vqvae\",", "\"kind\" : \"vqvae\",\n  \"notes\" : \"x\",");
        assertThatThrownBy(() -> Checkpoint.read(top)).isInstanceOf(FormatException.class)
                .hasMessageStartingWith(Checkpoint.configFile(top) + ": notes: unknown field");

        Path provenance = copyOf(QUICKSTART.resolve("vqvae"), tmp.resolve("provenance"));
        edit(provenance, "\"seed\" : 1,", "\"seed\" : 1, \"user\" : \"me\",");
        assertThatThrownBy(() -> Checkpoint.read(provenance)).hasMessageContaining("provenance.user: unknown field");

        Path metric = copyOf(QUICKSTART.resolve("vqvae"), tmp.resolve("metric"));
        edit(metric, "\"codes_used\" : 62.0", "\"codes_used\" : \"62\"");
        assertThatThrownBy(() -> Checkpoint.read(metric)).isInstanceOf(FormatException.class)
                .hasMessageContaining("metrics.codes_used: expected a number or null (not finite), found \"62\"");

        Path prior = copyOf(QUICKSTART.resolve("prior"), tmp.resolve("prior"));
        edit(prior, "\"kernel\" : 3", "\"kernel\" : 3, \"dilation\" : 2");
        assertThatThrownBy(() -> PriorSpec.fromJson(Checkpoint.read(prior).architecture(),
                Checkpoint.configFile(prior))).hasMessageContaining("architecture.dilation: unknown field");
    }

    @Test
    void theQuickstartCheckpointsReadUnderTheStricterChecks() {
        Checkpoint.Loaded vq = Checkpoint.load(QUICKSTART.resolve("vqvae"), Checkpoint.KIND_VQVAE);
        VqVaeSpec spec = VqVaeSpec.fromJson(vq.config().architecture(), Checkpoint.configFile(QUICKSTART));
        assertThat(spec.latent().codebookSize()).isEqualTo(64);
        assertThat(vq.weights().names()).contains("codebook.weight");
        Checkpoint.Loaded prior = Checkpoint.load(QUICKSTART.resolve("prior"), Checkpoint.KIND_PRIOR);
        assertThat(PriorSpec.fromJson(prior.config().architecture(), Checkpoint.configFile(QUICKSTART)).numClasses())
                .isEqualTo(10);
        assertThatThrownBy(() -> Checkpoint.load(QUICKSTART.resolve("prior"), Checkpoint.KIND_VQVAE))
                .isInstanceOf(FormatException.class).hasMessageContaining("'prior' is not the expected 'vqvae'");
    }
}
