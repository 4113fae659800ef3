package io.vqdistill.server;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.File;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.WebSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;

/**
 * A headless Chromium driven over the DevTools protocol (a WebSocket, JSON messages), with nothing
 * but the JDK's HTTP client: no WebDriver, no driver download. Chromium runs as CI runs it (as root,
 * hence {@code --no-sandbox}) with a fresh profile folder, and talks to nothing but the pages it is
 * sent to.
 */
final class Chromium implements AutoCloseable {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final List<String> NAMES = List.of("chromium", "chromium-browser", "google-chrome");

    private final Process process;
    private final Path profile;
    private final WebSocket socket;
    private final AtomicInteger ids = new AtomicInteger();
    private final Map<Integer, CompletableFuture<JsonNode>> pending = new ConcurrentHashMap<>();
    private final List<String> consoleErrors = new ArrayList<>();

    /** The Chromium executable: {@code $CHROMIUM}, else the first of chromium, chromium-browser, google-chrome on the PATH. */
    static Optional<Path> find() {
        String given = System.getenv("CHROMIUM");
        if (given != null && !given.isBlank()) {
            return Optional.of(Path.of(given)).filter(Files::isExecutable);
        }
        String path = System.getenv().getOrDefault("PATH", "/usr/bin:/bin");
        for (String name : NAMES) {
            for (String dir : path.split(File.pathSeparator)) {
                Path candidate = Path.of(dir, name);
                if (Files.isExecutable(candidate)) {
                    return Optional.of(candidate);
                }
            }
        }
        return Optional.empty();
    }

    private Chromium(Process process, Path profile, WebSocket socket) {
        this.process = process;
        this.profile = profile;
        this.socket = socket;
    }

