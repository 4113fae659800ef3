package io.vqdistill.cli;

import static io.vqdistill.cli.CliFixtures.run;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.vqdistill.api.DType;
import io.vqdistill.circuits.io.CircuitFiles;
import io.vqdistill.cli.CliFixtures.Run;
import io.vqdistill.distill.pipeline.SweepPipeline;
import io.vqdistill.formats.AtomicFolder;
import io.vqdistill.formats.SafeTensors;
import io.vqdistill.models.checkpoint.Checkpoint;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * distill and sweep on bad input and under faults, on a tiny VQ-VAE (2x2 grid, K = 4) and prior trained
 * in the test: every flag and the two checkpoints' consistency are checked before the search, and a
 * write killed at any instant leaves the previous circuit or sweep readable.
 */
class DistillFaultsTest {
    @TempDir
    static Path dir;

    static Path data;
    static Path vq;
    static Path prior;
    /** A circuit distilled with seed 1, copied before each write a test kills. */
    static Path base;

    @BeforeAll
    static void train() throws IOException {
        data = dir.resolve("mnist");
        CliFixtures.writeStripedMnist(data);
        vq = dir.resolve("vq");
        prior = dir.resolve("prior");
        run("train", "vqvae", "--backend", "djl", "--data", data.toString(), "--limit", "40", "--out", vq.toString(),
                "--grid", "2", "--codebook", "4", "--dim", "2", "--channels", "2,2,2,2", "--res-blocks", "0",
                "--epochs", "1", "--batch", "8");
        run("train", "prior", "--backend", "djl", "--data", data.toString(), "--limit", "40", "--vqvae", vq.toString(),
                "--out", prior.toString(), "--layers", "2", "--channels", "4", "--head-hidden", "8", "--epochs", "1",
                "--batch", "8");
        base = dir.resolve("base");
        run(distill(base, "--seed", "1"));
    }

    /** distill arguments writing {@code out} with 6 beam-search grids, then {@code more}. */
    static String[] distill(Path out, String... more) {
        List<String> args = new ArrayList<>(List.of("distill", "--backend", "djl", "--vqvae", vq.toString(), "--prior",
                prior.toString(), "--search", "beam", "--components", "6", "--out", out.toString()));
        args.addAll(List.of(more));
        return args.toArray(String[]::new);
    }

    /** Asserts a refusal before the search: status 2, the message, nothing on stdout, no output. */
    static void refusedBeforeTheSearch(Run r, Path out, String message) {
        assertThat(r.status()).as("status; stderr %s", r.err()).isEqualTo(2);
        assertThat(r.err()).startsWith("error: " + message);
        assertThat(r.out()).as("nothing searched or printed").isEmpty();
        CliFixtures.assertNoStackTrace(r);
        if (out != null) {
            assertThat(out).doesNotExist();
        }
    }

    static Path copy(Path from, Path to) throws IOException {
        Files.createDirectories(to);
        try (Stream<Path> s = Files.list(from)) {
            for (Path f : s.filter(Files::isRegularFile).toList()) {
                Files.copy(f, to.resolve(f.getFileName()));
            }
        }
        return to;
    }

    @Test
    void aPriorOfOtherGridsIsRefusedBeforeTheSearch() throws IOException {
        Path other = copy(prior, dir.resolve("prior-k8"));
        Path config = other.resolve(Checkpoint.CONFIG);
        Files.writeString(config, Files.readString(config).replace("\"codebook_size\" : 4", "\"codebook_size\" : 8"));
        Path out = dir.resolve("other-grids");
        Run r = CliFixtures.execute("distill", "--backend", "djl", "--vqvae", vq.toString(), "--prior", other.toString(),
                "--search", "beam", "--components", "6", "--out", out.toString());
        refusedBeforeTheSearch(r, out, "--prior " + other + " models 2x2 grids of K = 8 codes, but the VQ-VAE of"
                + " --vqvae " + vq + " makes 2x2 grids of K = 4 codes");
        Run sweep = CliFixtures.execute("sweep", "--backend", "djl", "--vqvae", vq.toString(), "--prior",
                other.toString(), "--search", "beam", "--max-exponent", "1", "--data", data.toString(), "--out",
                out.toString());
        refusedBeforeTheSearch(sweep, out, "--prior " + other + " models 2x2 grids of K = 8 codes");
    }

