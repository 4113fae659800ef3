package io.vqdistill.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.vqdistill.api.Backend;
import io.vqdistill.api.Tensor;
import io.vqdistill.api.circuit.Circuit;
import io.vqdistill.api.circuit.LeafFamily;
import io.vqdistill.api.fake.FakeBackend;
import io.vqdistill.circuits.ShallowMixture;
import io.vqdistill.models.data.ImageSet;
import java.io.ByteArrayInputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.random.RandomGenerator;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The JSON API over HTTP: each query against the circuit itself, the errors that name the field, limits, concurrency. */
class ServerApiTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final HttpClient HTTP = HttpClient.newHttpClient();
    private static final int S = Fixtures.S;

    static Backend backend;
    static ShallowMixture mixture;
    static ImageSet images;
    static CircuitServer server;

    @BeforeAll
    static void start() {
        backend = new FakeBackend();
        mixture = Fixtures.mixture(backend);
        images = Fixtures.testImages();
        server = CircuitServer.start(new CircuitService(mixture, images, "four strokes (test)"),
                ServerOptions.defaults().at("127.0.0.1", 0));
    }

    @AfterAll
    static void stop() {
        server.close();
        mixture.close();
        backend.close();
    }

    record Answer(int status, JsonNode body) {
    }

    static Answer get(String path) throws Exception {
        HttpResponse<String> r = HTTP.send(HttpRequest.newBuilder(URI.create(server.url() + path.substring(1))).build(),
                HttpResponse.BodyHandlers.ofString());
        return new Answer(r.statusCode(), JSON.readTree(r.body()));
    }

    static Answer post(String path, String body) throws Exception {
        HttpResponse<String> r = HTTP.send(HttpRequest.newBuilder(URI.create(server.url() + path.substring(1)))
                .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(body)).build(),
                HttpResponse.BodyHandlers.ofString());
        return new Answer(r.statusCode(), JSON.readTree(r.body()));
    }

    static JsonNode ok(Answer a) {
        assertThat(a.status()).as("status of %s", a.body()).isEqualTo(200);
        return a.body();
    }

    static void refused(Answer a, int status, String field, String says) {
        assertThat(a.status()).as("status of %s", a.body()).isEqualTo(status);
        assertThat(a.body().path("field").asText()).isEqualTo(field);
        assertThat(a.body().path("error").asText()).contains(says);
    }

    static float[] floats(JsonNode array) {
        float[] out = new float[array.size()];
        for (int i = 0; i < out.length; i++) {
            out[i] = (float) array.get(i).asDouble();
        }
        return out;
    }

    /** The values the circuit sees for test image {@code index} with seed {@code seed}: (p + u)/256. */
    static float[] dequantised(int index, long seed) {
        return images.dequantised(new int[] {index}, new SplittableRandom(seed));
    }

    static String levelsJson(int index) {
        return IntStream.of(images.levels(new int[] {index})).mapToObj(Integer::toString)
                .collect(Collectors.joining(",", "[", "]"));
    }

    @Test
    void infoDescribesTheCircuitAndTheLimits() throws Exception {
        JsonNode info = ok(get("/api/info"));
        assertThat(info.path("variables").asInt()).isEqualTo(S);
        assertThat(info.path("side").asInt()).isEqualTo(28);
        assertThat(info.path("components").asInt()).isEqualTo(4);
        assertThat(info.path("leaf_family").asText()).isEqualTo("gaussian");
        assertThat(info.path("encoding").asText()).isEqualTo("dequantised");
        assertThat(info.path("parameter_count").asLong()).isEqualTo(mixture.parameterCount());
        assertThat(info.path("test_images").asInt()).isEqualTo(8);
        assertThat(info.path("backend").asText()).startsWith("fake");
        assertThat(info.path("limits").path("max_body_bytes").asInt()).isEqualTo(ServerOptions.DEFAULT_MAX_BODY_BYTES);
        assertThat(server.url()).startsWith("http://127.0.0.1:");
        assertThat(ServerOptions.defaults().host()).isEqualTo("127.0.0.1");
    }

    @Test
    void servesThePageAndATestImage() throws Exception {
        HttpResponse<String> page = HTTP.send(HttpRequest.newBuilder(URI.create(server.url())).build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(page.statusCode()).isEqualTo(200);
        assertThat(page.body()).contains("<canvas id=\"input\"").contains("app.js");
        JsonNode t = ok(get("/api/test-images/5"));
        assertThat(t.path("label").asInt()).isEqualTo(1);
        assertThat(t.path("image").size()).isEqualTo(S);
        assertThat(t.path("image").get(14 * 28 + 5).asInt()).isEqualTo(220);
        refused(get("/api/test-images/8"), 400, "index", "0..7");
        refused(get("/api/test-images/x"), 400, "index", "integer");
    }

    @Test
    void likelihoodOfATestImageOrAPostedOneIsTheCircuits() throws Exception {
        double expected;
        try (Tensor x = backend.of(dequantised(2, 7), 1, S); Tensor ll = mixture.logLikelihood(x)) {
            expected = ll.toDoubleArray()[0];
        }
        JsonNode byIndex = ok(post("/api/likelihood", "{\"index\": 2, \"seed\": 7}"));
        assertThat(byIndex.path("log_likelihood").asDouble()).isCloseTo(expected, within(1e-9));
        assertThat(byIndex.path("bits_per_dim").asDouble())
                .isCloseTo(-expected / Math.log(2) / S + 8, within(1e-12));
        assertThat(byIndex.path("label").asInt()).isEqualTo(2);
        JsonNode posted = ok(post("/api/likelihood", "{\"image\": " + levelsJson(2) + ", \"seed\": 7}"));
        assertThat(posted.path("log_likelihood").asDouble()).isEqualTo(byIndex.path("log_likelihood").asDouble());
        assertThat(posted.path("image").asText()).isEqualTo("posted");
        // the same image as 28 rows of 28
        StringBuilder rows = new StringBuilder("[");
        int[] levels = images.levels(new int[] {2});
        for (int y = 0; y < 28; y++) {
            rows.append(y == 0 ? "[" : ",[");
            for (int x = 0; x < 28; x++) {
                rows.append(x == 0 ? "" : ",").append(levels[y * 28 + x]);
            }
            rows.append("]");
        }
        JsonNode asRows = ok(post("/api/likelihood", "{\"image\": " + rows + "], \"seed\": 7}"));
        assertThat(asRows.path("log_likelihood").asDouble()).isEqualTo(byIndex.path("log_likelihood").asDouble());
    }

    @Test
    void marginalOfAPixelSetIsTheCircuitsAndOfEveryPixelTheLikelihood() throws Exception {
        boolean[] observed = new boolean[S];
        StringBuilder list = new StringBuilder("[");
        for (int p = 0; p < S; p += 3) {
            observed[p] = true;
            list.append(p == 0 ? "" : ",").append(p);
        }
        double expected;
        try (Tensor x = backend.of(dequantised(1, 0), 1, S); Tensor m = backend.of(observed, 1, S);
             Tensor ll = mixture.marginalLogLikelihood(x, m)) {
            expected = ll.toDoubleArray()[0];
        }
        JsonNode r = ok(post("/api/marginal", "{\"index\": 1, \"observed\": " + list + "]}"));
        assertThat(r.path("observed").asInt()).isEqualTo(262);
        assertThat(r.path("log_likelihood").asDouble()).isCloseTo(expected, within(1e-9));
        assertThat(r.path("bits_per_observed_dim").asDouble())
                .isCloseTo(-expected / Math.log(2) / 262 + 8, within(1e-12));
        JsonNode all = ok(post("/api/marginal", "{\"index\": 1, \"hidden\": []}"));
        JsonNode complete = ok(post("/api/likelihood", "{\"index\": 1}"));
        assertThat(all.path("log_likelihood").asDouble())
                .isCloseTo(complete.path("log_likelihood").asDouble(), within(1e-4));
        JsonNode none = ok(post("/api/marginal", "{\"index\": 1, \"observed\": []}"));
        assertThat(none.path("log_likelihood").asDouble()).isCloseTo(0, within(1e-5));
        assertThat(none.path("bits_per_observed_dim").isNull()).isTrue();
    }

    @Test
    void conditionalQueriesFillTheHiddenPixelsAndKeepTheObservedOnes() throws Exception {
        // hide the right half of a vertical stroke (image 0): the bar's left half says which component it is
        List<Integer> hidden = new ArrayList<>();
        boolean[] observed = new boolean[S];
        for (int p = 0; p < S; p++) {
            observed[p] = p % 28 < 14;
            if (!observed[p]) {
                hidden.add(p);
            }
        }
        JsonNode r = ok(post("/api/conditional", "{\"index\": 0, \"seed\": 3, \"samples\": 3, \"hidden\": " + hidden + "}"));
        assertThat(r.path("hidden").asInt()).isEqualTo(S / 2);
        float[] mean = floats(r.path("mean"));
        float[] mode = floats(r.path("mode"));
        assertThat(r.path("samples").size()).isEqualTo(3);
        float[] expectedMean;
        try (Tensor x = backend.of(dequantised(0, 3), 1, S); Tensor m = backend.of(observed, 1, S);
             Tensor e = mixture.conditionalMean(x, m)) {
            expectedMean = e.toFloatArray();
        }
        int[] levels = images.levels(new int[] {0});
        for (int p = 0; p < S; p++) {
            if (observed[p]) {
                assertThat(mean[p]).as("observed pixel %d", p).isBetween(levels[p] - 0.5f, levels[p] + 0.51f);
                assertThat(mode[p]).isEqualTo(mean[p]);
            } else {
                assertThat(mean[p]).as("pixel %d", p).isCloseTo(256 * expectedMean[p] - 0.5f, within(0.011f));
            }
        }
        // the hidden half of the bar (columns 14, 15) is filled in bright, the rest dark
        assertThat(mode[10 * 28 + 14]).isGreaterThan(200);
        assertThat(mode[10 * 28 + 20]).isLessThan(30);
        JsonNode onlyMean = ok(post("/api/conditional", "{\"index\": 0, \"queries\": [\"mean\"], \"hidden\": " + hidden + "}"));
        assertThat(onlyMean.has("mode")).isFalse();
        assertThat(onlyMean.has("samples")).isFalse();
        JsonNode again = ok(post("/api/conditional", "{\"index\": 0, \"seed\": 3, \"samples\": 3, \"hidden\": " + hidden + "}"));
        assertThat(again.path("samples")).isEqualTo(r.path("samples"));
    }

    @Test
    void posteriorRanksTheComponentsWithTheirClassesAndMeans() throws Exception {
        JsonNode r = ok(post("/api/posterior", "{\"index\": 3, \"top\": 4}"));
        assertThat(r.path("components").asInt()).isEqualTo(4);
        JsonNode top = r.path("top");
        assertThat(top.size()).isEqualTo(4);
        assertThat(top.get(0).path("component").asInt()).isEqualTo(3);
        assertThat(top.get(0).path("class").asInt()).isEqualTo(3);
        assertThat(top.get(0).path("probability").asDouble()).isGreaterThan(0.99);
        double sum = 0;
        for (int k = 0; k < 4; k++) {
            sum += top.get(k).path("probability").asDouble();
            if (k > 0) {
                assertThat(top.get(k).path("log_probability").asDouble())
                        .isLessThanOrEqualTo(top.get(k - 1).path("log_probability").asDouble());
            }
        }
        assertThat(sum).isCloseTo(1, within(1e-5));
        float[] mean = floats(top.get(0).path("mean"));
        assertThat(mean[13 * 28 + 5]).isCloseTo(256 * 0.85f - 0.5f, within(0.01f));   // on the ring
        // nothing observed: the posterior is the prior, the weights 0.4, 0.3, 0.2, 0.1
        StringBuilder all = new StringBuilder("[");
        for (int p = 0; p < S; p++) {
            all.append(p == 0 ? "" : ",").append(p);
        }
        JsonNode prior = ok(post("/api/posterior", "{\"index\": 3, \"images\": false, \"hidden\": " + all + "]}"));
        assertThat(prior.path("top").get(0).path("component").asInt()).isZero();
        assertThat(prior.path("top").get(0).path("probability").asDouble()).isCloseTo(0.4, within(1e-5));
        assertThat(prior.path("top").get(0).has("mean")).isFalse();
        assertThat(prior.path("entropy_bits").asDouble()).isCloseTo(1.8464, within(1e-3));
    }

    @Test
    void unconditionalSamplesAreSeeded() throws Exception {
        JsonNode a = ok(post("/api/samples", "{\"count\": 5, \"seed\": 11}"));
        assertThat(a.path("samples").size()).isEqualTo(5);
        assertThat(a.path("samples").get(0).size()).isEqualTo(S);
        assertThat(ok(post("/api/samples", "{\"count\": 5, \"seed\": 11}")).path("samples")).isEqualTo(a.path("samples"));
        assertThat(ok(post("/api/samples", "")).path("samples").size()).isEqualTo(8);
    }

    @Test
    void badRequestsAreRefusedNamingTheField() throws Exception {
        refused(post("/api/likelihood", "{}"), 400, "index", "give the test image's index");
        refused(post("/api/likelihood", "{\"index\": 1, \"image\": [1]}"), 400, "image", "not both");
        refused(post("/api/likelihood", "{\"index\": 99}"), 400, "index", "0..7");
        refused(post("/api/likelihood", "{\"index\": -1}"), 400, "index", ">= 0");
        refused(post("/api/likelihood", "{\"index\": 1.5}"), 400, "index", "integer");
        refused(post("/api/likelihood", "{\"image\": [1, 2, 3]}"), 400, "image", "784 levels, got 3");
        String bad = levelsJson(0).replaceFirst("^\\[(\\d+),(\\d+),(\\d+),(\\d+),", "[$1,$2,$3,300,");
        refused(post("/api/likelihood", "{\"image\": " + bad + "}"), 400, "image[3]", "0..255");
        refused(post("/api/likelihood", "{\"index\": 1, \"sed\": 3}"), 400, "sed", "unknown field");
        refused(post("/api/likelihood", "{\"index\": 1,"), 400, "body", "not valid JSON");
        refused(post("/api/likelihood", "[1, 2]"), 400, "body", "JSON object");
        refused(post("/api/conditional", "{\"index\": 1}"), 400, "hidden", "required");
        refused(post("/api/conditional", "{\"index\": 1, \"hidden\": []}"), 400, "hidden", "hides no pixel");
        refused(post("/api/conditional", "{\"index\": 1, \"hidden\": [3, 784]}"), 400, "hidden[1]", "0..783");
        refused(post("/api/conditional", "{\"index\": 1, \"hidden\": \"left\"}"), 400, "hidden", "array");
        refused(post("/api/conditional", "{\"index\": 1, \"hidden\": [1], \"observed\": [2]}"), 400, "observed",
                "not both");
        refused(post("/api/conditional", "{\"index\": 1, \"hidden\": [1], \"queries\": [\"median\"]}"), 400,
                "queries[0]", "mean, mode or sample");
        refused(post("/api/conditional", "{\"index\": 1, \"hidden\": [1], \"samples\": 17}"), 400, "samples",
                "1..16");
        refused(post("/api/samples", "{\"count\": 0}"), 400, "count", "1..64");
        refused(post("/api/posterior", "{\"index\": 1, \"top\": 101}"), 400, "top", "1..100");
        refused(post("/api/posterior", "{\"index\": 1, \"images\": 1}"), 400, "images", "true or false");
        refused(get("/api/likelihood"), 405, "method", "GET is not allowed");
        refused(get("/api/nothing"), 404, "path", "no such endpoint");
    }

    @Test
    void bodiesOverTheLimitAreRefusedWithOrWithoutALength() throws Exception {
        String big = "{\"image\": [" + "0,".repeat(40_000) + "0]}";
        refused(post("/api/likelihood", big), 413, "body", "limit of 65536 bytes");
        // chunked: no Content-Length, cut off while reading
        HttpResponse<String> r = HTTP.send(HttpRequest.newBuilder(URI.create(server.url() + "api/likelihood"))
                .POST(HttpRequest.BodyPublishers.ofInputStream(() -> new ByteArrayInputStream(big.getBytes())))
                .build(), HttpResponse.BodyHandlers.ofString());
        assertThat(r.statusCode()).isEqualTo(413);
        assertThat(JSON.readTree(r.body()).path("field").asText()).isEqualTo("body");
    }

    @Test
    void concurrentRequestsAreServedOneAtATimeWithTheSameAnswers() throws Exception {
        Backend fake = new FakeBackend();
        try (ShallowMixture m = Fixtures.mixture(fake);
             CircuitServer guarded = CircuitServer.start(new CircuitService(new Exclusive(m), images, "guarded"),
                     ServerOptions.defaults().at("127.0.0.1", 0))) {
            String hidden = IntStream.range(0, S).filter(p -> p / 28 >= 14).mapToObj(Integer::toString)
                    .collect(Collectors.joining(",", "[", "]"));
            List<String[]> requests = List.of(
                    new String[] {"api/likelihood", "{\"index\": 1, \"seed\": 2}"},
                    new String[] {"api/conditional", "{\"index\": 2, \"seed\": 2, \"hidden\": " + hidden + "}"},
                    new String[] {"api/posterior", "{\"index\": 3, \"hidden\": " + hidden + "}"},
                    new String[] {"api/marginal", "{\"index\": 0, \"hidden\": " + hidden + "}"},
                    new String[] {"api/samples", "{\"count\": 4, \"seed\": 9}"});
            List<String> sequential = new ArrayList<>();
            for (String[] q : requests) {
                sequential.add(send(guarded, q));
            }
            ExecutorService pool = Executors.newFixedThreadPool(8);
            try {
                List<Future<Boolean>> results = new ArrayList<>();
                for (int i = 0; i < 40; i++) {
                    int k = i % requests.size();
                    results.add(pool.submit(() -> send(guarded, requests.get(k)).equals(sequential.get(k))));
                }
                for (Future<Boolean> f : results) {
                    assertThat(f.get()).as("a concurrent answer equals the sequential one").isTrue();
                }
            } finally {
                pool.shutdownNow();
            }
            assertThat(Exclusive.overlaps.get()).as("queries that overlapped on the circuit").isZero();
        }
    }

    private static String send(CircuitServer s, String[] q) throws Exception {
        HttpResponse<String> r = HTTP.send(HttpRequest.newBuilder(URI.create(s.url() + q[0]))
                .POST(HttpRequest.BodyPublishers.ofString(q[1])).build(), HttpResponse.BodyHandlers.ofString());
        assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
        JsonNode n = JSON.readTree(r.body());
        ((com.fasterxml.jackson.databind.node.ObjectNode) n).remove("seconds");
        return n.toString();
    }

    /** A circuit that counts queries entered while another one is running, and sleeps a little in each. */
    static final class Exclusive implements Circuit {
        static final AtomicInteger overlaps = new AtomicInteger();
        private final AtomicInteger inside = new AtomicInteger();
        private final Circuit c;

        Exclusive(Circuit c) {
            this.c = c;
        }

        private <T> T enter(java.util.function.Supplier<T> query) {
            if (inside.incrementAndGet() > 1) {
                overlaps.incrementAndGet();
            }
            try {
                Thread.sleep(2);
                return query.get();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException(e);
            } finally {
                inside.decrementAndGet();
            }
        }

        @Override
        public int numVariables() {
            return c.numVariables();
        }

        @Override
        public Backend backend() {
            return c.backend();
        }

        @Override
        public LeafFamily leafFamily() {
            return c.leafFamily();
        }

        @Override
        public long parameterCount() {
            return c.parameterCount();
        }

        @Override
        public Tensor logLikelihood(Tensor x) {
            return enter(() -> c.logLikelihood(x));
        }

        @Override
        public Tensor marginalLogLikelihood(Tensor x, Tensor observed) {
            return enter(() -> c.marginalLogLikelihood(x, observed));
        }

        @Override
        public Tensor componentPosterior(Tensor x, Tensor observed) {
            return enter(() -> c.componentPosterior(x, observed));
        }

        @Override
        public Tensor conditionalMean(Tensor x, Tensor observed) {
            return enter(() -> c.conditionalMean(x, observed));
        }

        @Override
        public Tensor conditionalVariance(Tensor x, Tensor observed) {
            return enter(() -> c.conditionalVariance(x, observed));
        }

        @Override
        public Tensor conditionalMode(Tensor x, Tensor observed) {
            return enter(() -> c.conditionalMode(x, observed));
        }

        @Override
        public Tensor conditionalSample(Tensor x, Tensor observed, RandomGenerator rng) {
            return enter(() -> c.conditionalSample(x, observed, rng));
        }

        @Override
        public Tensor sample(int n, RandomGenerator rng) {
            return enter(() -> c.sample(n, rng));
        }

        @Override
        public void close() {
            c.close();
        }
    }
}
