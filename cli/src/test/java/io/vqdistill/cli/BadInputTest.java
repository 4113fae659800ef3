package io.vqdistill.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.vqdistill.api.InvalidArgumentException;
import io.vqdistill.cli.CliFixtures.Run;
import io.vqdistill.cli.options.MemoryBudget;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/**
 * Bad input that needs no model: every case ends with one clear message naming the flag and a
 * non-zero exit status, before any work and without a stack trace.
 */
class BadInputTest {
    @TempDir
    Path dir;

    /** A command that fails with {@code failure}, added to a command line to see how Main reports it. */
    @CommandLine.Command(name = "fail", description = "fails")
    static final class Failing implements Callable<Integer> {
        private final RuntimeException runtime;
        private final Error error;

        Failing(RuntimeException runtime, Error error) {
            this.runtime = runtime;
            this.error = error;
        }

        @CommandLine.Option(names = "--components")
        int components;

        @Override
        public Integer call() {
            if (error != null) {
                throw error;
            }
            throw runtime;
        }
    }

    private static Run executeWith(Failing failing, String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        CommandLine cl = CliFixtures.commandLine();
        cl.addSubcommand("fail", failing);
        cl.setOut(new PrintWriter(out));
        cl.setErr(new PrintWriter(err));
        int status = cl.execute(args);
        return new Run(status, out.toString(), err.toString());
    }

    @Test
    @Timeout(120)
    void threadsAboveTheCoresAreRefusedNamingTheFlag() {
        int cores = Runtime.getRuntime().availableProcessors();
        String[][] commands = {{"evaluate", "--threads", "100000", "--circuit", dir.toString()},
            {"bench", "--threads", "100000"},
            {"distill", "--threads", "100000", "--vqvae", "v", "--prior", "p", "--search", "beam", "--components", "1",
                "--out", dir.resolve("o").toString()}};
        for (String[] args : commands) {
            String command = args[0];
            Run r = CliFixtures.execute(args);
            assertThat(r.status()).as(command).isEqualTo(2);
            assertThat(r.err()).as(command).startsWith("error: --threads must be in [0, " + cores + "]")
                    .contains("this machine has " + cores + " cores").contains("found 100000");
            CliFixtures.assertNoStackTrace(r);
        }
        Run negative = CliFixtures.execute("bench", "--threads", "-1");
        assertThat(negative.status()).isEqualTo(2);
        assertThat(negative.err()).contains("--threads must be in [0, " + cores + "]").contains("found -1");
    }

    @Test
    void anUnknownCommandIsAnErrorEvenWithHelp() {
        for (String[] args : new String[][] {{"NOSUCHCOMMAND", "--help"}, {"NOSUCHCOMMAND"}, {"--help", "nosuch"}}) {
            Run r = CliFixtures.execute(args);
            assertThat(r.status()).as(String.join(" ", args)).isEqualTo(2);
            assertThat(r.err()).as(String.join(" ", args)).contains("error: unknown command '")
                    .contains("the commands of 'vqdistill' are: backends, bench, classify, compile, data, distill, enumerate,"
                        + " evaluate, exact,")
                    .contains("quickstart").contains("Try 'vqdistill --help'");
            assertThat(r.out()).as("no usage on stdout").doesNotContain("Usage:");
        }
        Run sub = CliFixtures.execute("train", "nosuch", "--help");
        assertThat(sub.status()).isEqualTo(2);
        assertThat(sub.err()).contains("unknown command 'nosuch'; the commands of 'vqdistill train' are: classifier, cm,"
                + " einet, prior, vqvae");
        Run option = CliFixtures.execute("evaluate", "--circuit", "c", "--no-such-flag");
        assertThat(option.status()).isEqualTo(2);
        assertThat(option.err()).contains("error: Unknown option: '--no-such-flag'")
                .contains("Try 'vqdistill evaluate --help'");
        assertThat(CliFixtures.execute("--help").status()).isZero();
    }

