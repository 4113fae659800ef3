package io.vqdistill.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.inject.Injector;
import io.vqdistill.models.data.Mnist;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Assumptions;
import picocli.CommandLine;

/**
 * Shared by the command tests: a tiny synthetic MNIST folder and a command runner whose command lines
 * all come from one injector, as in a process.
 */
final class CliFixtures {
    /** The injector of every command line the tests build. */
    static final Injector INJECTOR = Main.createInjector();

    private CliFixtures() {
    }

    /**
     * Writes the four MNIST files into {@code data}: 10,040 training and 20 test images in which
     * digit c is a bright horizontal band at rows 2+2c .. 4+2c, so a tiny model learns it at once.
     */
    static void writeStripedMnist(Path data) throws IOException {
        Files.createDirectories(data);
        writeSet(data, Mnist.TRAIN_IMAGES, Mnist.TRAIN_LABELS, 10_040);
        writeSet(data, Mnist.TEST_IMAGES, Mnist.TEST_LABELS, 20);
    }

    private static void writeSet(Path data, String images, String labels, int n) throws IOException {
        ByteBuffer img = ByteBuffer.allocate(16 + n * 784).putInt(0x803).putInt(n).putInt(28).putInt(28);
        ByteBuffer lab = ByteBuffer.allocate(8 + n).putInt(0x801).putInt(n);
        for (int i = 0; i < n; i++) {
            int c = i % 10;
            for (int p = 0; p < 784; p++) {
                int y = p / 28;
                img.put((byte) (y >= 2 + 2 * c && y < 5 + 2 * c ? 220 : 0));
            }
            lab.put((byte) c);
        }
        Files.write(data.resolve(images), img.array());
        Files.write(data.resolve(labels), lab.array());
    }

    /** The exit status and the printed output of one command. */
    record Run(int status, String out, String err) {
    }

    /** A command line on {@link #INJECTOR}. */
    static CommandLine commandLine() {
        return Main.commandLine(INJECTOR);
    }

    /** Runs a vqdistill command and returns its status and output, whatever the status. */
    static Run execute(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        CommandLine cl = commandLine();
        cl.setOut(new PrintWriter(out));
        cl.setErr(new PrintWriter(err));
        int status = cl.execute(args);
        return new Run(status, out.toString(), err.toString());
    }

    /** Asserts that a command printed no stack trace. */
    static void assertNoStackTrace(Run r) {
        assertThat(r.err()).as("stderr").doesNotContain("\tat ").doesNotContain("Exception in thread");
        assertThat(r.out()).as("stdout").doesNotContain("\tat ");
    }

    /** Makes a named pipe at {@code path} with {@code mkfifo}; the test is skipped where there is none. */
    static Path mkfifo(Path path) throws IOException, InterruptedException {
        Process p;
        try {
            p = new ProcessBuilder("mkfifo", path.toString()).redirectErrorStream(true).start();
        } catch (IOException e) {
            Assumptions.abort("no mkfifo here: " + e.getMessage());
            throw e;
        }
        Assumptions.assumeTrue(p.waitFor() == 0, "mkfifo failed");
        return path;
    }

    /** Runs a vqdistill command, asserts exit status 0 and returns what it printed. */
    static String run(String... args) {
        Run r = execute(args);
        assertThat(r.status()).as("exit status; stderr: %s; stdout: %s", r.err(), r.out()).isZero();
        return r.out();
    }
}
