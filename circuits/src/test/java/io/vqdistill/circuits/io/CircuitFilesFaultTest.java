package io.vqdistill.circuits.io;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.vqdistill.api.Backend;
import io.vqdistill.api.DType;
import io.vqdistill.api.FormatException;
import io.vqdistill.api.InvalidArgumentException;
import io.vqdistill.api.Tensor;
import io.vqdistill.api.TensorScope;
import io.vqdistill.api.VqdistillException;
import io.vqdistill.api.circuit.Circuit;
import io.vqdistill.api.circuit.LeafFamily;
import io.vqdistill.api.fake.FakeBackendProvider;
import io.vqdistill.api.model.LatentShape;
import io.vqdistill.api.search.LatentSet;
import io.vqdistill.api.spi.BackendOptions;
import io.vqdistill.circuits.CircuitBuilder;
import io.vqdistill.circuits.DagCircuit;
import io.vqdistill.circuits.LeafFamilies;
import io.vqdistill.circuits.ShallowMixture;
import io.vqdistill.formats.AtomicFolder;
import io.vqdistill.formats.SafeTensors;
import java.io.FilterOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.function.UnaryOperator;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Circuit folders under faults: a kill at every rename boundary over an existing circuit, a full
 * disk, two writers, and damaged files (non-finite numbers in every tensor kind, aliasing data,
 * unknown fields, a wrong parameter count or class tag). The previous circuit always stays
 * readable, and every error names the file and the field or tensor.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class CircuitFilesFaultTest {
    private final Backend backend = new FakeBackendProvider().create(BackendOptions.defaults());

    @TempDir
    Path tmp;

    @AfterAll
    void closeBackend() {
        backend.close();
    }

    /** A 2-component Gaussian mixture over 3 variables whose first mean is {@code tag}, with latents. */
    private ShallowMixture mixture(float tag, int[] classes) {
        LeafFamily gaussian = LeafFamilies.create("gaussian");
        // built outside a scope: the mixture's own copies must outlive this method
        try (Tensor mean = backend.of(new float[] {tag, 1, 2, 3, 4, 5}, 2, 3);
             Tensor logVar = backend.zeros(DType.FLOAT32, 2, 3)) {
            LatentSet latents = new LatentSet(new LatentShape(1, 2, 4), new int[] {0, 1, 2, 3}, classes,
                    new double[] {-1, Double.NaN});
            return ShallowMixture.builder(gaussian).parameters(Map.of("mean", mean, "log_var", logVar))
                    .logWeights(new double[] {Math.log(0.25), Math.log(0.75)}).latents(latents).build();
        }
    }

    private ShallowMixture mixture(float tag) {
        return mixture(tag, new int[] {3, -1});
    }

    private void write(Path dir, float tag) {
        try (ShallowMixture m = mixture(tag)) {
            CircuitFiles.write(dir, m, Map.of("tag", Float.toString(tag)));
        }
    }

    /** The tag of the circuit in {@code dir}, read whole (the hash ties both files together). */
    private float tag(Path dir) {
        try (ShallowMixture m = (ShallowMixture) CircuitFiles.read(dir, backend); TensorScope scope = TensorScope.open()) {
            float tag = m.parameters().get("mean").toFloatArray()[0];
            assertThat(CircuitFiles.provenance(dir)).containsEntry("tag", Float.toString(tag));
            return tag;
        }
    }

    private static List<String> leftovers(Path dir) throws IOException {
        try (Stream<Path> s = Files.list(dir.getParent())) {
            return s.map(p -> p.getFileName().toString()).filter(n -> n.startsWith("." + dir.getFileName() + "."))
                    .toList();
        }
    }

    // ---- kills, full disks, two writers -------------------------------------------------------

    @ParameterizedTest
    @EnumSource(AtomicFolder.Boundary.class)
    void aKillAtEveryBoundaryOverAnExistingCircuitLeavesAReadableCircuit(AtomicFolder.Boundary at) throws Exception {
        Path dir = tmp.resolve("circuit");
        write(dir, 1);
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
        assertThat(CircuitFiles.exists(dir)).isTrue();
        assertThat(tag(dir)).isEqualTo(renamed ? 2f : 1f);
        write(dir, 3);
        assertThat(tag(dir)).isEqualTo(3f);
        assertThat(leftovers(dir)).isEmpty();
        try (Stream<Path> s = Files.list(dir)) {
            assertThat(s.map(p -> p.getFileName().toString())).containsExactlyInAnyOrder(CircuitFiles.JSON,
                    CircuitFiles.TENSORS);
        }
    }

    @Test
    void aFullDiskWhileWritingLeavesThePreviousCircuit() throws Exception {
        Path dir = tmp.resolve("circuit");
        write(dir, 1);
        for (long after : new long[] {0, 100, 200}) {
            try (AutoCloseable hook = AtomicFolder.installFaultHook(new AtomicFolder.FaultHook() {
                @Override
                public OutputStream wrap(Path file, OutputStream out) {
                    return failingAfter(after, out);
                }
            })) {
                assertThatThrownBy(() -> write(dir, 2)).isInstanceOf(VqdistillException.class)
                        .hasMessageContaining(dir.toString()).hasMessageContaining("No space left on device");
            }
            assertThat(tag(dir)).isEqualTo(1f);
            assertThat(leftovers(dir)).isEmpty();
        }
        write(dir, 2);
        assertThat(tag(dir)).isEqualTo(2f);
    }

    static OutputStream failingAfter(long bytes, OutputStream out) {
        return new FilterOutputStream(out) {
            private long written;

            @Override
            public void write(int b) throws IOException {
                if (++written > bytes) {
                    throw new IOException("No space left on device");
                }
                out.write(b);
            }

            @Override
            public void write(byte[] b, int off, int len) throws IOException {
                for (int i = 0; i < len; i++) {
                    write(b[off + i]);
                }
            }
        };
    }

    @Test
    void aSecondWriterFailsAtOnceNamingTheFolderAndTheFirstOneFinishes() throws Exception {
        Path dir = tmp.resolve("circuit");
        write(dir, 1);
        CountDownLatch staged = new CountDownLatch(1);
        CountDownLatch go = new CountDownLatch(1);
        CompletableFuture<Void> first = CompletableFuture.runAsync(() -> {
            try (AutoCloseable hook = AtomicFolder.installFaultHook(new AtomicFolder.FaultHook() {
                @Override
                public void at(AtomicFolder.Boundary boundary, Path folder) {
                    if (boundary == AtomicFolder.Boundary.STAGED) {
                        staged.countDown();
                        try {
                            go.await(30, TimeUnit.SECONDS);
                        } catch (InterruptedException e) {
                            Thread.currentThread().interrupt();
                        }
                    }
                }
            })) {
                write(dir, 2);
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        });
        assertThat(staged.await(30, TimeUnit.SECONDS)).isTrue();
        assertThatThrownBy(() -> write(dir, 3)).isInstanceOf(VqdistillException.class)
                .hasMessageContaining(dir + " is being written by another writer")
                .hasMessageContaining("pid " + ProcessHandle.current().pid());
        assertThat(tag(dir)).as("readers take no lock").isEqualTo(1f);
        go.countDown();
        first.get(30, TimeUnit.SECONDS);
        assertThat(tag(dir)).isEqualTo(2f);
        write(dir, 3);
        assertThat(tag(dir)).isEqualTo(3f);
    }

    // ---- damaged files ------------------------------------------------------------------------

    /** Rewrites the tensor file of {@code dir} with {@code change} applied and the JSON's hash updated. */
    private static void rewrite(Path dir, UnaryOperator<SafeTensors.Entry> change) {
        SafeTensors st = SafeTensors.read(dir.resolve(CircuitFiles.TENSORS));
        List<SafeTensors.Entry> entries = new ArrayList<>();
        for (String name : st.names()) {
            entries.add(change.apply(st.get(name)));
        }
        SafeTensors.write(dir.resolve(CircuitFiles.TENSORS), entries, st.metadata());
        editJson(dir, json -> json.replaceAll("\"tensors_sha256\" : \"[0-9a-f]+\"", "\"tensors_sha256\" : \""
                + sha256(dir.resolve(CircuitFiles.TENSORS)) + "\""));
    }

    private static void editJson(Path dir, UnaryOperator<String> edit) {
        try {
            Path json = dir.resolve(CircuitFiles.JSON);
            String before = Files.readString(json);
            String after = edit.apply(before);
            assertThat(after).as("the edit changed circuit.json").isNotEqualTo(before);
            Files.writeString(json, after);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static String sha256(Path file) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(Files.readAllBytes(file)));
        } catch (IOException | NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    /** {@code entry} with element {@code index} set to {@code value} when it is named {@code name}. */
    private static UnaryOperator<SafeTensors.Entry> set(String name, int index, double value) {
        return e -> {
            if (!e.name().equals(name)) {
                return e;
            }
            if (e.dtype() == DType.FLOAT32) {
                float[] v = e.toFloats();
                v[index] = (float) value;
                return SafeTensors.Entry.of(name, v, e.shape());
            }
            if (e.dtype() == DType.FLOAT64) {
                double[] v = e.toDoubles();
                v[index] = value;
                return SafeTensors.Entry.of(name, v, e.shape());
            }
            int[] v = e.toInts();
            v[index] = (int) value;
            return SafeTensors.Entry.of(name, v, e.shape());
        };
    }

    private Path copyOf(Path from, String name) throws IOException {
        Path to = tmp.resolve(name);
        Files.createDirectories(to);
        for (String f : List.of(CircuitFiles.JSON, CircuitFiles.TENSORS)) {
            Files.copy(from.resolve(f), to.resolve(f));
        }
        return to;
    }

    private void assertReadFails(Path dir, String file, String... parts) {
        var thrown = assertThatThrownBy(() -> CircuitFiles.read(dir, backend).close()).isInstanceOf(FormatException.class)
                .hasMessageContaining(dir.resolve(file).toString());
        for (String p : parts) {
            thrown.hasMessageContaining(p);
        }
    }

    @Test
    void aReadOnlyCircuitReadsInPlaceWithoutALockOrAWrite() throws IOException {
        Path dir = tmp.resolve("read-only");
        write(dir, 1);
        try (var files = Files.list(dir)) {
            files.forEach(f -> f.toFile().setWritable(false));
        }
        dir.toFile().setWritable(false);
        dir.getParent().toFile().setWritable(false);
        try (Circuit c = CircuitFiles.read(dir, backend)) {
            assertThat(c.numVariables()).isEqualTo(3);
        } finally {
            dir.getParent().toFile().setWritable(true);
            dir.toFile().setWritable(true);
        }
    }

    @Test
    void nonFiniteNumbersInEveryCircuitTensorAreErrorsNamingTensorAndIndex() throws IOException {
        Path good = tmp.resolve("good");
        write(good, 1);
        Path nanMean = copyOf(good, "nan-mean");
        rewrite(nanMean, set("mean", 4, Double.NaN));
        assertReadFails(nanMean, CircuitFiles.TENSORS, "tensor 'mean': element 4 (index [1, 1]) is NaN",
                "every value must be finite");
        Path infVar = copyOf(good, "inf-log-var");
        rewrite(infVar, set("log_var", 2, Double.POSITIVE_INFINITY));
        assertReadFails(infVar, CircuitFiles.TENSORS, "tensor 'log_var': element 2 (index [0, 2]) is Infinity");
        Path nanWeight = copyOf(good, "nan-weight");
        rewrite(nanWeight, set("log_weights", 1, Double.NaN));
        assertReadFails(nanWeight, CircuitFiles.TENSORS, "tensor 'log_weights': element 1 (index [1]) is NaN",
                "finite or -inf");
        Path infWeight = copyOf(good, "inf-weight");
        rewrite(infWeight, set("log_weights", 0, Double.POSITIVE_INFINITY));
        assertReadFails(infWeight, CircuitFiles.TENSORS, "tensor 'log_weights': element 0 (index [0]) is Infinity");
        Path infScore = copyOf(good, "inf-score");
        rewrite(infScore, set("latent_log_probs", 0, Double.POSITIVE_INFINITY));
        assertReadFails(infScore, CircuitFiles.TENSORS, "tensor 'latent_log_probs'", "element 0 is Infinity");

        // a component that is never used (log weight -inf) and an unknown score (NaN) are fine
        Path unused = copyOf(good, "unused");
        rewrite(unused, e -> e.name().equals("log_weights")
                ? SafeTensors.Entry.of("log_weights", new float[] {Float.NEGATIVE_INFINITY, 0}, 2) : e);
        try (ShallowMixture m = (ShallowMixture) CircuitFiles.read(unused, backend)) {
            assertThat(m.logWeights()).containsExactly(Double.NEGATIVE_INFINITY, 0);
        }

        // a DAG's edge weights
        CircuitBuilder b = new CircuitBuilder(1);
        int x0 = b.input(0);
        int x1 = b.input(0);
        b.sum(new int[] {x0, x1}, new double[] {Math.log(0.5), Math.log(0.5)});
        Path dag = tmp.resolve("dag");
        try (Tensor mean = backend.zeros(DType.FLOAT32, 2); Tensor logVar = backend.zeros(DType.FLOAT32, 2);
             DagCircuit d = DagCircuit.create(b.build(), LeafFamilies.create("gaussian"),
                     Map.of("mean", mean, "log_var", logVar))) {
            CircuitFiles.write(dag, d, Map.of());
        }
        try (Circuit back = CircuitFiles.read(dag, backend)) {
            assertThat(back.parameterCount()).isEqualTo(5);
        }
        rewrite(dag, set("edge_log_weights", 1, Double.NaN));
        assertReadFails(dag, CircuitFiles.TENSORS, "tensor 'edge_log_weights': element 1 (index [1]) is NaN");
    }

    @Test
    void aliasingTensorDataIsAnErrorNamingFileAndTensors() throws IOException {
        Path dir = tmp.resolve("alias");
        write(dir, 1);
        Path file = dir.resolve(CircuitFiles.TENSORS);
        byte[] bytes = Files.readAllBytes(file);
        ByteBuffer b = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN);
        int headerLength = (int) b.getLong(0);
        String header = new String(bytes, 8, headerLength, StandardCharsets.UTF_8);
        // point log_var (the second [2, 3] float tensor) at the bytes of mean, keeping the header length
        String meanOffsets = header.replaceAll(".*\"mean\":\\{[^}]*\"data_offsets\":(\\[[0-9]+,[0-9]+\\]).*", "$1");
        String aliased = header.replaceAll("(\"log_var\":\\{[^}]*\"data_offsets\":)\\[[0-9]+,[0-9]+\\]",
                "$1" + meanOffsets.replace("\\", ""));
        aliased = aliased.strip() + " ".repeat(headerLength - aliased.strip().length());
        assertThat(aliased).hasSize(headerLength).isNotEqualTo(header);
        System.arraycopy(aliased.getBytes(StandardCharsets.UTF_8), 0, bytes, 8, headerLength);
        Files.write(file, bytes);
        assertReadFails(dir, CircuitFiles.TENSORS, "alias tensor");
    }

    @Test
    void unknownFieldsWrongCountsAndClassTagsAreErrorsNamingTheField() throws IOException {
        Path good = tmp.resolve("good");
        write(good, 1);
        Path top = copyOf(good, "top");
        editJson(top, j -> j.replace("\"variables\" :", "\"dropout\" : 0.5,\n  \"variables\" :"));
        assertReadFails(top, CircuitFiles.JSON, "dropout: unknown field");
        Path latents = copyOf(good, "latents");
        editJson(latents, j -> j.replace("\"codebook_size\" : 4", "\"codebook_size\" : 4, \"depth\" : 2"));
        assertReadFails(latents, CircuitFiles.JSON, "latents.depth: unknown field");
        Path leaf = copyOf(good, "leaf");
        editJson(leaf, j -> j.replace("\"family\" : \"gaussian\"", "\"family\" : \"gaussian\", \"bias\" : 1"));
        assertReadFails(leaf, CircuitFiles.JSON, "leaf.bias: unknown field");
        Path dagField = copyOf(good, "dag-field");
        editJson(dagField, j -> j.replace("\"components\" : 2", "\"components\" : 2, \"units\" : 3"));
        assertReadFails(dagField, CircuitFiles.JSON, "units: unknown field");
        Path params = copyOf(good, "params");
        editJson(params, j -> j.replace("\"name\" : \"log_var\"", "\"name\" : \"log_std\""));
        assertReadFails(params, CircuitFiles.JSON, "leaf.parameters", "log_std", "log_var");

        Path count = copyOf(good, "count");
        editJson(count, j -> j.replace("\"parameter_count\" : 13", "\"parameter_count\" : 12"));
        assertReadFails(count, CircuitFiles.JSON, "parameter_count: 12 but the tensors of circuit.safetensors hold 13"
                + " free parameters");

        Path negative = copyOf(good, "negative");
        rewrite(negative, set("classes", 1, -2));
        assertReadFails(negative, CircuitFiles.TENSORS, "tensor 'classes': element 1 is -2, outside -1 (none) and the"
                + " classes 0, 1, ...");
    }

    @Test
    void classTagsAreCheckedAgainstTheRecordedClassCount() throws IOException {
        Path dir = tmp.resolve("classes");
        try (ShallowMixture m = mixture(1, new int[] {9, -1})) {
            CircuitFiles.write(dir, m, Map.of("tag", "1.0"), 10);
        }
        assertThat(Files.readString(dir.resolve(CircuitFiles.JSON))).contains("\"num_classes\" : 10");
        assertThat(tag(dir)).isEqualTo(1f);
        Path bad = copyOf(dir, "bad");
        rewrite(bad, set("classes", 0, 42));
        assertReadFails(bad, CircuitFiles.TENSORS, "tensor 'classes': element 0 is 42, outside [-1, 10) for 10"
                + " classes (latents.num_classes in circuit.json)");

        Path refused = tmp.resolve("refused");
        try (ShallowMixture m = mixture(1, new int[] {42, -1})) {
            assertThatThrownBy(() -> CircuitFiles.write(refused, m, Map.of(), 10))
                    .isInstanceOf(InvalidArgumentException.class)
                    .hasMessage("circuit latents: class tag 0 is 42, outside [-1, 10) for 10 classes");
        }
        assertThat(refused).doesNotExist();
    }
}
