package io.vqdistill.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.vqdistill.api.Backend;
import io.vqdistill.api.BackendSelector;
import io.vqdistill.api.spi.BackendOptions;
import io.vqdistill.circuits.LeafFamilies;
import io.vqdistill.circuits.ShallowMixture;
import io.vqdistill.circuits.io.CircuitFiles;
import io.vqdistill.cli.CliFixtures.Run;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** {@code vqdistill serve} on a real backend: it answers over HTTP until its thread is interrupted; bad options exit with 2. */
class ServeCommandTest {
    private static final int S = 784;
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    static Path dir;

    static Path circuit;
    static Path data;

    @BeforeAll
    static void setUp() throws Exception {
        data = dir.resolve("mnist");
        CliFixtures.writeStripedMnist(data);
        float[] mean = new float[2 * S];
        float[] logVar = new float[2 * S];
        for (int n = 0; n < 2; n++) {
            for (int p = 0; p < S; p++) {
                mean[n * S + p] = (p / 28) % 2 == n ? 0.8f : 0.05f;
                logVar[n * S + p] = (float) Math.log(0.04);
            }
        }
        circuit = dir.resolve("circuit");
        try (Backend backend = BackendSelector.discover().select("djl", new BackendOptions("cpu", 0));
             ShallowMixture m = ShallowMixture.builder(LeafFamilies.create("gaussian"))
                     .parameters(Map.of("mean", backend.of(mean, 2, S), "log_var", backend.of(logVar, 2, S))).build()) {
            CircuitFiles.write(circuit, m, Map.of("made_by", "ServeCommandTest"));
        }
    }

    /** A writer whose text other threads may read while the command writes. */
    static final class SharedWriter extends StringWriter {
        @Override
        public synchronized void write(String s, int off, int len) {
            super.write(s, off, len);
        }

        @Override
        public synchronized String toString() {
            return super.toString();
        }
    }

    @Test
    void servesTheCircuitUntilInterrupted() throws Exception {
        SharedWriter out = new SharedWriter();
        StringWriter err = new StringWriter();
        AtomicInteger status = new AtomicInteger(-1);
        Thread serving = new Thread(() -> {
            CommandLine cl = CliFixtures.commandLine();
            cl.setOut(new PrintWriter(out, true));
            cl.setErr(new PrintWriter(err, true));
            status.set(cl.execute("serve", "--backend", "djl", "--circuit", circuit.toString(), "--data",
                    data.toString(), "--port", "0"));
        });
        serving.start();
        Pattern url = Pattern.compile("serving (http://127\\.0\\.0\\.1:\\d+/)");
        Matcher m = url.matcher("");
        long deadline = System.nanoTime() + 120_000_000_000L;
        while (!m.reset(out.toString()).find()) {
            assertThat(serving.isAlive()).as("serve ended early: %s %s", out, err).isTrue();
            assertThat(System.nanoTime()).as("serve never listened: %s %s", out, err).isLessThan(deadline);
            Thread.sleep(50);
        }
        String base = m.group(1);
        assertThat(out.toString()).contains("a mixture of 2 components over 784 pixels, gaussian leaves")
                .contains("20 test images");
        HttpClient http = HttpClient.newHttpClient();
        JsonNode info = JSON.readTree(http.send(HttpRequest.newBuilder(URI.create(base + "api/info")).build(),
                HttpResponse.BodyHandlers.ofString()).body());
        assertThat(info.path("backend").asText()).startsWith("djl");
        assertThat(info.path("test_images").asInt()).isEqualTo(20);
        HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create(base + "api/posterior"))
                .POST(HttpRequest.BodyPublishers.ofString("{\"index\": 3, \"top\": 2}")).build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
        assertThat(JSON.readTree(r.body()).path("top").size()).isEqualTo(2);
        HttpResponse<String> page = http.send(HttpRequest.newBuilder(URI.create(base)).build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(page.body()).contains("vqdistill serve");

        serving.interrupt();
        serving.join(60_000);
        assertThat(serving.isAlive()).isFalse();
        assertThat(status.get()).as("exit status; %s", err).isZero();
        assertThat(out.toString()).contains("stopping");
    }

    @Test
    void badOptionsExitWithStatusTwoNamingThem() throws Exception {
        Run missing = CliFixtures.execute("serve", "--circuit", dir.resolve("nothing").toString());
        assertThat(missing.status()).isEqualTo(2);
        assertThat(missing.err()).contains("--circuit").contains("no such folder");
        Run port = CliFixtures.execute("serve", "--circuit", circuit.toString(), "--port", "70000");
        assertThat(port.status()).isEqualTo(2);
        assertThat(port.err()).contains("--port").contains("0..65535");
        Run noData = CliFixtures.execute("serve", "--circuit", circuit.toString(), "--data",
                dir.resolve("nowhere").toString());
        assertThat(noData.status()).isEqualTo(2);
        assertThat(noData.err()).contains("--data");
        try (ServerSocket taken = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            Run busy = CliFixtures.execute("serve", "--backend", "djl", "--circuit", circuit.toString(), "--data",
                    data.toString(), "--port", Integer.toString(taken.getLocalPort()));
            assertThat(busy.status()).isEqualTo(2);
            assertThat(busy.err()).contains("cannot listen on 127.0.0.1:" + taken.getLocalPort());
        }
    }
}
