package io.vqdistill.circuits.io;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.vqdistill.api.Backend;
import io.vqdistill.api.DType;
import io.vqdistill.api.FormatException;
import io.vqdistill.api.InvalidArgumentException;
import io.vqdistill.api.Tensor;
import io.vqdistill.api.circuit.Circuit;
import io.vqdistill.api.circuit.LeafFamily;
import io.vqdistill.api.model.LatentShape;
import io.vqdistill.api.search.LatentSet;
import io.vqdistill.circuits.CircuitBuilder;
import io.vqdistill.circuits.CircuitStructure.Kind;
import io.vqdistill.circuits.CircuitStructure;
import io.vqdistill.circuits.DagCircuit;
import io.vqdistill.circuits.LeafFamilies;
import io.vqdistill.circuits.ShallowMixture;
import io.vqdistill.circuits.layered.LayeredCircuit;
import io.vqdistill.circuits.layered.LayeredSpec;
import io.vqdistill.formats.AtomicFolder;
import io.vqdistill.formats.Digests;
import io.vqdistill.formats.FileKind;
import io.vqdistill.formats.Json;
import io.vqdistill.formats.SafeTensors;
import io.vqdistill.formats.ShardedSafeTensors;
import io.vqdistill.formats.TensorStore;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.function.Function;

/**
 * Reads and writes circuits (shallow mixtures, DAGs and layered Einsum networks) as a folder holding {@code circuit.json} (format, structure summary,
 * leaf family and options, provenance, and the SHA-256 of the tensor file) and
 * {@code circuit.safetensors} (every number), as documented in {@code circuits/FORMAT.md}. The
 * folder is written as one unit by {@link AtomicFolder} under a writer's lock: a reader sees the
 * previous pair or the new pair, never one file of each, and a write killed at any instant leaves
 * the previous circuit readable. Every defect of a folder is a {@link FormatException} naming the
 * file and the field: unknown fields, non-finite numbers (naming the tensor and the first bad
 * element), a {@code parameter_count} or class tags that disagree with the tensors.
 */
public final class CircuitFiles {
    /** The structure and metadata file. */
    public static final String JSON = "circuit.json";
    /** The stem of the tensor files: {@code circuit.safetensors}, or shards under an index. */
    public static final String STEM = "circuit";
    /** The parameter file of a circuit whose tensors fit in one shard. */
    public static final String TENSORS = ShardedSafeTensors.single(STEM);
    /** The index of the shards of a larger circuit. */
    public static final String INDEX = ShardedSafeTensors.index(STEM);
    /**
     * The system property that sets the largest shard, in bytes of tensor data, of circuits written
     * without an explicit size (default {@link ShardedSafeTensors#DEFAULT_MAX_SHARD_BYTES}).
     */
    public static final String MAX_SHARD_BYTES_PROPERTY = "vqdistill.circuit.maxShardBytes";
    /** The value of the {@code format} field. */
    public static final String FORMAT = "vqdistill-circuit";
    /** The format version written; readers accept 1..this. */
    public static final int FORMAT_VERSION = 1;
    /** The {@code kind} of a {@link ShallowMixture}. */
    public static final String SHALLOW_MIXTURE = "shallow_mixture";
    /** The {@code kind} of a {@link DagCircuit}. */
    public static final String DAG = "dag";
    /** The {@code kind} of a {@link LayeredCircuit}. */
    public static final String LAYERED = "layered";
    /** The {@code structure.type} of a Poon–Domingos {@link LayeredCircuit}. */
    public static final String POON_DOMINGOS = "poon_domingos";

    private static final ObjectMapper MAPPER = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
    private static final Set<String> DAG_TENSORS = Set.of("unit_kind", "unit_variable", "child_offsets", "children",
            "edge_log_weights");
    private static final Set<String> COMMON_FIELDS = Set.of("format", "format_version", "kind", "variables", "leaf",
            "parameter_count", "tensors_sha256", "provenance");
    private static final Set<String> MIXTURE_FIELDS = union(COMMON_FIELDS, "components", "latents");
    private static final Set<String> DAG_FIELDS = union(COMMON_FIELDS, "units", "edges", "inputs");
    private static final Set<String> LAYERED_FIELDS = union(COMMON_FIELDS, "structure");
    private static final String SUM_WEIGHTS = "sum_weights_";