    @Test
    void everyFlagIsCheckedBeforeTheSearch() throws IOException {
        Path out = dir.resolve("flags");
        refusedBeforeTheSearch(CliFixtures.execute(distill(out, "--weights", "em", "--data", data.toString(),
                "--em-iterations", "0")), out, "--em-iterations must be in [1, 10000], found 0");
        refusedBeforeTheSearch(CliFixtures.execute(distill(out, "--weights", "em", "--data", data.toString(),
                "--em-images", "0")), out, "--em-images must be >= 1, found 0");
        refusedBeforeTheSearch(CliFixtures.execute(distill(out, "--limit", "40")), out,
                "--limit applies only to --weights em");
        refusedBeforeTheSearch(CliFixtures.execute(distill(out, "--weights", "prior", "--data", data.toString(),
                "--em-iterations", "3")), out, "--em-iterations, --data apply only to --weights em");
        refusedBeforeTheSearch(CliFixtures.execute(distill(out, "--min-std", "2")), out,
                "--min-std must be in (0, 1], found 2.0");
        refusedBeforeTheSearch(CliFixtures.execute(distill(out, "--beam-starts", "0")), out,
                "--beam-starts must be >= 1, found 0");
        refusedBeforeTheSearch(CliFixtures.execute(distill(out, "--beam-width", "-2")), out,
                "--beam-width must be >= 1, found -2");
        refusedBeforeTheSearch(CliFixtures.execute(distill(out, "--beam-scoring", "marginal")), out,
                "unknown --beam-scoring 'marginal'; known: per-class, class-marginal");
        refusedBeforeTheSearch(CliFixtures.execute(distill(out, "--random-classes", "class")), out,
                "unknown --random-classes 'class'; known: uniform, prior");
        refusedBeforeTheSearch(CliFixtures.execute(distill(out, "--random-classes", "prior")), out,
                "--random-classes prior applies only to --search random; --search beam does not read it: drop it");
        refusedBeforeTheSearch(CliFixtures.execute(distill(out, "--top-width-factor", "0")), out,
                "--top-width-factor must be >= 1, found 0");
        refusedBeforeTheSearch(CliFixtures.execute("sweep", "--backend", "djl", "--vqvae", vq.toString(), "--prior",
                prior.toString(), "--search", "top", "--beam-width", "4", "--max-exponent", "1", "--data",
                data.toString(), "--out", out.toString()), out,
                "--beam-width 4 applies only to --search beam; --search top does not read it: drop it");
        Path file = Files.writeString(dir.resolve("existing-file"), "keep me");
        refusedBeforeTheSearch(CliFixtures.execute(distill(file)), null,
                "--out " + file + " is an existing file, not a folder: choose a folder for the circuit");
        assertThat(Files.readString(file)).isEqualTo("keep me");
        refusedBeforeTheSearch(CliFixtures.execute("sweep", "--backend", "djl", "--vqvae", vq.toString(), "--prior",
                prior.toString(), "--search", "beam", "--max-exponent", "1", "--data", data.toString(), "--out",
                file.toString()), null, "--out " + file + " is an existing file, not a folder");
        Path missing = dir.resolve("no-vq");
        refusedBeforeTheSearch(CliFixtures.execute("distill", "--backend", "djl", "--vqvae", missing.toString(),
                "--prior", prior.toString(), "--search", "beam", "--components", "6", "--out", out.toString()), out,
                "--vqvae: " + missing + "/config.json: file: not found");
    }

    @Test
    void theCircuitRecordsThePriorsClassCount() throws IOException {
        assertThat(new ObjectMapper().readTree(base.resolve(CircuitFiles.JSON).toFile()).path("latents")
                .path("num_classes").asInt()).isEqualTo(10);
    }