    /** Starts {@code binary} headless with a fresh profile under {@code work} and attaches to its page. */
    static Chromium launch(Path binary, Path work, int width, int height) throws Exception {
        Path profile = Files.createTempDirectory(work, "chromium-profile");
        Path log = work.resolve("chromium.log");
        List<String> command = List.of(binary.toString(), "--headless", "--no-sandbox", "--disable-gpu",
                "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update",
                "--disable-sync", "--user-data-dir=" + profile, "--remote-debugging-port=0",
                "--window-size=" + width + "," + height, "about:blank");
        Process process = new ProcessBuilder(command).redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile())).start();
        try {
            Path portFile = profile.resolve("DevToolsActivePort");
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
            List<String> lines = List.of();
            while (lines.size() < 2) {
                if (!process.isAlive()) {
                    throw new IllegalStateException("chromium exited with status " + process.exitValue() + ": "
                            + Files.readString(log));
                }
                if (System.nanoTime() > deadline) {
                    throw new IllegalStateException("chromium wrote no DevToolsActivePort in 60 s: " + Files.readString(log));
                }
                Thread.sleep(100);
                lines = Files.exists(portFile) ? Files.readAllLines(portFile) : List.of();
            }
            int port = Integer.parseInt(lines.get(0).trim());
            HttpClient http = HttpClient.newHttpClient();
            String list = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/json/list"))
                    .build(), HttpResponse.BodyHandlers.ofString()).body();
            String target = null;
            for (JsonNode t : JSON.readTree(list)) {
                if ("page".equals(t.path("type").asText())) {
                    target = t.path("webSocketDebuggerUrl").asText();
                    break;
                }
            }
            if (target == null) {
                throw new IllegalStateException("chromium offers no page to attach to: " + list);
            }
            Listener listener = new Listener();
            WebSocket socket = http.newWebSocketBuilder().buildAsync(URI.create(target), listener)
                    .get(30, TimeUnit.SECONDS);
            Chromium chromium = new Chromium(process, profile, socket);
            listener.owner = chromium;
            chromium.call("Runtime.enable", JSON.createObjectNode());
            chromium.call("Page.enable", JSON.createObjectNode());
            ObjectNode metrics = JSON.createObjectNode().put("width", width).put("height", height)
                    .put("deviceScaleFactor", 1).put("mobile", false);
            chromium.call("Emulation.setDeviceMetricsOverride", metrics);
            return chromium;
        } catch (Exception e) {
            process.destroyForcibly();
            throw e;
        }
    }

    /** Receives the protocol's messages, which may arrive in parts. */
    private static final class Listener implements WebSocket.Listener {
        private final StringBuilder text = new StringBuilder();
        private volatile Chromium owner;

        @Override
        public CompletionStage<?> onText(WebSocket socket, CharSequence data, boolean last) {
            text.append(data);
            if (last) {
                String message = text.toString();
                text.setLength(0);
                if (owner != null) {
                    owner.receive(message);
                }
            }
            socket.request(1);
            return null;
        }
    }

    private void receive(String message) {
        try {
            JsonNode n = JSON.readTree(message);
            if (n.has("id")) {
                CompletableFuture<JsonNode> f = pending.remove(n.get("id").asInt());
                if (f != null) {
                    f.complete(n);
                }
            } else if ("Runtime.exceptionThrown".equals(n.path("method").asText())) {
                synchronized (consoleErrors) {
                    consoleErrors.add(n.path("params").path("exceptionDetails").toString());
                }
            }
        } catch (IOException e) {
            throw new IllegalStateException("unreadable DevTools message: " + message, e);
        }
    }

    /** The page's uncaught JavaScript exceptions so far. */
    List<String> pageErrors() {
        synchronized (consoleErrors) {
            return List.copyOf(consoleErrors);
        }
    }

    /** Sends one protocol command and returns its result, failing on a protocol error. */
    JsonNode call(String method, ObjectNode params) throws Exception {
        int id = ids.incrementAndGet();
        CompletableFuture<JsonNode> answer = new CompletableFuture<>();
        pending.put(id, answer);
        ObjectNode message = JSON.createObjectNode().put("id", id).put("method", method);
        message.set("params", params);
        socket.sendText(message.toString(), true).get(30, TimeUnit.SECONDS);
        JsonNode reply = answer.get(60, TimeUnit.SECONDS);
        if (reply.has("error")) {
            throw new IllegalStateException(method + " failed: " + reply.get("error"));
        }
        return reply.path("result");
    }

    /** Opens {@code url} in the page. */
    void navigate(String url) throws Exception {
        call("Page.navigate", JSON.createObjectNode().put("url", url));
    }

    /** The value of a JavaScript expression in the page (awaited if it is a promise). */
    JsonNode evaluate(String expression) throws Exception {
        JsonNode r = call("Runtime.evaluate", JSON.createObjectNode().put("expression", expression)
                .put("returnByValue", true).put("awaitPromise", true));
        if (r.has("exceptionDetails")) {
            throw new IllegalStateException("'" + expression + "' threw " + r.get("exceptionDetails"));
        }
        return r.path("result").path("value");
    }

    /** Waits until {@code condition} (a JavaScript expression) is true in the page. */
    void waitFor(String condition, Duration timeout) throws Exception {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (true) {
            JsonNode v = evaluate("Boolean(" + condition + ")");
            if (v.asBoolean()) {
                return;
            }
            if (System.nanoTime() > deadline) {
                throw new AssertionError("the page never satisfied '" + condition + "' within " + timeout
                        + "; status: " + evaluate("document.getElementById('status') && document.getElementById('status').textContent")
                        + "; page errors: " + pageErrors());
            }
            Thread.sleep(100);
        }
    }

    /** A real mouse event at page coordinates (x, y): type mousePressed, mouseMoved or mouseReleased. */
    void mouse(String type, double x, double y) throws Exception {
        ObjectNode p = JSON.createObjectNode().put("type", type).put("x", x).put("y", y)
                .put("button", "left").put("buttons", type.equals("mouseReleased") ? 0 : 1).put("clickCount", 1);
        call("Input.dispatchMouseEvent", p);
    }

    /** Presses the mouse at the first point, drags through the others and releases at the last. */
    void drag(double[][] points) throws Exception {
        mouse("mouseMoved", points[0][0], points[0][1]);
        mouse("mousePressed", points[0][0], points[0][1]);
        for (double[] p : points) {
            mouse("mouseMoved", p[0], p[1]);
        }
        mouse("mouseReleased", points[points.length - 1][0], points[points.length - 1][1]);
    }

    /** A PNG of the page's viewport. */
    byte[] screenshot() throws Exception {
        JsonNode r = call("Page.captureScreenshot", JSON.createObjectNode().put("format", "png"));
        return Base64.getDecoder().decode(r.path("data").asText());
    }

    /** Closes the browser and deletes its profile. */
    @Override
    public void close() throws Exception {
        try {
            call("Browser.close", JSON.createObjectNode());
        } catch (Exception e) {
            // it may already be gone; it is stopped below in any case
        }
        socket.abort();
        if (!process.waitFor(10, TimeUnit.SECONDS)) {
            process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
        }
        try (Stream<Path> files = Files.walk(profile)) {
            files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        }
    }
}