    private CircuitFiles() {
    }

    // ---- writing ------------------------------------------------------------------------------

    /**
     * Writes {@code circuit} (a {@link ShallowMixture}, a {@link DagCircuit} or a {@link LayeredCircuit}) into folder
     * {@code dir}, created if missing, replacing an earlier circuit there; other files in the
     * folder are kept. The class count of the mixture's latents is not recorded; see
     * {@link #write(Path, Circuit, Map, int)}.
     *
     * @param provenance free-form facts (seed, configuration, data) recorded in {@code circuit.json};
     *                   {@code created}, {@code java}, {@code os} and {@code backend} are added
     *                   unless given
     * @throws io.vqdistill.api.VqdistillException when another process or thread is writing the
     *                                             folder, or the write fails (the previous circuit
     *                                             is then intact)
     */
    public static void write(Path dir, Circuit circuit, Map<String, String> provenance) {
        write(dir, circuit, provenance, 0);
    }

    /**
     * Writes {@code circuit} as {@link #write(Path, Circuit, Map)} does, recording for a mixture
     * with latents that their class tags come from {@code numClasses} classes
     * ({@code latents.num_classes}): every tag must then be -1 or in [0, numClasses), which readers
     * check.
     *
     * @param numClasses the number of classes of the prior the latents were searched under; 0 when
     *                   unknown (nothing is recorded)
     */
    public static void write(Path dir, Circuit circuit, Map<String, String> provenance, int numClasses) {
        write(dir, circuit, provenance, numClasses, maxShardBytes());
    }

    /**
     * The largest shard of circuits written without an explicit size: the system property
     * {@value #MAX_SHARD_BYTES_PROPERTY}, else {@link ShardedSafeTensors#DEFAULT_MAX_SHARD_BYTES}.
     *
     * @throws InvalidArgumentException naming the property when it is not a number of bytes in range
     */
    public static long maxShardBytes() {
        String v = System.getProperty(MAX_SHARD_BYTES_PROPERTY);
        if (v == null) {
            return ShardedSafeTensors.DEFAULT_MAX_SHARD_BYTES;
        }
        try {
            long bytes = Long.parseLong(v.trim());
            if (bytes >= 1 && bytes <= ShardedSafeTensors.MAX_SHARD_BYTES) {
                return bytes;
            }
        } catch (NumberFormatException e) {
            // reported below
        }
        throw new InvalidArgumentException("-D" + MAX_SHARD_BYTES_PROPERTY + " must be a number of bytes in [1, "
                + ShardedSafeTensors.MAX_SHARD_BYTES + "], found '" + v + "'");
    }

