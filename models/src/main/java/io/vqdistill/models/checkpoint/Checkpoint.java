package io.vqdistill.models.checkpoint;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.vqdistill.api.FormatException;
import io.vqdistill.formats.AtomicFolder;
import io.vqdistill.formats.FileKind;
import io.vqdistill.formats.Json;
import io.vqdistill.formats.SafeTensors;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Collections;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The {@code config.json} of a checkpoint folder, and the rules for reading and writing the folder.
 *
 * <p>A checkpoint folder is written as one unit by {@link AtomicFolder} (staged in a hidden
 * sibling, then renamed into place, under a writer's lock), so a reader sees a configuration with
 * the weights it was written with, and a write killed at any instant leaves the previous checkpoint
 * readable. Reading is strict: an unknown field of {@code config.json} is an error naming the file
 * and the field's path, and every weight must be finite ({@link #LOG_PROBABILITY_TENSORS} may also
 * hold -inf), so a damaged file is an error rather than a silently wrong network.
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
 * @param kind         what network the folder holds, {@link #KIND_VQVAE}, {@link #KIND_PRIOR},
 *                     {@link #KIND_CLASSIFIER} or {@link #KIND_CM}
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
    /** The kind of an image classifier checkpoint (labels samples for the class histograms). */
    public static final String KIND_CLASSIFIER = "classifier";
    /** The {@code kind} of a continuous mixture's decoder ({@link io.vqdistill.models.train.CmSpec}). */
    public static final String KIND_CM = "cm";

    /**
     * Tensors that hold log-probabilities and may hold -inf (the log of a zero frequency): the
     * prior's {@code class_log_prior} when a class has no training images.
     */
    public static final Set<String> LOG_PROBABILITY_TENSORS = Set.of("class_log_prior");

    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
    private static final Set<String> FIELDS = Set.of("format", "format_version", "kind", "architecture", "provenance",
            "metrics");

    /**
     * A checkpoint's configuration and weights, read from one version of its folder.
     *
     * @param config  the configuration
     * @param weights the weights, checked finite
     */
    public record Loaded(Checkpoint config, SafeTensors weights) {
    }

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

    /**
     * True when {@code dir} holds a {@code config.json}, i.e. a complete checkpoint (counting one a
     * write killed between its renames left to restore).
     */
    public static boolean exists(Path dir) {
        return AtomicFolder.read(dir, d -> Files.isRegularFile(configFile(d)));
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
     * Writes the weights (PyTorch names and layouts) and {@code config.json} into folder {@code dir}
     * as one commit; other files of the folder (metrics, resume state) are kept.
     *
     * @throws io.vqdistill.api.VqdistillException when another writer holds the folder or the write
     *                                             fails (the previous checkpoint is then intact)
     */
    public void write(Path dir, List<SafeTensors.Entry> weights) {
        AtomicFolder.update(dir, staging -> writeInto(staging, weights));
    }

    /** Writes the weights and {@code config.json} into {@code staging}, a version being committed. */
    public void writeInto(AtomicFolder.Staging staging, List<SafeTensors.Entry> weights) throws IOException {
        staging.write(WEIGHTS, SafeTensors.content(WEIGHTS, weights, Map.of("format", "pt", "kind", kind)));
        writeConfigInto(staging);
    }

    /** Rewrites only {@code config.json} (e.g. to add metrics measured after training), as one commit. */
    public void writeConfig(Path dir) {
        AtomicFolder.update(dir, this::writeConfigInto);
    }

    /** Writes {@code config.json} into {@code staging}, a version being committed. */
    public void writeConfigInto(AtomicFolder.Staging staging) throws IOException {
        staging.writeString(CONFIG, JSON.writeValueAsString(toJson()) + "\n");
    }

    /** Reads and validates the {@code config.json} of {@code dir}. */
    public static Checkpoint read(Path dir) {
        return AtomicFolder.read(dir, Checkpoint::readConfig);
    }

    private static Checkpoint readConfig(Path dir) {
        Path file = configFile(dir);
        FileKind dirKind = FileKind.of(dir);
        if (dirKind != FileKind.FOLDER && dirKind != FileKind.MISSING) {
            throw FormatException.of(dir, "folder", "is " + dirKind.words() + ", not a checkpoint folder");
        }
        FileKind.rejectSpecial(file);
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
        Json.requireOnly(n, FIELDS, file, "");
        Map<String, Double> metrics = new LinkedHashMap<>();
        if (n.has("metrics")) {
            JsonNode m = Json.requireObject(n, "metrics", file, "");
            for (Iterator<Map.Entry<String, JsonNode>> it = m.fields(); it.hasNext();) {
                Map.Entry<String, JsonNode> e = it.next();
                JsonNode v = e.getValue();
                if (!v.isNumber() && !v.isNull()) {
                    throw FormatException.of(file, "metrics." + e.getKey(), "expected a number or null (not"
                            + " finite), found " + v);
                }
                metrics.put(e.getKey(), v.isNumber() ? v.asDouble() : Double.NaN);
            }
        }
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

    /**
     * Reads the weights of {@code dir}, checking that every value is finite (-inf allowed in
     * {@link #LOG_PROBABILITY_TENSORS}).
     *
     * @throws FormatException naming the file, the tensor and the first bad element
     */
    public static SafeTensors weights(Path dir) {
        return AtomicFolder.read(dir, Checkpoint::readWeights);
    }

    private static SafeTensors readWeights(Path dir) {
        return SafeTensors.read(weightsFile(dir)).requireFinite(LOG_PROBABILITY_TENSORS);
    }

    /**
     * Reads the configuration (which must be of {@code expectedKind}) and the weights of {@code dir}
     * from one version of the folder, even while a writer replaces it.
     */
    public static Loaded load(Path dir, String expectedKind) {
        return AtomicFolder.read(dir, d -> {
            Checkpoint c = readConfig(d);
            if (!c.kind().equals(expectedKind)) {
                throw FormatException.of(configFile(d), "kind", "'" + c.kind() + "' is not the expected '"
                        + expectedKind + "'");
            }
            return new Loaded(c, readWeights(d));
        });
    }
}
