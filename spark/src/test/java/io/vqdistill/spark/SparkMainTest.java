package io.vqdistill.spark;

import static org.assertj.core.api.Assertions.assertThat;

import io.vqdistill.api.BackendSelector;
import io.vqdistill.api.spi.BackendOptions;
import io.vqdistill.cli.Main;
import io.vqdistill.cli.data.CircuitInput;
import io.vqdistill.distill.inject.BackendChoice;
import io.vqdistill.distill.pipeline.CircuitEvaluation;
import io.vqdistill.distill.pipeline.Session;
import io.vqdistill.distill.pipeline.Sessions;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** The spark-submit entry point, run in this JVM on {@code local[2]}: its output, files and exit statuses. */
class SparkMainTest {
    private final StringWriter out = new StringWriter();
    private final StringWriter err = new StringWriter();

    private int run(String... args) {
        CommandLine cl = Main.commandLine(SparkMain.class, Main.createInjector());
        cl.setOut(new PrintWriter(out, true));
        cl.setErr(new PrintWriter(err, true));
        return cl.execute(args);
    }

    @Test
    void evaluatePrintsTheCommandLinesReportWithTheInProcessBitsPerDim() {
        TinyModels m = TinyModels.get();
        double expected;
        try (Session session = new Sessions(BackendSelector::discover).open(new BackendChoice("",
                BackendOptions.defaults()))) {
            expected = CircuitEvaluation.of(session.circuit(m.circuit), CircuitInput.testImages(m.data, 600), 0)
                    .bitsPerDim();
        }
        int status = run("evaluate", "--master", "local[2]", "--partitions", "2", "--no-progress", "--circuit",
                TinyModels.uri(m.circuit), "--data", TinyModels.uri(m.data), "--limit", "600");
        assertThat(status).as(err.toString()).isZero();
        assertThat(out.toString()).startsWith(String.format(Locale.ROOT, "test BPD %.4f bits/dim on 600 test images "
                + "(gaussian leaves, ", expected)).contains("seed 0, +8");
    }

    @Test
    void enumerateWritesTheHistogramOfEveryGridAndSumsItUp(@TempDir Path dir) throws Exception {
        Path csv = dir.resolve("histogram.csv");
        int status = run("enumerate", "--master", "local[2]", "--no-progress", "--prior",
                TinyModels.uri(TinyModels.get().prior), "--chunk", "500", "--bin-width", "0.5", "--bins", "60",
                "--out", csv.toString());
        assertThat(status).as(err.toString()).isZero();
        assertThat(out.toString()).startsWith("enumerated 1,296 grids of 2x2 K=6 in ")
                .contains("90% of the mass in the most probable ").contains("wrote " + csv);
        List<String> lines = Files.readAllLines(csv);
        assertThat(lines).hasSize(1 + 60 + 2);
        long grids = lines.stream().skip(1).mapToLong(l -> Long.parseLong(l.split(",")[3])).sum();
        assertThat(grids).isEqualTo(1296);
    }

    @Test
    void aMissingCheckpointIsOneErrorLineWithStatusTwo() {
        TinyModels m = TinyModels.get();
        String missing = TinyModels.uri(m.root.resolve("no-vqvae"));
        int status = run("exact", "--master", "local[2]", "--no-progress", "--vqvae", missing, "--prior",
                TinyModels.uri(m.prior), "--data", TinyModels.uri(m.data), "--limit", "3");
        assertThat(status).isEqualTo(2);
        assertThat(err.toString()).isEqualTo("error: --vqvae " + missing + ": no such file or folder"
                + System.lineSeparator());
    }
}