    /**
     * Writes {@code circuit} as {@link #write(Path, Circuit, Map, int)} does, into {@value #TENSORS}
     * when its tensors' data fit in {@code maxShardBytes}, else into shards of at most that many data
     * bytes under the index {@value #INDEX} (see {@link ShardedSafeTensors} and FORMAT.md); the files
     * of the other layout that an earlier circuit left are removed.
     */
    public static void write(Path dir, Circuit circuit, Map<String, String> provenance, int numClasses,
                             long maxShardBytes) {
        if (numClasses < 0) {
            throw InvalidArgumentException.of("numClasses", numClasses, ">= 0 (0 when unknown)");
        }
        ObjectNode json = MAPPER.createObjectNode();
        json.put("format", FORMAT);
        json.put("format_version", FORMAT_VERSION);
        List<ShardedSafeTensors.Source> tensors = new ArrayList<>();
        if (circuit instanceof ShallowMixture m) {
            json.put("kind", SHALLOW_MIXTURE);
            json.put("variables", m.numVariables());
            json.put("components", m.components());
            tensors.add(source(SafeTensors.Entry.of("log_weights", floats(m.logWeights()), m.components())));
            m.parameters().forEach((name, t) -> tensors.add(source(name, t)));
            m.latents().ifPresent(l -> {
                LatentShape shape = l.shape();
                ObjectNode node = json.putObject("latents");
                node.put("height", shape.height());
                node.put("width", shape.width());
                node.put("codebook_size", shape.codebookSize());
                if (numClasses > 0) {
                    node.put("num_classes", numClasses);
                }
                checkClasses(l.classes(), numClasses, "circuit latents: class tag", InvalidArgumentException::new);
                tensors.add(source(SafeTensors.Entry.of("latents", l.codes(), l.size(), shape.positions())));
                tensors.add(source(SafeTensors.Entry.of("classes", l.classes(), l.size())));
                tensors.add(source(SafeTensors.Entry.of("latent_log_probs", l.logProbs(), l.size())));
            });
        } else if (circuit instanceof DagCircuit d) {
            CircuitStructure s = d.structure();
            json.put("kind", DAG);
            json.put("variables", s.numVariables());
            json.put("units", s.numUnits());
            json.put("edges", s.numEdges());
            json.put("inputs", s.numInputs());
            structureTensors(s, tensors);
            d.parameters().forEach((name, t) -> {
                if (DAG_TENSORS.contains(name)) {
                    throw new InvalidArgumentException("cannot store leaf parameter '" + name + "': the name is taken"
                            + " by the circuit structure");
                }
                tensors.add(source(name, t));
            });
        } else if (circuit instanceof LayeredCircuit l) {
            LayeredSpec spec = l.spec();
            json.put("kind", LAYERED);
            json.put("variables", l.numVariables());
            ObjectNode structure = json.putObject("structure");
            structure.put("type", POON_DOMINGOS);
            structure.put("height", spec.height());
            structure.put("width", spec.width());
            ArrayNode pieces = structure.putArray("pieces");
            Arrays.stream(spec.pieces()).forEach(pieces::add);
            structure.put("leaves", spec.leaves());
            structure.put("sums", spec.sums());
            l.parameters().forEach((name, t) -> {
                if (name.startsWith(SUM_WEIGHTS)) {
                    throw new InvalidArgumentException("cannot store leaf parameter '" + name + "': names beginning"
                            + " with " + SUM_WEIGHTS + " are taken by the sum weights");
                }
                tensors.add(source(name, t));
            });
            List<Tensor> weights = l.sumWeights();
            try {
                for (int i = 0; i < weights.size(); i++) {
                    tensors.add(source(SafeTensors.Entry.of(SUM_WEIGHTS + i, weights.get(i))));
                }
            } finally {
                weights.forEach(Tensor::close);
            }
        } else {
            throw new InvalidArgumentException("cannot store a " + circuit.getClass().getName()
                    + "; only ShallowMixture, DagCircuit and LayeredCircuit have a file format");
        }
        LeafFamily family = circuit.leafFamily();
        ObjectNode leaf = json.putObject("leaf");
        leaf.put("family", family.name());
        ObjectNode options = leaf.putObject("options");
        new TreeMap<>(family.options()).forEach(options::put);
        ArrayNode params = leaf.putArray("parameters");
        for (LeafFamily.Parameter p : family.parameters()) {
            ObjectNode pn = params.addObject();
            pn.put("name", p.name());
            ArrayNode event = pn.putArray("event_shape");
            for (long e : p.eventShape()) {
                event.add(e);
            }
        }
        json.put("parameter_count", circuit.parameterCount());
        ObjectNode prov = MAPPER.createObjectNode();
        Map<String, String> all = new LinkedHashMap<>(provenance);
        all.putIfAbsent("created", Instant.now().toString());
        all.putIfAbsent("java", System.getProperty("java.version"));
        all.putIfAbsent("os", System.getProperty("os.name") + " " + System.getProperty("os.arch"));
        all.putIfAbsent("backend", circuit.backend().name() + " (" + circuit.backend().version() + ")");
        all.forEach(prov::put);
        ShardedSafeTensors.Plan plan = ShardedSafeTensors.plan(dir.resolve(TENSORS).toString(), STEM, tensors,
                Map.of("format", FORMAT), maxShardBytes);
        AtomicFolder.update(dir, staging -> {
            Path tensorFile = plan.write(staging);
            json.put("tensors_sha256", Digests.sha256(tensorFile));
            json.set("provenance", prov);
            staging.writeString(JSON, MAPPER.writeValueAsString(json) + "\n");
        });
    }