    @Test
    void aDecoderThatOverflowsIsNamedWithItsCheckpointComponentAndGrid() throws IOException {
        Path broken = copy(vq, dir.resolve("vq-overflowing"));
        SafeTensors st = SafeTensors.read(broken.resolve(Checkpoint.WEIGHTS));
        List<SafeTensors.Entry> entries = new ArrayList<>();
        for (String name : st.names()) {
            SafeTensors.Entry e = st.get(name);
            if (name.startsWith("decoder.") && name.endsWith(".weight") && e.dtype() == DType.FLOAT32) {
                float[] v = e.toFloats();
                for (int i = 0; i < v.length; i++) {
                    v[i] = (i % 2 == 0 ? 3e37f : -3e37f);
                }
                e = SafeTensors.Entry.of(name, v, e.shape());
            }
            entries.add(e);
        }
        SafeTensors.write(broken.resolve(Checkpoint.WEIGHTS), entries, st.metadata());
        Path out = dir.resolve("from-overflowing");
        Run r = CliFixtures.execute("distill", "--backend", "djl", "--vqvae", broken.toString(), "--prior",
                prior.toString(), "--search", "beam", "--deterministic", "--components", "6", "--out", out.toString());
        assertThat(r.status()).as(r.err()).isEqualTo(2);
        assertThat(r.err()).startsWith("error: the decoder of the VQ-VAE checkpoint " + broken + " gave ")
                .containsPattern("gave (NaN|Infinity|-Infinity) for gaussian parameter '(mean|log_var)' of component"
                        + " \\d+ \\(grid \\[\\d, \\d, \\d, \\d\\], class \\d\\) at pixel \\d+ \\(row \\d+, column \\d+\\)")
                .doesNotContain("has NaN at [");
        CliFixtures.assertNoStackTrace(r);
        assertThat(out).doesNotExist();
    }

    @Test
    void aFolderHeldByAnotherWriterIsAnErrorBeforeTheSearch() throws IOException {
        Path out = copy(base, dir.resolve("held"));
        Path sweep = dir.resolve("held-sweep");
        try (AtomicFolder.Writer held = AtomicFolder.open(out); AtomicFolder.Writer heldSweep = AtomicFolder.open(sweep)) {
            Run r = CliFixtures.execute(distill(out));
            assertThat(r.status()).isEqualTo(2);
            assertThat(r.err()).startsWith("error: " + out.toAbsolutePath() + " is being written by another writer (pid "
                    + ProcessHandle.current().pid()).contains("wait for it to finish or choose another folder");
            assertThat(r.out()).as("no search ran").isEmpty();
            CliFixtures.assertNoStackTrace(r);
            Run s = CliFixtures.execute("sweep", "--backend", "djl", "--vqvae", vq.toString(), "--prior",
                    prior.toString(), "--search", "beam", "--max-exponent", "1", "--data", data.toString(), "--out",
                    sweep.toString());
            assertThat(s.status()).isEqualTo(2);
            assertThat(s.err()).contains("is being written by another writer");
            assertThat(s.out()).isEmpty();
            CliFixtures.assertNoStackTrace(s);
        }
        assertThat(CircuitFiles.provenance(out)).containsEntry("seed", "1");
    }

    /** A hook that simulates a kill at {@code at}, as AtomicFolder's own fault tests do. */
    static AtomicFolder.FaultHook killAt(AtomicFolder.Boundary at, List<AtomicFolder.Boundary> seen) {
        return new AtomicFolder.FaultHook() {
            @Override
            public void at(AtomicFolder.Boundary boundary, Path folder) {
                seen.add(boundary);
                if (boundary == at) {
                    throw new IllegalStateException("killed at " + boundary);
                }
            }
        };
    }

    @ParameterizedTest
    @EnumSource(value = AtomicFolder.Boundary.class, names = {"STAGED", "MOVED_ASIDE", "COMMITTED"})
    void aDistillKilledWhileWritingOverACircuitLeavesOneReadable(AtomicFolder.Boundary at) throws Exception {
        Path out = copy(base, dir.resolve("killed-" + at));
        List<AtomicFolder.Boundary> seen = new ArrayList<>();
        Run r;
        try (AutoCloseable hook = AtomicFolder.installFaultHook(killAt(at, seen))) {
            r = CliFixtures.execute(distill(out, "--seed", "2"));
        }
        assertThat(seen).contains(at);
        assertThat(r.status()).isEqualTo(Failures.INTERNAL);
        assertThat(r.err()).contains("killed at " + at);
        CliFixtures.assertNoStackTrace(r);
        String expected = at == AtomicFolder.Boundary.COMMITTED ? "2" : "1";
        assertThat(CircuitFiles.provenance(out)).containsEntry("seed", expected);
        String evaluated = run("evaluate", "--backend", "djl", "--circuit", out.toString(), "--data", data.toString());
        assertThat(evaluated).contains("test BPD");
    }

