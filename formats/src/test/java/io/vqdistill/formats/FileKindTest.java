package io.vqdistill.formats;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.vqdistill.api.FormatException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** What a path is, in words, and readers that say so instead of "not found" or waiting on a pipe. */
class FileKindTest {
    @TempDir
    Path dir;

    private Path fifo(String name) throws Exception {
        Path p = dir.resolve(name);
        Process proc = new ProcessBuilder("mkfifo", p.toString()).start();
        Assumptions.assumeTrue(proc.waitFor() == 0, "mkfifo");
        return p;
    }

    @Test
    void namesEveryKind() throws Exception {
        assertThat(FileKind.of(dir)).isEqualTo(FileKind.FOLDER);
        assertThat(FileKind.of(Files.writeString(dir.resolve("f"), "x"))).isEqualTo(FileKind.REGULAR_FILE);
        assertThat(FileKind.of(dir.resolve("none"))).isEqualTo(FileKind.MISSING);
        assertThat(FileKind.of(Files.createSymbolicLink(dir.resolve("link"), dir.resolve("gone"))))
                .isEqualTo(FileKind.DANGLING_LINK);
        assertThat(FileKind.of(fifo("pipe"))).isEqualTo(FileKind.FIFO);
        assertThat(FileKind.FIFO.words()).isEqualTo("a named pipe (FIFO)");
        assertThat(FileKind.isSpecial(dir.resolve("pipe"))).isTrue();
        assertThat(FileKind.isSpecial(dir.resolve("f"))).isFalse();
        if (Files.exists(Path.of("/dev/null"))) {
            assertThat(FileKind.of(Path.of("/dev/null"))).isEqualTo(FileKind.CHARACTER_DEVICE);
        }
    }

    @Test
    @Timeout(30)
    void readersReportAPipeWithoutOpeningIt() throws Exception {
        Path pipe = fifo("weights.safetensors");
        assertThatThrownBy(() -> SafeTensors.read(pipe)).isInstanceOf(FormatException.class)
                .hasMessage(pipe + ": file: is a named pipe (FIFO), not a regular file");
        assertThatThrownBy(() -> FileKind.requireRegularFile(pipe)).hasMessageContaining("named pipe");
        assertThatThrownBy(() -> FileKind.requireRegularFile(dir.resolve("none"))).hasMessageContaining(
                "file: not found");
        assertThatThrownBy(() -> FileKind.requireRegularFile(dir)).hasMessageContaining("is a folder");
    }
}