    private static ShardedSafeTensors.Source source(SafeTensors.Entry e) {
        return ShardedSafeTensors.Source.of(e);
    }

    /** A tensor of the circuit, copied to the host one block of rows at a time as its shard is written. */
    private static ShardedSafeTensors.Source source(String name, Tensor t) {
        return new ShardedSafeTensors.Source(name, t.dtype(), t.shape(), (stored, from, to) -> {
            if (from == 0 && to == t.shape()[0]) {
                return SafeTensors.Entry.of(stored, t);
            }
            try (Tensor rows = t.slice(0, from, to)) {
                return SafeTensors.Entry.of(stored, rows);
            }
        });
    }

    private static float[] floats(double[] v) {
        float[] f = new float[v.length];
        for (int i = 0; i < v.length; i++) {
            f[i] = (float) v[i];
        }
        return f;
    }

    private static void structureTensors(CircuitStructure s, List<ShardedSafeTensors.Source> out) {
        int u = s.numUnits();
        int[] kind = new int[u];
        int[] variable = new int[u];
        long[] offsets = new long[u + 1];
        int[] children = new int[s.numEdges()];
        float[] weights = new float[s.numEdges()];
        for (int v = 0; v < u; v++) {
            kind[v] = s.kind(v).ordinal();
            variable[v] = s.kind(v) == Kind.INPUT ? s.variable(v) : -1;
            int[] ch = s.children(v);
            int at = (int) offsets[v];
            System.arraycopy(ch, 0, children, at, ch.length);
            if (s.kind(v) == Kind.SUM) {
                double[] w = s.logWeights(v);
                for (int a = 0; a < w.length; a++) {
                    weights[at + a] = (float) w[a];
                }
            }
            offsets[v + 1] = offsets[v] + ch.length;
        }
        out.add(source(SafeTensors.Entry.of("unit_kind", kind, u)));
        out.add(source(SafeTensors.Entry.of("unit_variable", variable, u)));
        out.add(source(SafeTensors.Entry.of("child_offsets", offsets, u + 1L)));
        out.add(source(SafeTensors.Entry.of("children", children, s.numEdges())));
        out.add(source(SafeTensors.Entry.of("edge_log_weights", weights, s.numEdges())));
    }

    // ---- reading ------------------------------------------------------------------------------

    /** The provenance recorded in {@code dir/circuit.json}. */
    public static Map<String, String> provenance(Path dir) {
        return AtomicFolder.read(dir, d -> {
            Path file = d.resolve(JSON);
            JsonNode node = readJson(file).path("provenance");
            Map<String, String> out = new LinkedHashMap<>();
            node.fields().forEachRemaining(e -> out.put(e.getKey(), e.getValue().asText()));
            return out;
        });
    }

    /**
     * The tensor file of the circuit in {@code dir}: the index {@value #INDEX} of its shards when it has
     * one, else {@value #TENSORS}.
     */
    public static Path tensorFile(Path dir) {
        return ShardedSafeTensors.mainFile(dir, STEM);
    }

    /**
     * The number of classes the latents' class tags come from, as {@code circuit.json} records it
     * ({@code latents.num_classes}); 0 when it records none.
     */
    public static int numClasses(Path dir) {
        return AtomicFolder.read(dir, d -> readJson(d.resolve(JSON)).path("latents").path("num_classes").asInt(0));
    }

