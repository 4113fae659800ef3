package io.vqdistill.formats;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.vqdistill.api.VqdistillException;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFileAttributeView;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Atomic writes: the target holds the old content or the new, and no temporary file stays behind. */
class AtomicFilesTest {
    @TempDir
    Path dir;

    private List<String> names(Path folder) throws IOException {
        try (Stream<Path> files = Files.list(folder)) {
            return files.map(p -> p.getFileName().toString()).sorted().toList();
        }
    }

    @Test
    void writesTheContentCreatingMissingFolders() throws IOException {
        Path target = dir.resolve("a").resolve("b").resolve("config.json");
        AtomicFiles.writeString(target, "{\"größe\": 1}\n");
        assertThat(Files.readString(target, StandardCharsets.UTF_8)).isEqualTo("{\"größe\": 1}\n");
        assertThat(names(target.getParent())).containsExactly("config.json");
        if (Files.getFileStore(target).supportsFileAttributeView(PosixFileAttributeView.class)) {
            assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(target))).isEqualTo("rw-r--r--");
        }
    }

    @Test
    void replacesAnExistingFileWhole() throws IOException {
        Path target = dir.resolve("weights.bin");
        Files.write(target, new byte[1000]);
        AtomicFiles.write(target, out -> {
            out.write(new byte[] {1, 2, 3});
            out.write(4);
        });
        assertThat(Files.readAllBytes(target)).containsExactly(1, 2, 3, 4);
        AtomicFiles.writeString(target, "");
        assertThat(Files.size(target)).isZero();
        assertThat(names(dir)).containsExactly("weights.bin");
    }

    @Test
    void anIoFailureKeepsTheOldContentAndRemovesTheTemporaryFile() throws IOException {
        Path target = dir.resolve("circuit.json");
        Files.writeString(target, "old");
        assertThatThrownBy(() -> AtomicFiles.write(target, out -> {
            out.write("new, but only ha".getBytes(StandardCharsets.UTF_8));
            throw new IOException("disk full");
        })).isInstanceOf(VqdistillException.class).hasMessage("cannot write " + target + ": disk full")
                .hasCauseInstanceOf(IOException.class);
        assertThat(Files.readString(target)).isEqualTo("old");
        assertThat(names(dir)).containsExactly("circuit.json");
    }

    @Test
    void anyOtherFailurePropagatesUnchangedAndLeavesNoFileBehind() throws IOException {
        Path target = dir.resolve("fresh.safetensors");
        UncheckedIOException failure = new UncheckedIOException(new IOException("engine gone"));
        assertThatThrownBy(() -> AtomicFiles.write(target, out -> {
            out.write(new byte[70_000]);
            throw failure;
        })).isSameAs(failure);
        assertThat(target).doesNotExist();
        assertThat(names(dir)).isEmpty();
    }

    @Test
    void aFolderInTheWayIsAnErrorNamingTheTarget() throws IOException {
        Path target = dir.resolve("taken");
        Files.createDirectories(target.resolve("child"));
        assertThatThrownBy(() -> AtomicFiles.writeString(target, "x")).isInstanceOf(VqdistillException.class)
                .hasMessageStartingWith("cannot write " + target + ": ");
        assertThat(target.resolve("child")).isDirectory();
        assertThat(names(dir)).containsExactly("taken");
    }
}
