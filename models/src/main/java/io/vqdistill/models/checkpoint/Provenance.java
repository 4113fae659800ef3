package io.vqdistill.models.checkpoint;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.vqdistill.formats.Json;
import java.nio.file.Path;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * Where a trained network came from: enough to reproduce it and to know what it is comparable with.
 *
 * @param seed           the seed of initialisation, shuffling and dequantisation noise
 * @param data           the data it was trained on and how it was split
 * @param backend        the backend name that trained it, e.g. {@code djl}
 * @param backendVersion the engine and version, e.g. {@code DJL 0.36.0 / PyTorch 2.7.1}
 * @param java           the Java runtime version
 * @param os             operating system and architecture
 * @param epochs         epochs trained
 * @param bestEpoch      the epoch whose weights were kept (1-based)
 * @param created        when the checkpoint was written, ISO-8601 UTC
 * @param details        further facts, e.g. the VQ-VAE checkpoint a prior was trained on
 */
public record Provenance(long seed, String data, String backend, String backendVersion, String java, String os,
        int epochs, int bestEpoch, String created, Map<String, String> details) {

    private static final Set<String> FIELDS = Set.of("seed", "data", "backend", "backend_version", "java", "os",
            "epochs", "best_epoch", "created", "details");

    /** Copies the details. */
    public Provenance {
        details = Map.copyOf(details);
    }

    /** A provenance stamped with the current runtime (Java version, OS, time). */
    public static Provenance now(long seed, String data, String backend, String backendVersion, int epochs,
            int bestEpoch, Map<String, String> details) {
        return new Provenance(seed, data, backend, backendVersion, Runtime.version().toString(),
                System.getProperty("os.name") + " " + System.getProperty("os.arch"), epochs, bestEpoch,
                Instant.now().toString(), details);
    }

    /** This provenance as a JSON object with snake_case fields. */
    ObjectNode toJson(ObjectMapper json) {
        ObjectNode n = json.createObjectNode();
        n.put("seed", seed);
        n.put("data", data);
        n.put("backend", backend);
        n.put("backend_version", backendVersion);
        n.put("java", java);
        n.put("os", os);
        n.put("epochs", epochs);
        n.put("best_epoch", bestEpoch);
        n.put("created", created);
        ObjectNode d = n.putObject("details");
        new TreeMap<>(details).forEach(d::put);
        return n;
    }

    /** Reads the JSON written by {@link #toJson}; a missing or mistyped field names {@code file}. */
    static Provenance fromJson(JsonNode n, Path file) {
        Json.requireOnly(n, FIELDS, file, "provenance");
        Map<String, String> details = Json.optionalStringMap(n, "details", file, "provenance");
        return new Provenance(
                Json.requireLong(n, "seed", file, "provenance"),
                Json.requireText(n, "data", file, "provenance"),
                Json.requireText(n, "backend", file, "provenance"),
                Json.requireText(n, "backend_version", file, "provenance"),
                Json.requireText(n, "java", file, "provenance"),
                Json.requireText(n, "os", file, "provenance"),
                Json.requireInt(n, "epochs", file, "provenance"),
                Json.requireInt(n, "best_epoch", file, "provenance"),
                Json.requireText(n, "created", file, "provenance"),
                details);
    }
}