    /**
     * True when {@code dir} holds a circuit ({@code circuit.json}), counting one that a write killed
     * between its renames left to restore (the check restores it when it can).
     */
    public static boolean exists(Path dir) {
        return AtomicFolder.read(dir, d -> Files.isRegularFile(d.resolve(JSON)));
    }

    /**
     * Reads the circuit stored in {@code dir} onto {@code backend}: a {@link ShallowMixture}, a
     * {@link DagCircuit} or a {@link LayeredCircuit}, as {@code circuit.json} says. The caller closes it.
     *
     * @throws FormatException for a missing, truncated, corrupt or inconsistent file, naming the
     *                         file and the field
     */
    public static Circuit read(Path dir, Backend backend) {
        return AtomicFolder.read(dir, d -> readFolder(d, backend));
    }

    private static Circuit readFolder(Path dir, Backend backend) {
        Path jsonFile = dir.resolve(JSON);
        JsonNode json = readJson(jsonFile);
        String format = Json.requireText(json, "format", jsonFile, "");
        if (!FORMAT.equals(format)) {
            throw FormatException.of(jsonFile, "format", "expected '" + FORMAT + "', found '" + format + "'");
        }
        int version = Json.requireInt(json, "format_version", 1, jsonFile, "");
        if (version > FORMAT_VERSION) {
            throw FormatException.of(jsonFile, "format_version", version + " is newer than this reader (up to "
                    + FORMAT_VERSION + ")");
        }
        String kind = Json.requireText(json, "kind", jsonFile, "");
        if (!kind.equals(SHALLOW_MIXTURE) && !kind.equals(DAG) && !kind.equals(LAYERED)) {
            throw FormatException.of(jsonFile, "kind", "expected '" + SHALLOW_MIXTURE + "', '" + DAG + "' or '"
                    + LAYERED + "', found '" + kind + "'");
        }
        int variables = Json.requireInt(json, "variables", 1, jsonFile, "");
        long parameterCount = Json.requireLong(json, "parameter_count", jsonFile, "");
        Json.requireObject(json, "provenance", jsonFile, "");
        LeafFamily family = family(jsonFile, json);
        TensorStore st = ShardedSafeTensors.read(dir, STEM);
        Path tensorFile = st.file();
        String hash = Digests.sha256(tensorFile);
        String recorded = Json.requireText(json, "tensors_sha256", jsonFile, "");
        if (!hash.equals(recorded)) {
            throw FormatException.of(tensorFile, "tensors_sha256", "the file's SHA-256 is " + hash + " but " + JSON
                    + " records " + recorded + " (corrupted, or not written together with it)");
        }
        Circuit circuit = switch (kind) {
            case DAG -> readDag(jsonFile, json, st, family, variables, backend);
            case LAYERED -> readLayered(jsonFile, json, st, family, variables, backend);
            default -> readMixture(jsonFile, json, st, family, variables, backend);
        };
        if (circuit.parameterCount() != parameterCount) {
            circuit.close();
            throw FormatException.of(jsonFile, "parameter_count", parameterCount + " but the tensors of "
                    + tensorFile.getFileName()
                    + " hold " + circuit.parameterCount() + " free parameters");
        }
        return circuit;
    }

    private static Set<String> union(Set<String> a, String... more) {
        Set<String> out = new LinkedHashSet<>(a);
        out.addAll(List.of(more));
        return Set.copyOf(out);
    }

    /** Every class tag must be -1 (none) or, when {@code numClasses > 0}, in [0, numClasses). */
    private static <E extends RuntimeException> void checkClasses(int[] classes, int numClasses, String what,
            Function<String, E> error) {
        for (int i = 0; i < classes.length; i++) {
            int c = classes[i];
            if (c < -1 || (numClasses > 0 && c >= numClasses)) {
                throw error.apply(what + " " + i + " is " + c + ", outside " + (numClasses > 0 ? "[-1, " + numClasses
                        + ") for " + numClasses + " classes" : "-1 (none) and the classes 0, 1, ..."));
            }
        }
    }