    @Test
    void outOfMemoryIsOneMessageNamingTheHeapAndTheFlags() {
        Run r = executeWith(new Failing(null, new OutOfMemoryError("Java heap space")), "fail", "--components", "3");
        assertThat(r.status()).isEqualTo(Failures.OUT_OF_MEMORY);
        assertThat(r.err()).startsWith("error: out of memory (Java heap space) in 'vqdistill fail'")
                .contains("the Java heap may use at most").contains("Ask for less (--components)")
                .contains("VQDISTILL_JAVA_OPTS=-Xmx");
        CliFixtures.assertNoStackTrace(r);
        Run wrapped = executeWith(new Failing(new IllegalStateException("engine failed",
                new OutOfMemoryError("Direct buffer memory")), null), "fail");
        assertThat(wrapped.status()).isEqualTo(Failures.OUT_OF_MEMORY);
        assertThat(wrapped.err()).contains("out of memory (Direct buffer memory)");
    }

    @Test
    void anInternalErrorIsOneMessageWithoutAStackTrace() {
        Run r = executeWith(new Failing(new NullPointerException("boom"), null), "fail");
        assertThat(r.status()).isEqualTo(Failures.INTERNAL);
        assertThat(r.err()).startsWith("error: internal error: java.lang.NullPointerException: boom (at ")
                .contains("-D" + Failures.TRACE_PROPERTY + "=true");
        CliFixtures.assertNoStackTrace(r);
    }

    @Test
    void aLeafTensorBeyondOneJavaArrayIsRefusedWhateverTheMachine() {
        // categorical logits of 20,000 x 784 x 256 = 4.0e9 floats; a Gaussian mixture never gets there
        assertThatThrownBy(() -> MemoryBudget.distillation("distill --components 20000", 20_000, 784, "categorical",
                "--components")).isInstanceOf(InvalidArgumentException.class).hasMessage("distill --components 20000:"
                + " a leaf tensor of 20,000 x 200,704 floats exceeds the 2,147,483,639 values of one Java array (at"
                + " most 10,699 components here): lower --components");
    }

    @Test
    void benchRefusesARequestThatCannotFitBeforeItStarts() {
        Run huge = CliFixtures.execute("bench", "--backend", "djl", "--components", "1000000", "--batch", "100000",
                "--variables", "100000");
        assertThat(huge.status()).isEqualTo(2);
        assertThat(huge.err()).startsWith("error: bench --components 1000000 --batch 100000 --variables 100000"
                + " needs about ").contains("of Java heap").contains("lower --components, --batch or --variables");
        assertThat(huge.out()).as("nothing ran").isEmpty();
        CliFixtures.assertNoStackTrace(huge);
        long need = 4L * (3L * 1_000_000 * 784 + 100_000L * 784);
        Assumptions.assumeTrue(Runtime.getRuntime().maxMemory() < need, "this JVM's heap holds the user's request");
        Run probe = CliFixtures.execute("bench", "--backend", "djl", "--components", "1000000", "--batch", "100000");
        assertThat(probe.status()).isEqualTo(2);
        assertThat(probe.err()).contains("needs about 9.1 GiB of Java heap for N = 1000000, B = 100000, S = 784")
                .containsAnyOf("VQDISTILL_JAVA_OPTS=-Xmx", "more than this machine's");
        Run zero = CliFixtures.execute("bench", "--components", "0");
        assertThat(zero.status()).isEqualTo(2);
        assertThat(zero.err()).contains("--components must be >= 1, found 0");
    }

