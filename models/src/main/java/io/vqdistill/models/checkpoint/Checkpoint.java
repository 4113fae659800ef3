package io.vqdistill.models.checkpoint;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.vqdistill.api.FormatException;
import io.vqdistill.formats.AtomicFiles;
import io.vqdistill.formats.Json;
import io.vqdistill.formats.SafeTensors;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The {@code config.json} of a checkpoint folder, and the rules for reading and writing the folder.
 *
 * <pre>{@code
 * {
 *   "format": "vqdistill-checkpoint", "format_version": 1, "kind": "vqvae",
 *   "architecture": { ... the network's hyperparameters ... },
 *   "provenance": { "seed": 1, "data": "...", "backend": "djl", ... },
 *   "metrics": { "test_nll_bpd": 1.23, ... }
 * }
 * }</pre>
 *
 * @param kind         what network the folder holds, {@link #KIND_VQVAE} or {@link #KIND_PRIOR}
 * @param architecture the hyperparameters a loader needs to rebuild the network
 * @param provenance   where the weights came from
 * @param metrics      measured numbers (losses in nats, bits per dimension, codebook usage); a
 *                     non-finite value is written as {@code null}
 */
public record Checkpoint(String kind, JsonNode architecture, Provenance provenance, Map<String, Double> metrics) {
    /** The configuration file of a checkpoint folder. */
    public static final String CONFIG = "config.json";
    /** The weights file of a checkpoint folder. */
    public static final String WEIGHTS = "weights.safetensors";
    /** The value of the {@code format} field. */
    public static final String FORMAT = "vqdistill-checkpoint";
    /** The format version this code writes and reads. */
    public static final int FORMAT_VERSION = 1;
    /** The kind of a VQ-VAE checkpoint (encoder, codebook and decoder). */
    public static final String KIND_VQVAE = "vqvae";
    /** The kind of a prior checkpoint (class-conditional PixelCNN over code grids). */
    public static final String KIND_PRIOR = "prior";

    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    /** Copies the metrics, keeping their order. */
    public Checkpoint {
        metrics = Collections.unmodifiableMap(new LinkedHashMap<>(metrics));
    }

    /** The path of the configuration file inside {@code dir}. */
    public static Path configFile(Path dir) {
        return dir.resolve(CONFIG);
    }

    /** The path of the weights file inside {@code dir}. */
    public static Path weightsFile(Path dir) {
        return dir.resolve(WEIGHTS);
    }

    /** True when {@code dir} holds a {@code config.json}, i.e. a complete checkpoint. */
    public static boolean exists(Path dir) {
        return Files.isRegularFile(configFile(dir));
    }

    /** This configuration as JSON. */
    ObjectNode toJson() {
        ObjectNode n = JSON.createObjectNode();
        n.put("format", FORMAT);
        n.put("format_version", FORMAT_VERSION);
        n.put("kind", kind);
        n.set("architecture", architecture);
        n.set("provenance", provenance.toJson(JSON));
        ObjectNode m = n.putObject("metrics");
        metrics.forEach((k, v) -> {
            if (Double.isFinite(v)) {
                m.put(k, v);
            } else {
                m.putNull(k);
            }
        });
        return n;
    }

    /**
     * Writes the folder: the weights (PyTorch names and layouts) and then {@code config.json}, each
     * atomically, so a reader never sees a configuration without its weights.
     */
    public void write(Path dir, List<SafeTensors.Entry> weights) {
        SafeTensors.write(weightsFile(dir), weights, Map.of("format", "pt", "kind", kind));
        writeConfig(dir);
    }

    /** Rewrites only {@code config.json} (e.g. to add metrics measured after training). */
    public void writeConfig(Path dir) {
        try {
            AtomicFiles.writeString(configFile(dir), JSON.writeValueAsString(toJson()) + "\n");
        } catch (IOException e) {
            throw new AssertionError("a JSON tree always serialises", e);
        }
    }

    /** Reads and validates the {@code config.json} of {@code dir}. */
    public static Checkpoint read(Path dir) {
        Path file = configFile(dir);
        JsonNode n;
        try {
            n = JSON.readTree(Files.readString(file));
        } catch (NoSuchFileException e) {
            throw FormatException.of(file, "file", "not found: " + dir + " is not a checkpoint folder");
        } catch (IOException e) {
            throw new FormatException(file + ": not valid JSON: " + e.getMessage(), e);
        }
        if (n == null || !n.isObject()) {
            throw FormatException.of(file, "document", "expected a JSON object");
        }
        String format = Json.requireText(n, "format", file, "");
        if (!format.equals(FORMAT)) {
            throw FormatException.of(file, "format", "'" + format + "' is not '" + FORMAT + "'");
        }
        int version = Json.requireInt(n, "format_version", file, "");
        if (version > FORMAT_VERSION) {
            throw FormatException.of(file, "format_version", version + " was written by a newer vqdistill; this build"
                    + " reads version " + FORMAT_VERSION + ", upgrade to load it");
        }
        if (version != FORMAT_VERSION) {
            throw FormatException.of(file, "format_version", version + " is not supported; this build reads "
                    + FORMAT_VERSION);
        }
        String kind = Json.requireText(n, "kind", file, "");
        JsonNode architecture = Json.requireObject(n, "architecture", file, "");
        Provenance provenance = Provenance.fromJson(Json.requireObject(n, "provenance", file, ""), file);
        Map<String, Double> metrics = new LinkedHashMap<>();
        n.path("metrics").fields().forEachRemaining(e -> metrics.put(e.getKey(),
                e.getValue().isNumber() ? e.getValue().asDouble() : Double.NaN));
        return new Checkpoint(kind, architecture, provenance, metrics);
    }

    /** Reads {@code config.json} of {@code dir} and checks that it holds a network of {@code expectedKind}. */
    public static Checkpoint read(Path dir, String expectedKind) {
        Checkpoint c = read(dir);
        if (!c.kind().equals(expectedKind)) {
            throw FormatException.of(configFile(dir), "kind", "'" + c.kind() + "' is not the expected '"
                    + expectedKind + "'");
        }
        return c;
    }

    /** Reads the weights of {@code dir}. */
    public static SafeTensors weights(Path dir) {
        return SafeTensors.read(weightsFile(dir));
    }
}