    private static JsonNode readJson(Path file) {
        FileKind.rejectSpecial(file);
        try {
            JsonNode node = MAPPER.readTree(Files.readString(file));
            if (node == null || !node.isObject()) {
                throw new FormatException(file + ": expected a JSON object");
            }
            return node;
        } catch (NoSuchFileException e) {
            throw new FormatException(file + ": file not found", e);
        } catch (IOException e) {
            throw new FormatException(file + ": not valid JSON: " + e.getMessage(), e);
        }
    }

    private static LeafFamily family(Path file, JsonNode json) {
        JsonNode leaf = Json.requireObject(json, "leaf", file, "");
        Json.requireOnly(leaf, List.of("family", "options", "parameters"), file, "leaf");
        String name = Json.requireText(leaf, "family", file, "leaf");
        Map<String, String> options = Json.optionalStringMap(leaf, "options", file, "leaf");
        LeafFamily family;
        try {
            family = LeafFamilies.create(name, options);
        } catch (InvalidArgumentException | IllegalArgumentException e) {
            // a plug-in family may still reject its options with the JDK's exception
            throw new FormatException(file + ": leaf: " + e.getMessage(), e);
        }
        if (leaf.has("parameters")) {
            ArrayNode expected = MAPPER.createArrayNode();
            for (LeafFamily.Parameter p : family.parameters()) {
                ObjectNode pn = expected.addObject();
                pn.put("name", p.name());
                ArrayNode event = pn.putArray("event_shape");
                for (long e : p.eventShape()) {
                    event.add(e);
                }
            }
            if (!expected.toString().equals(leaf.get("parameters").toString())) {
                throw FormatException.of(file, "leaf.parameters", leaf.get("parameters") + " but the " + name
                        + " family has " + expected);
            }
        }
        return family;
    }

    private static ShallowMixture readMixture(Path jsonFile, JsonNode json, TensorStore st, LeafFamily family,
                                              int variables, Backend backend) {
        int n = Json.requireInt(json, "components", 1, jsonFile, "");
        Json.requireOnly(json, MIXTURE_FIELDS, jsonFile, "");
        Path file = st.file();
        Set<String> expected = new LinkedHashSet<>(List.of("log_weights"));
        family.parameters().forEach(p -> expected.add(p.name()));
        LatentSet latents = null;
        if (json.has("latents")) {
            JsonNode lat = Json.requireObject(json, "latents", jsonFile, "");
            Json.requireOnly(lat, List.of("height", "width", "codebook_size", "num_classes"), jsonFile, "latents");
            int numClasses = lat.has("num_classes") ? Json.requireInt(lat, "num_classes", 1, jsonFile, "latents") : 0;
            LatentShape shape = new LatentShape(Json.requireInt(lat, "height", 1, jsonFile, "latents"),
                    Json.requireInt(lat, "width", 1, jsonFile, "latents"),
                    Json.requireInt(lat, "codebook_size", 1, jsonFile, "latents"));
            int[] codes = st.get("latents", DType.INT32, n, shape.positions()).toInts();
            int[] classes = st.get("classes", DType.INT32, n).toInts();
            checkClasses(classes, numClasses, "tensor 'classes': element",
                    m -> new FormatException(file + ": " + m + (numClasses > 0 ? " (latents.num_classes in " + JSON
                            + ")" : "")));
            SafeTensors.Entry scoreEntry = st.get("latent_log_probs", DType.FLOAT64, n);
            double[] scores = scoreEntry.toDoubles();
            for (int i = 0; i < n; i++) {
                if (scores[i] == Double.POSITIVE_INFINITY) {
                    throw FormatException.of(file, "tensor 'latent_log_probs'", "element " + i + " is Infinity; a"
                            + " log-probability is finite, -inf, or NaN when unknown");
                }
            }
            try {
                latents = new LatentSet(shape, codes, classes, scores);
            } catch (InvalidArgumentException e) {
                throw FormatException.of(file, "latents", e.getMessage());
            }
            expected.addAll(List.of("latents", "classes", "latent_log_probs"));
        }
        checkNames(st, expected);
        double[] weights = st.get("log_weights", DType.FLOAT32, n).toDoubles();
        st.requireFinite("log_weights", true);
        Map<String, Tensor> params = parameters(st, family, new long[] {n, variables}, backend);
        try {
            return ShallowMixture.builder(family).parameters(params).logWeights(weights).latents(latents).build();
        } catch (InvalidArgumentException | IllegalArgumentException e) {
            throw new FormatException(file + ": " + e.getMessage(), e);
        } finally {
            params.values().forEach(Tensor::close);
        }
    }

