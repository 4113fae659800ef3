package io.vqdistill.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.vqdistill.api.Backend;
import io.vqdistill.api.BackendSelector;
import io.vqdistill.api.Tensor;
import io.vqdistill.api.circuit.Precision;
import io.vqdistill.api.model.ImageShape;
import io.vqdistill.api.spi.BackendOptions;
import io.vqdistill.circuits.LeafFamilies;
import io.vqdistill.circuits.ShallowMixture;
import io.vqdistill.circuits.io.CircuitFiles;
import io.vqdistill.cli.CliFixtures.Run;
import io.vqdistill.distill.eval.PixelEncoding;
import io.vqdistill.models.data.ImageSet;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.util.Map;
import java.util.SplittableRandom;
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

    /** A serve command running on a thread of its own until {@link #stop()}. */
    record Serving(Thread thread, SharedWriter out, StringWriter err, AtomicInteger status, String base) {
        /** Starts {@code serve} with {@code args} and waits until it listens. */
        static Serving start(String... args) throws InterruptedException {
            SharedWriter out = new SharedWriter();
            StringWriter err = new StringWriter();
            AtomicInteger status = new AtomicInteger(-1);
            Thread serving = new Thread(() -> {
                CommandLine cl = CliFixtures.commandLine();
                cl.setOut(new PrintWriter(out, true));
                cl.setErr(new PrintWriter(err, true));
                status.set(cl.execute(args));
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
            return new Serving(serving, out, err, status, m.group(1));
        }

        /** A POST of {@code body} to {@code path} under the server's address: the reply, which must be 200. */
        JsonNode post(String path, String body) throws Exception {
            HttpResponse<String> r = HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create(base + path))
                    .POST(HttpRequest.BodyPublishers.ofString(body)).build(), HttpResponse.BodyHandlers.ofString());
            assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
            return JSON.readTree(r.body());
        }

        /** Interrupts the command and checks that it stopped with status 0. */
        void stop() throws InterruptedException {
            thread.interrupt();
            thread.join(60_000);
            assertThat(thread.isAlive()).isFalse();
            assertThat(status.get()).as("exit status; %s", err).isZero();
            assertThat(out.toString()).contains("stopping");
        }
    }

    @Test
    void servesTheCircuitUntilInterrupted() throws Exception {
        Serving serving = Serving.start("serve", "--backend", "djl", "--circuit", circuit.toString(), "--data",
                data.toString(), "--port", "0");
        String base = serving.base();
        assertThat(serving.out().toString()).contains("a mixture of 2 components (precision fast) over 784 pixels,"
                + " gaussian leaves").contains("20 test images");
        HttpClient http = HttpClient.newHttpClient();
        JsonNode info = JSON.readTree(http.send(HttpRequest.newBuilder(URI.create(base + "api/info")).build(),
                HttpResponse.BodyHandlers.ofString()).body());
        assertThat(info.path("backend").asText()).startsWith("djl");
        assertThat(info.path("test_images").asInt()).isEqualTo(20);
        assertThat(serving.post("api/posterior", "{\"index\": 3, \"top\": 2}").path("top").size()).isEqualTo(2);
        HttpResponse<String> page = http.send(HttpRequest.newBuilder(URI.create(base)).build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(page.body()).contains("vqdistill serve");
        serving.stop();
    }

    @Test
    void precisionDoubleServesTheFloat64LikelihoodWhereFloat32Rounds(@TempDir Path tmp) throws Exception {
        int[] levels = new int[S];
        float[] mean = new float[2 * S];
        float[] logVar = new float[2 * S];
        for (int p = 0; p < S; p++) {
            levels[p] = (p * 37) % 256;
            for (int n = 0; n < 2; n++) {
                mean[n * S + p] = (levels[p] + 0.5f + n) / 256f;
                logVar[n * S + p] = (float) Math.log(1e-6);
            }
        }
        Path sharp = tmp.resolve("sharp");
        double fast;
        double exact;
        try (Backend backend = BackendSelector.discover().select("djl", new BackendOptions("cpu", 0));
             ShallowMixture m = ShallowMixture.builder(LeafFamilies.create("gaussian"))
                     .parameters(Map.of("mean", backend.of(mean, 2, S), "log_var", backend.of(logVar, 2, S))).build()) {
            CircuitFiles.write(sharp, m, Map.of("made_by", "ServeCommandTest"));
            byte[] bytes = new byte[S];
            for (int p = 0; p < S; p++) {
                bytes[p] = (byte) levels[p];
            }
            float[] x = PixelEncoding.DEQUANTISED.values(new ImageSet(new ImageShape(1, 28, 28), bytes, new int[] {0}, 1,
                    "request"), new int[] {0}, new SplittableRandom(5));
            try (Tensor xs = backend.of(x, 1, S)) {
                fast = m.logLikelihood(xs, Precision.FAST).toDoubleArray()[0];
                exact = m.logLikelihood(xs, Precision.DOUBLE).toDoubleArray()[0];
            }
        }
        assertThat(Math.abs(fast - exact)).as("float32 rounds on this circuit").isGreaterThan(1e-4);
        Serving serving = Serving.start("serve", "--backend", "djl", "--circuit", sharp.toString(), "--data",
                data.toString(), "--port", "0", "--precision", "double");
        assertThat(serving.out().toString()).contains("a mixture of 2 components (precision double)");
        StringBuilder image = new StringBuilder("{\"seed\": 5, \"image\": [");
        for (int p = 0; p < S; p++) {
            image.append(p == 0 ? "" : ", ").append(levels[p]);
        }
        double served = serving.post("api/likelihood", image.append("]}").toString()).path("log_likelihood").asDouble();
        assertThat(served).isCloseTo(exact, within(1e-6));
        serving.stop();
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
        Run precision = CliFixtures.execute("serve", "--circuit", circuit.toString(), "--precision", "quad");
        assertThat(precision.status()).isEqualTo(2);
        assertThat(precision.err()).contains("--precision").contains("quad");
    }
}