    @Test
    void aDistillWhoseDiskFailsKeepsThePreviousCircuit() throws Exception {
        Path out = copy(base, dir.resolve("full-disk"));
        Run r;
        try (AutoCloseable hook = AtomicFolder.installFaultHook(new AtomicFolder.FaultHook() {
            @Override
            public OutputStream wrap(Path file, OutputStream stream) {
                return new OutputStream() {
                    @Override
                    public void write(int b) throws IOException {
                        throw new IOException("No space left on device");
                    }
                };
            }
        })) {
            r = CliFixtures.execute(distill(out, "--seed", "2"));
        }
        assertThat(r.status()).isEqualTo(2);
        assertThat(r.err()).startsWith("error: ").contains("No space left on device");
        CliFixtures.assertNoStackTrace(r);
        assertThat(CircuitFiles.provenance(out)).containsEntry("seed", "1");
    }

    @Test
    @Timeout(300)
    void aDistillTerminatedBetweenTheRenamesLeavesThePreviousCircuit() throws Exception {
        Path out = copy(base, dir.resolve("sigterm"));
        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-cp", System.getProperty("surefire.test.class.path", System.getProperty("java.class.path"))));
        for (String p : new String[] {"ai.djl.offline", "org.bytedeco.javacpp.cachedir"}) {
            if (System.getProperty(p) != null) {
                cmd.add("-D" + p + "=" + System.getProperty(p));
            }
        }
        cmd.add(PausingChild.class.getName());
        cmd.add(AtomicFolder.Boundary.MOVED_ASIDE.name());
        cmd.addAll(List.of(distill(out, "--seed", "2")));
        Process child = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        List<String> lines = new ArrayList<>();
        try (BufferedReader in = new BufferedReader(new InputStreamReader(child.getInputStream(),
                StandardCharsets.UTF_8))) {
            for (String line = in.readLine(); line != null; line = in.readLine()) {
                lines.add(line);
                if (line.equals(PausingChild.PAUSED)) {
                    assertThat(out).as("the commit is between its renames").doesNotExist();
                    child.destroy();
                    break;
                }
            }
        }
        assertThat(child.waitFor(60, TimeUnit.SECONDS)).as("terminated; output %s", lines).isTrue();
        assertThat(lines).as("child output").contains(PausingChild.PAUSED);
        assertThat(child.exitValue()).isEqualTo(143);
        assertThat(CircuitFiles.provenance(out)).as("the previous circuit, restored").containsEntry("seed", "1");
        assertThat(run("evaluate", "--backend", "djl", "--circuit", out.toString(), "--data", data.toString()))
                .contains("test BPD");
    }

    @Test
    void aSweepIsOneCommitAndAKillKeepsThePreviousResults() throws Exception {
        Path out = dir.resolve("sweep");
        String[] sweep = {"sweep", "--backend", "djl", "--vqvae", vq.toString(), "--prior", prior.toString(),
            "--search", "beam", "--max-exponent", "1", "--data", data.toString(), "--limit", "10", "--out",
            out.toString()};
        List<AtomicFolder.Boundary> seen = new ArrayList<>();
        try (AutoCloseable hook = AtomicFolder.installFaultHook(killAt(null, seen))) {
            run(sweep);
        }
        assertThat(seen).as("the folder is written by one commit").containsExactly(AtomicFolder.Boundary.STAGED,
                AtomicFolder.Boundary.COMMITTED, AtomicFolder.Boundary.CLEANED);
        byte[] csv = Files.readAllBytes(out.resolve(SweepPipeline.CSV));
        byte[] png = Files.readAllBytes(out.resolve("sweep.png"));
        String[] again = sweep.clone();
        again[again.length - 3] = "3";
        Run r;
        try (AutoCloseable hook = AtomicFolder.installFaultHook(killAt(AtomicFolder.Boundary.MOVED_ASIDE,
                new ArrayList<>()))) {
            r = CliFixtures.execute(again);
        }
        assertThat(r.status()).isEqualTo(Failures.INTERNAL);
        CliFixtures.assertNoStackTrace(r);
        List<byte[]> kept = AtomicFolder.read(out, d -> {
            try {
                return List.of(Files.readAllBytes(d.resolve(SweepPipeline.CSV)), Files.readAllBytes(d.resolve("sweep.png")));
            } catch (IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
        });
        assertThat(kept.get(0)).as("the previous CSV").isEqualTo(csv);
        assertThat(kept.get(1)).as("the previous plot").isEqualTo(png);
    }
}