    private static DagCircuit readDag(Path jsonFile, JsonNode json, TensorStore st, LeafFamily family, int variables,
                                      Backend backend) {
        int units = Json.requireInt(json, "units", 1, jsonFile, "");
        int edges = Json.requireInt(json, "edges", 0, jsonFile, "");
        int inputs = Json.requireInt(json, "inputs", 1, jsonFile, "");
        Json.requireOnly(json, DAG_FIELDS, jsonFile, "");
        Path file = st.file();
        Set<String> expected = new LinkedHashSet<>(DAG_TENSORS);
        family.parameters().forEach(p -> expected.add(p.name()));
        checkNames(st, expected);
        int[] kind = st.get("unit_kind", DType.INT32, units).toInts();
        int[] variable = st.get("unit_variable", DType.INT32, units).toInts();
        double[] offsets = st.get("child_offsets", DType.INT64, units + 1L).toDoubles();
        int[] children = st.get("children", DType.INT32, edges).toInts();
        double[] weights = st.get("edge_log_weights", DType.FLOAT32, edges).toDoubles();
        st.requireFinite("edge_log_weights", true);
        CircuitStructure structure;
        try {
            structure = rebuild(file, variables, kind, variable, offsets, children, weights);
        } catch (InvalidArgumentException e) {
            throw new FormatException(file + ": structure: " + e.getMessage(), e);
        }
        if (structure.numInputs() != inputs) {
            throw FormatException.of(jsonFile, "inputs", inputs + " but the structure has " + structure.numInputs()
                    + " input units");
        }
        Map<String, Tensor> params = parameters(st, family, new long[] {inputs}, backend);
        try {
            return DagCircuit.create(structure, family, params);
        } catch (InvalidArgumentException | IllegalArgumentException e) {
            throw new FormatException(file + ": " + e.getMessage(), e);
        } finally {
            params.values().forEach(Tensor::close);
        }
    }