    @Test
    void trainingSettingsAreNamedByTheirFlags() {
        Path out = dir.resolve("out");
        String[][] cases = {
            {"--batch", "0", "--batch must be >= 1, found 0"},
            {"--epochs", "0", "--epochs must be >= 1, found 0"},
            {"--patience", "0", "--patience must be >= 1, found 0"},
            {"--lr", "0", "--lr must be positive and finite, found 0.0"},
            {"--dim", "0", "--dim must be >= 1, found 0"},
            {"--grid", "5", "--grid 5: a 5x5 latent grid is not reachable"},
            {"--channels", "8,8", "--channels needs one entry per downsampling stage: a 4x4 grid takes 3"},
            {"--beta", "-0.5", "--beta must be finite and >= 0, found -0.5"},
            {"--ema-decay", "1", "--ema-decay must be in (0, 1), e.g. 0.99, found 1.0"},
            {"--ema-decay", "0", "--ema-decay must be in (0, 1), e.g. 0.99, found 0.0"},
            {"--dead-code-steps", "0", "--dead-code-steps must be >= 1, found 0"},
            {"--kmeans-init", "-2", "--kmeans-init must be >= 1, found -2"},
            {"--kmeans-batches", "3", "--kmeans-batches 3 needs --kmeans-init"}};
        for (String[] c : cases) {
            Run r = CliFixtures.execute("train", "vqvae", "--data", dir.resolve("none").toString(), "--out",
                    out.toString(), c[0], c[1]);
            assertThat(r.status()).as(c[0]).isEqualTo(2);
            assertThat(r.err()).as(c[0]).startsWith("error: " + c[2]).doesNotContain("batchSize")
                    .doesNotContain("maxEpochs");
        }
        String[][] prior = {
            {"--kernel", "4", "--kernel must be odd and >= 3, found 4"},
            {"--layers", "0", "--layers must be >= 1, found 0"},
            {"--batch", "0", "--batch must be >= 1, found 0"}};
        for (String[] c : prior) {
            Run r = CliFixtures.execute("train", "prior", "--vqvae", dir.resolve("vq").toString(), "--out",
                    out.toString(), c[0], c[1]);
            assertThat(r.status()).as(c[0]).isEqualTo(2);
            assertThat(r.err()).as(c[0]).startsWith("error: " + c[2]);
        }
        String[][] einet = {
            {"--head", "bogus", "--head must be gaussian or categorical, found 'bogus'"},
            {"--em-step", "1.5", "--em-step must be in (0, 1], found 1.5"},
            {"--em-frequency", "0", "--em-frequency must be >= 1, found 0"},
            {"--leaves", "0", "--leaves must be >= 1, found 0"},
            {"--pieces", "0", "--pieces must be sizes in [1, 28], found 0"}};
        for (String[] c : einet) {
            Run r = CliFixtures.execute("train", "einet", "--data", dir.resolve("none").toString(), "--out",
                    out.toString(), c[0], c[1]);
            assertThat(r.status()).as(c[0]).isEqualTo(2);
            assertThat(r.err()).as(c[0]).startsWith("error: " + c[2]);
        }
        assertThat(out).doesNotExist();
    }

    @Test
    void anOutputFolderThatIsAFileIsRefusedBeforeAnyWork() throws Exception {
        Path file = Files.writeString(dir.resolve("a-file"), "mine");
        Run r = CliFixtures.execute("train", "vqvae", "--data", dir.resolve("none").toString(), "--out",
                file.toString());
        assertThat(r.status()).isEqualTo(2);
        assertThat(r.err()).startsWith("error: --out " + file + " is an existing file, not a folder");
        Path fifo = CliFixtures.mkfifo(dir.resolve("a-pipe"));
        r = CliFixtures.execute("train", "vqvae", "--data", dir.resolve("none").toString(), "--out", fifo.toString());
        assertThat(r.status()).isEqualTo(2);
        assertThat(r.err()).startsWith("error: --out " + fifo + " is a named pipe (FIFO), not a folder");
        Path nested = file.resolve("below");
        r = CliFixtures.execute("train", "vqvae", "--data", dir.resolve("none").toString(), "--out",
                nested.toString());
        assertThat(r.status()).isEqualTo(2);
        assertThat(r.err()).contains(file + " is a regular file, not a folder");
        Path foreign = Files.createDirectories(dir.resolve("photos"));
        Files.writeString(foreign.resolve("holiday.jpg"), "not a checkpoint");
        r = CliFixtures.execute("train", "vqvae", "--data", dir.resolve("none").toString(), "--out",
                foreign.toString());
        assertThat(r.status()).isEqualTo(2);
        assertThat(r.err()).contains("is a folder holding other files and no checkpoint");
        assertThat(Files.readString(foreign.resolve("holiday.jpg"))).isEqualTo("not a checkpoint");
        assertThat(Files.readString(file)).isEqualTo("mine");
    }
}
