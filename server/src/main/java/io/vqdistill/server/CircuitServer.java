package io.vqdistill.server;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.javalin.Javalin;
import io.javalin.http.Context;
import io.javalin.http.staticfiles.Location;
import io.vqdistill.api.InvalidArgumentException;
import io.vqdistill.api.VqdistillException;
import io.vqdistill.server.CircuitService.Completion;
import io.vqdistill.server.CircuitService.Component;
import io.vqdistill.server.CircuitService.Image;
import io.vqdistill.server.CircuitService.Info;
import io.vqdistill.server.CircuitService.Likelihood;
import io.vqdistill.server.CircuitService.Marginal;
import io.vqdistill.server.CircuitService.Posterior;
import io.vqdistill.server.CircuitService.Query;
import java.io.IOException;
import java.io.InputStream;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The HTTP server of {@code vqdistill serve}: an embedded Javalin (Jetty) server with a JSON API over
 * one {@link CircuitService} and one HTML page, {@code /}, that queries it from the browser.
 *
 * <table>
 * <caption>Endpoints (every answer is JSON; images are S numbers, row-major, on the level scale 0..255)</caption>
 * <tr><th>endpoint</th><th>body</th><th>answer</th></tr>
 * <tr><td>{@code GET /api/info}</td><td>-</td><td>the circuit: variables, side, components, leaf family,
 *     encoding, parameters, backend, test images, limits</td></tr>
 * <tr><td>{@code GET /api/test-images/{index}}</td><td>-</td><td>{@code index, label, image}</td></tr>
 * <tr><td>{@code POST /api/likelihood}</td><td>{@code index} or {@code image}; {@code seed}</td>
 *     <td>{@code log_likelihood} (nats), {@code bits_per_dim}</td></tr>
 * <tr><td>{@code POST /api/marginal}</td><td>an image; {@code observed} or {@code hidden} (pixel indices);
 *     {@code seed}</td><td>{@code log_likelihood} of the observed pixels, {@code observed},
 *     {@code bits_per_observed_dim}</td></tr>
 * <tr><td>{@code POST /api/conditional}</td><td>an image; {@code hidden} or {@code observed};
 *     {@code queries} (mean, mode, sample); {@code samples}; {@code seed}</td>
 *     <td>{@code mean}, {@code mode}, {@code samples}</td></tr>
 * <tr><td>{@code POST /api/samples}</td><td>{@code count}, {@code seed}</td><td>{@code samples}</td></tr>
 * <tr><td>{@code POST /api/posterior}</td><td>an image; {@code hidden} or {@code observed} (default: all
 *     observed); {@code top}; {@code images}; {@code seed}</td><td>{@code top}: component,
 *     probability, log_probability, class, mean</td></tr>
 * </table>
 *
 * <p>A bad request is answered with a 4xx status and {@code {"error": ..., "field": ...}} naming the
 * field at fault (400; 413 for a body over {@link ServerOptions#maxBodyBytes()}, 404 and 405 for an
 * unknown path or method). Requests are handled concurrently by Jetty's threads, and the service
 * serialises their access to the circuit (see {@link CircuitService}).
 */
public final class CircuitServer implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(CircuitServer.class);
    private static final String JSON = "application/json";
    /** The classpath folder of the page. */
    static final String WEB = "/io/vqdistill/server/web";

    private static final Set<String> IMAGE_FIELDS = Set.of("index", "image", "seed");
    private static final Set<String> MASKED_FIELDS = Set.of("index", "image", "seed", "hidden", "observed");
    private static final Set<String> CONDITIONAL_FIELDS = Set.of("index", "image", "seed", "hidden", "observed",
            "queries", "samples");
    private static final Set<String> POSTERIOR_FIELDS = Set.of("index", "image", "seed", "hidden", "observed",
            "top", "images");
    private static final Set<String> SAMPLE_FIELDS = Set.of("count", "seed");

    private final CircuitService service;
    private final ServerOptions options;
    private final ObjectMapper mapper = new ObjectMapper();
    private final Javalin app;

    private CircuitServer(CircuitService service, ServerOptions options) {
        this.service = service;
        this.options = options;
        this.app = Javalin.create(config -> {
            config.showJavalinBanner = false;
            config.startupWatcherEnabled = false;
            config.http.prefer405over404 = true;
            config.http.maxRequestSize = options.maxBodyBytes();
            config.staticFiles.add(files -> {
                files.hostedPath = "/";
                files.directory = WEB;
                files.location = Location.CLASSPATH;
                files.headers = Map.of("Content-Security-Policy", "default-src 'self'", "Cache-Control", "no-cache");
            });
        });
        routes();
    }

    /**
     * Starts a server for {@code service} as {@code options} say and returns once it listens.
     *
     * @throws VqdistillException when the address cannot be bound, naming it
     */
    public static CircuitServer start(CircuitService service, ServerOptions options) {
        Objects.requireNonNull(service, "service");
        Objects.requireNonNull(options, "options");
        CircuitServer server = new CircuitServer(service, options);
        try {
            server.app.start(options.host(), options.port());
        } catch (RuntimeException e) {
            server.app.stop();
            throw new VqdistillException("cannot listen on " + options.host() + ":" + options.port() + ": "
                    + rootMessage(e), e);
        }
        return server;
    }

    /** The port the server listens on (the one chosen when port 0 was asked for). */
    public int port() {
        return app.port();
    }

    /** The address of the page, e.g. {@code http://127.0.0.1:8080/}. */
    public String url() {
        String host = options.host().contains(":") ? "[" + options.host() + "]" : options.host();
        return "http://" + host + ":" + port() + "/";
    }

    /** Stops listening and waits for the requests in flight. Idempotent. */
    @Override
    public void close() {
        app.stop();
    }

    private void routes() {
        app.get("/api/info", ctx -> json(ctx, info(service.info())));
        app.get("/api/test-images/{index}", ctx -> {
            int index;
            try {
                index = Integer.parseInt(ctx.pathParam("index"));
            } catch (NumberFormatException e) {
                throw RequestException.bad("index", "must be an integer, got '" + ctx.pathParam("index") + "'");
            }
            Image image = service.testImage(index, "index");
            ObjectNode out = mapper.createObjectNode();
            out.put("index", index);
            out.put("label", image.label());
            ArrayNode levels = out.putArray("image");
            for (int v : image.levels()) {
                levels.add(v);
            }
            json(ctx, out);
        });
        app.post("/api/likelihood", ctx -> {
            JsonRequest r = read(ctx, IMAGE_FIELDS);
            Image image = r.image(service);
            Likelihood l = service.likelihood(image, r.seed());
            ObjectNode out = described(image, r.seed());
            number(out, "log_likelihood", l.logLikelihood());
            number(out, "bits_per_dim", l.bitsPerDim());
            number(out, "seconds", l.seconds());
            json(ctx, out);
        });
        app.post("/api/marginal", ctx -> {
            JsonRequest r = read(ctx, MASKED_FIELDS);
            Image image = r.image(service);
            Marginal m = service.marginal(image, r.observed(service.variables(), true), r.seed());
            ObjectNode out = described(image, r.seed());
            out.put("observed", m.observed());
            number(out, "log_likelihood", m.logLikelihood());
            number(out, "bits_per_observed_dim", m.bitsPerObservedDim());
            number(out, "seconds", m.seconds());
            json(ctx, out);
        });
        app.post("/api/conditional", ctx -> {
            JsonRequest r = read(ctx, CONDITIONAL_FIELDS);
            Image image = r.image(service);
            boolean[] observed = r.observed(service.variables(), true);
            Set<Query> queries = r.queries();
            int samples = r.integer("samples", 4, 1, CircuitService.MAX_CONDITIONAL_SAMPLES);
            Completion c = service.complete(image, observed, queries, samples, r.seed());
            ObjectNode out = described(image, r.seed());
            out.put("hidden", c.hidden());
            if (c.mean() != null) {
                out.set("mean", levels(c.mean()));
            }
            if (c.mode() != null) {
                out.set("mode", levels(c.mode()));
            }
            if (queries.contains(Query.SAMPLE)) {
                out.set("samples", images(c.samples()));
            }
            number(out, "seconds", c.seconds());
            json(ctx, out);
        });
        app.post("/api/samples", ctx -> {
            JsonRequest r = read(ctx, SAMPLE_FIELDS);
            int count = r.integer("count", 8, 1, CircuitService.MAX_SAMPLES);
            List<float[]> samples = service.sample(count, r.seed());
            ObjectNode out = mapper.createObjectNode();
            out.put("seed", r.seed());
            out.set("samples", images(samples));
            json(ctx, out);
        });
        app.post("/api/posterior", ctx -> {
            JsonRequest r = read(ctx, POSTERIOR_FIELDS);
            Image image = r.image(service);
            boolean[] observed = r.observed(service.variables(), false);
            int top = r.integer("top", 10, 1, CircuitService.MAX_TOP);
            Posterior p = service.posterior(image, observed, top, r.bool("images", true), r.seed());
            ObjectNode out = described(image, r.seed());
            out.put("components", p.components());
            number(out, "entropy_bits", p.entropyBits());
            ArrayNode list = out.putArray("top");
            for (Component c : p.top()) {
                ObjectNode n = list.addObject();
                n.put("component", c.component());
                number(n, "probability", c.probability());
                number(n, "log_probability", c.logProbability());
                if (c.latentClass() >= 0) {
                    n.put("class", c.latentClass());
                }
                if (c.mean() != null) {
                    n.set("mean", levels(c.mean()));
                }
            }
            number(out, "seconds", p.seconds());
            json(ctx, out);
        });

        app.exception(RequestException.class, (e, ctx) -> error(ctx, e.status(), e.reason(), e.field()));
        app.exception(InvalidArgumentException.class, (e, ctx) -> error(ctx, 400, e.getMessage(), "body"));
        app.exception(Exception.class, (e, ctx) -> {
            LOG.error("{} {} failed", ctx.method(), ctx.path(), e);
            error(ctx, 500, "the query failed: " + rootMessage(e), null);
        });
        app.error(404, ctx -> {
            if (ctx.path().startsWith("/api/")) {
                error(ctx, 404, "no such endpoint: " + ctx.path(), "path");
            }
        });
        app.error(405, ctx -> error(ctx, 405, ctx.method() + " is not allowed on " + ctx.path(), "method"));
    }

    /**
     * The body as a {@link JsonRequest}, refused with 413 when it exceeds the limit: first by its
     * declared length, then while reading, so a body without a length is cut off too.
     */
    private JsonRequest read(Context ctx, Set<String> allowed) throws IOException {
        int limit = options.maxBodyBytes();
        long declared = ctx.req().getContentLengthLong();
        if (declared > limit) {
            throw tooLarge(declared);
        }
        byte[] body;
        try (InputStream in = ctx.req().getInputStream()) {
            body = in.readNBytes(limit + 1);
        }
        if (body.length > limit) {
            throw tooLarge(-1);
        }
        return JsonRequest.parse(mapper, body, allowed);
    }

    private RequestException tooLarge(long declared) {
        return new RequestException(RequestException.TOO_LARGE, "body", "larger than the limit of "
                + options.maxBodyBytes() + " bytes" + (declared >= 0 ? " (" + declared + " bytes)" : ""));
    }

    private ObjectNode info(Info i) {
        ObjectNode out = mapper.createObjectNode();
        out.put("circuit", i.description());
        out.put("kind", i.kind());
        out.put("variables", i.variables());
        out.put("side", i.side());
        if (i.components() >= 0) {
            out.put("components", i.components());
        }
        out.put("leaf_family", i.leafFamily());
        out.put("encoding", i.encoding().name().toLowerCase());
        out.put("offset_bits", i.encoding().offsetBits());
        out.put("parameter_count", i.parameterCount());
        out.put("backend", i.backend());
        out.put("test_images", i.testImages());
        if (i.testImagesFrom() != null) {
            out.put("test_images_from", i.testImagesFrom());
        }
        ObjectNode limits = out.putObject("limits");
        limits.put("max_body_bytes", options.maxBodyBytes());
        limits.put("max_samples", CircuitService.MAX_SAMPLES);
        limits.put("max_conditional_samples", CircuitService.MAX_CONDITIONAL_SAMPLES);
        limits.put("max_top", CircuitService.MAX_TOP);
        return out;
    }

    /** An answer that starts by saying which image it is about. */
    private ObjectNode described(Image image, long seed) {
        ObjectNode out = mapper.createObjectNode();
        if (image.index() >= 0) {
            out.put("index", image.index());
            out.put("label", image.label());
        } else {
            out.put("image", "posted");
        }
        out.put("seed", seed);
        return out;
    }

    /** An image on the level scale, rounded to 0.01. */
    private ArrayNode levels(float[] values) {
        ArrayNode a = mapper.createArrayNode();
        for (float v : values) {
            a.add(Math.round(v * 100.0) / 100.0);
        }
        return a;
    }

    private ArrayNode images(List<float[]> images) {
        ArrayNode a = mapper.createArrayNode();
        images.forEach(i -> a.add(levels(i)));
        return a;
    }

    /** A number, or null where it is not finite (JSON has no NaN). */
    private static void number(ObjectNode out, String field, double v) {
        if (Double.isFinite(v)) {
            out.put(field, v);
        } else {
            out.putNull(field);
        }
    }

    private void json(Context ctx, ObjectNode body) throws JsonProcessingException {
        ctx.contentType(JSON).result(mapper.writeValueAsBytes(body));
    }

    private void error(Context ctx, int status, String message, String field) {
        ObjectNode out = mapper.createObjectNode();
        out.put("error", message);
        if (field != null) {
            out.put("field", field);
        }
        ctx.status(status).contentType(JSON).result(out.toString());
    }

    private static String rootMessage(Throwable e) {
        Throwable t = e;
        while (t.getCause() != null && t.getCause() != t) {
            t = t.getCause();
        }
        return t.getMessage() != null ? t.getMessage() : t.toString();
    }
}