    private static LayeredCircuit readLayered(Path jsonFile, JsonNode json, TensorStore st, LeafFamily family,
                                              int variables, Backend backend) {
        Json.requireOnly(json, LAYERED_FIELDS, jsonFile, "");
        JsonNode node = Json.requireObject(json, "structure", jsonFile, "");
        Json.requireOnly(node, List.of("type", "height", "width", "pieces", "leaves", "sums"), jsonFile, "structure");
        String type = Json.requireText(node, "type", jsonFile, "structure");
        if (!POON_DOMINGOS.equals(type)) {
            throw FormatException.of(jsonFile, "structure.type", "expected '" + POON_DOMINGOS + "', found '" + type
                    + "'");
        }
        LayeredSpec spec;
        try {
            spec = new LayeredSpec(Json.requireInt(node, "height", 1, jsonFile, "structure"),
                    Json.requireInt(node, "width", 1, jsonFile, "structure"),
                    Json.requireIntArray(node, "pieces", 1, jsonFile, "structure"),
                    Json.requireInt(node, "leaves", 1, jsonFile, "structure"),
                    Json.requireInt(node, "sums", 1, jsonFile, "structure"));
        } catch (InvalidArgumentException e) {
            throw FormatException.of(jsonFile, "structure", e.getMessage());
        }
        if (spec.variables() != variables) {
            throw FormatException.of(jsonFile, "variables", variables + " but the structure is an image of "
                    + spec.height() + "x" + spec.width() + " pixels");
        }
        int layers = spec.graph().maxDepth();
        Set<String> expected = new LinkedHashSet<>();
        family.parameters().forEach(p -> expected.add(p.name()));
        for (int i = 0; i < layers; i++) {
            expected.add(SUM_WEIGHTS + i);
        }
        checkNames(st, expected);
        Path file = st.file();
        Map<String, Tensor> params = parameters(st, family, new long[] {variables, spec.leaves()}, backend);
        List<Tensor> weights = new ArrayList<>();
        try {
            for (int i = 0; i < layers; i++) {
                String name = SUM_WEIGHTS + i;
                SafeTensors.Entry e = st.get(name, DType.FLOAT32, LayeredCircuit.weightShape(spec, i));
                st.requireFinite(name, false);
                weights.add(e.toTensor(backend));
            }
            return LayeredCircuit.create(spec, family, params, weights);
        } catch (InvalidArgumentException | IllegalArgumentException e) {
            throw new FormatException(file + ": " + e.getMessage(), e);
        } finally {
            params.values().forEach(Tensor::close);
            weights.forEach(Tensor::close);
        }
    }

    private static CircuitStructure rebuild(Path file, int variables, int[] kind, int[] variable, double[] offsets,
                                            int[] children, double[] weights) {
        CircuitBuilder b = new CircuitBuilder(variables);
        Kind[] kinds = Kind.values();
        if (offsets[0] != 0 || offsets[offsets.length - 1] != children.length) {
            throw FormatException.of(file, "child_offsets", "must run from 0 to " + children.length + ", found "
                    + (long) offsets[0] + " to " + (long) offsets[offsets.length - 1]);
        }
        for (int u = 0; u < kind.length; u++) {
            int from = (int) offsets[u];
            int to = (int) offsets[u + 1];
            if (to < from) {
                throw FormatException.of(file, "child_offsets", "decrease at unit " + u);
            }
            int[] ch = Arrays.copyOfRange(children, from, to);
            if (kind[u] < 0 || kind[u] >= kinds.length) {
                throw FormatException.of(file, "unit_kind", "unit " + u + " has kind " + kind[u]
                        + ", expected 0 (input), 1 (product) or 2 (sum)");
            }
            switch (kinds[kind[u]]) {
                case INPUT -> {
                    if (ch.length != 0) {
                        throw FormatException.of(file, "child_offsets", "input unit " + u + " has " + ch.length
                                + " children");
                    }
                    b.input(variable[u]);
                }
                case PRODUCT -> b.product(ch);
                case SUM -> b.sum(ch, Arrays.copyOfRange(weights, from, to));
            }
        }
        return b.build();
    }

    private static void checkNames(TensorStore st, Set<String> expected) {
        for (String name : expected) {
            st.require(name);
        }
        for (String name : st.names()) {
            if (!expected.contains(name)) {
                throw FormatException.of(st.file(), "tensor '" + name + "'", "not part of this circuit (expected "
                        + expected + ")");
            }
        }
    }

    private static Map<String, Tensor> parameters(TensorStore st, LeafFamily family, long[] lead, Backend backend) {
        Map<String, Tensor> params = new LinkedHashMap<>();
        try {
            for (LeafFamily.Parameter p : family.parameters()) {
                long[] event = p.eventShape();
                long[] shape = Arrays.copyOf(lead, lead.length + event.length);
                System.arraycopy(event, 0, shape, lead.length, event.length);
                st.require(p.name(), DType.FLOAT32, shape);
                st.requireFinite(p.name(), false);
                params.put(p.name(), st.toTensor(p.name(), DType.FLOAT32, shape, backend));
            }
            return params;
        } catch (RuntimeException e) {
            params.values().forEach(Tensor::close);
            throw e;
        }
    }
}
