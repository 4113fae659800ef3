package io.vqdistill.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.vqdistill.api.BackendSelector;
import java.io.PrintWriter;
import java.io.StringWriter;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

class BackendsCommandTest {

    private final StringWriter out = new StringWriter();
    private final StringWriter err = new StringWriter();

    private int run(String... args) {
        CommandLine cl = CliFixtures.commandLine();
        cl.setOut(new PrintWriter(out, true));
        cl.setErr(new PrintWriter(err, true));
        return cl.execute(args);
    }

    @AfterEach
    void clearProperty() {
        System.clearProperty(BackendSelector.PROPERTY);
    }

    @Test
    void probesListAllThreeEnginesAsAvailableWithoutStartingThem() {
        assertThat(run("backends", "--no-start")).isZero();
        assertThat(out.toString())
                .containsPattern("tensorflow +priority 30 +available")
                .containsPattern("djl +priority 20 +available")
                .containsPattern("nd4j +priority 10 +available")
                .doesNotContain("version:");
    }

    @Test
    void startedEnginesReportVersionDevicesAndCapabilities() {
        assertThat(run("backends")).isZero();
        String text = out.toString();
        assertThat(text).contains("TensorFlow", "PyTorch", "ND4J").contains("devices:      cpu")
                .contains("capabilities: tensor");
        assertThat(text).doesNotContain("failed to start");
    }

    @Test
    void benchPrintsOneCsvRowPerShape() {
        assertThat(run("bench", "--backend", "djl", "--variables", "8", "--components", "4,16", "--batch", "3",
                "--repeats", "1")).isZero();
        String[] lines = out.toString().split("\\R");
        assertThat(lines[0]).startsWith("# DJL");
        assertThat(lines[1]).isEqualTo("backend,S,N,B,loglik_seconds,loglik_gflops,matmul_seconds,matmul_gflops,ratio");
        assertThat(lines).hasSize(4);
        assertThat(lines[2]).startsWith("djl,8,4,3,");
        assertThat(lines[3]).startsWith("djl,8,16,3,").matches("([^,]+,){8}[^,]+");
    }

    @Test
    void anUnknownBackendInThePropertyFailsEvenWithoutStartingEngines() {
        System.setProperty(BackendSelector.PROPERTY, "nope");
        assertThat(run("backends", "--no-start")).isEqualTo(2);
        assertThat(err.toString()).contains("unknown backend 'nope'").contains("tensorflow (priority 30)");
    }

    @Test
    void anUnknownBackendInThePropertyFailsListingEveryProvider() {
        System.setProperty(BackendSelector.PROPERTY, "nope");
        assertThat(run("backends")).isEqualTo(2);
        assertThat(err.toString()).contains("unknown backend 'nope'").contains("tensorflow (priority 30)")
                .contains("djl (priority 20)").contains("nd4j (priority 10)");
    }
}
