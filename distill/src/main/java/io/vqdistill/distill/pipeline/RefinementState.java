package io.vqdistill.distill.pipeline;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.vqdistill.api.DType;
import io.vqdistill.api.FormatException;
import io.vqdistill.api.InvalidArgumentException;
import io.vqdistill.api.Tensor;
import io.vqdistill.circuits.MixtureEm;
import io.vqdistill.circuits.ShallowMixture;
import io.vqdistill.circuits.io.CircuitFiles;
import io.vqdistill.formats.AtomicFolder;
import io.vqdistill.formats.Json;
import io.vqdistill.formats.SafeTensors;
import io.vqdistill.formats.ShardedSafeTensors;
import io.vqdistill.formats.TensorStore;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * The saved progress of a {@link Refinement}, so that a killed run continues where it stopped. The
 * state is a folder written as one unit by {@link AtomicFolder} (a kill at any instant leaves the
 * previous version or the new one), under a writer's lock held for the whole run, holding:
 *
 * <ul>
 *   <li>{@value #STATE_JSON}: the format, the refinement's facts (checked on resume: the SHA-256 of the
 *   saved circuit's {@code circuit.json}, which records its tensors' SHA-256, the training and
 *   validation images, the floors, shrinkages, smoothing, seed, patience, epochs, precision and
 *   backend), the candidates finished with their reports and the index of the best, the running
 *   candidate's progress (its floored start, epoch reports, stale count, best epoch and score), and
 *   the files of every mixture kept;</li>
 *   <li>the mixtures needed to continue: the running candidate's current and best ones and the best
 *   finished one, each as safetensors ({@code c<candidate>-e<epoch>.safetensors}, or shards under an
 *   index when large) holding the leaf parameters as they were and the normalised log weights in
 *   float64, so that a restored mixture is the saved one bit for bit.</li>
 * </ul>
 *
 * A commit is made after every candidate's floored start, every EM update and every finished
 * candidate; it stages the new mixture, drops the ones no longer needed and rewrites
 * {@value #STATE_JSON}. A state whose facts differ from the run's is refused, naming the first field
 * that differs with both values.
 */
public final class RefinementState implements AutoCloseable {
    /** The {@code format} value of {@value #STATE_JSON}. */
    public static final String FORMAT = "vqdistill.refine-state/1";
    /** The file naming everything else in the folder. */
    public static final String STATE_JSON = "state.json";
    private static final String LOG_WEIGHTS = "log_weights";
    private static final Set<String> FIELDS = Set.of("format", "facts", "trials", "chosen", "chosen_mixture",
            "running", "mixtures");
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Pattern STEM = Pattern.compile("c\\d+-e\\d+");

    /**
     * The progress of the candidate being refined.
     *
     * @param candidate its index among the candidates
     * @param start     its floored start
     * @param epochs    the EM updates made
     * @param stale     updates in a row without improvement
     * @param bestEpoch the update with the best validation score (0: the floored start)
     * @param bestBpd   that score
     * @param current   the stem of the mixture the next update starts from
     * @param best      the stem of the mixture of {@code bestEpoch}
     */
    public record Running(int candidate, Refinement.Start start, List<Refinement.Epoch> epochs, int stale,
                         int bestEpoch, double bestBpd, String current, String best) {
        /** Copies. */
        public Running {
            Objects.requireNonNull(start, "start");
            epochs = List.copyOf(epochs);
            Objects.requireNonNull(current, "current");
            Objects.requireNonNull(best, "best");
        }
    }

    private final Path dir;
    private final Map<String, String> facts;
    private AtomicFolder.Writer writer;
    private final List<Refinement.Trial> trials = new ArrayList<>();
    private int chosen = -1;
    private String chosenMixture;
    private Running running;
    private final Map<String, List<String>> mixtures = new LinkedHashMap<>();

    private RefinementState(Path dir, Map<String, String> facts, AtomicFolder.Writer writer) {
        this.dir = dir;
        this.facts = Map.copyOf(facts);
        this.writer = writer;
    }

    /**
     * Takes the folder {@code dir} (holding its writer's lock until {@link #close()}) and reads the
     * state it holds, if any.
     *
     * @param facts the refinement's facts, field by field in the order they are checked
     * @throws InvalidArgumentException when the folder holds a state made with other facts (naming the
     *                                  field, its saved value and this run's), or other files and no state
     * @throws FormatException          when {@value #STATE_JSON} is not a readable state
     * @throws io.vqdistill.api.VqdistillException when another run holds the folder
     */
    public static RefinementState open(Path dir, Map<String, String> facts) {
        Objects.requireNonNull(dir, "dir");
        AtomicFolder.Writer writer = AtomicFolder.open(dir);
        try {
            RefinementState state = new RefinementState(dir, facts, writer);
            Path file = dir.resolve(STATE_JSON);
            if (Files.isRegularFile(file)) {
                state.read(file, facts);
            } else if (Files.isDirectory(dir) && !isEmpty(dir)) {
                throw new InvalidArgumentException("the refinement state " + dir + " holds other files and no "
                        + STATE_JSON + ": choose a new or empty folder");
            }
            return state;
        } catch (RuntimeException e) {
            writer.close();
            throw e;
        }
    }

    /** True when folder {@code dir} holds a refinement state. */
    public static boolean exists(Path dir) {
        return AtomicFolder.read(dir, d -> Files.isRegularFile(d.resolve(STATE_JSON)));
    }

    /** The folder. */
    public Path folder() {
        return dir;
    }

    /** The candidates finished, in the order tried. */
    public List<Refinement.Trial> trials() {
        return List.copyOf(trials);
    }

    /** The index in {@link #trials()} of the best finished candidate; -1 for none. */
    public int chosen() {
        return chosen;
    }

    /** The candidate being refined, or null between candidates. */
    public Running running() {
        return running;
    }

    /** The best finished candidate's mixture, owned by the caller; {@code settings} are its settings. */
    public ShallowMixture chosenMixture(ShallowMixture original, MixtureEm.Settings settings) {
        if (chosenMixture == null) {
            throw new IllegalStateException("no candidate is finished");
        }
        return mixture(chosenMixture, original, settings);
    }

    /**
     * The mixture saved as {@code stem}, owned by the caller, rebuilt on {@code original}'s backend with
     * {@code original}'s latents and precision and the family of {@code settings}.
     *
     * @throws FormatException naming the file when it does not hold the mixture
     */
    public ShallowMixture mixture(String stem, ShallowMixture original, MixtureEm.Settings settings) {
        TensorStore store = ShardedSafeTensors.read(dir, stem);
        Map<String, Tensor> parameters = new LinkedHashMap<>();
        try {
            int n = original.components();
            double[] logWeights = store.get(LOG_WEIGHTS, DType.FLOAT64, n).toDoubles();
            for (Map.Entry<String, Tensor> p : original.parameters().entrySet()) {
                parameters.put(p.getKey(), store.toTensor(p.getKey(), DType.FLOAT32, p.getValue().shape(),
                        original.backend()));
            }
            return MixtureEm.restore(original, settings, parameters, logWeights);
        } catch (InvalidArgumentException e) {
            throw new FormatException(store.file() + ": not a mixture of this refinement: " + e.getMessage(), e);
        } finally {
            parameters.values().forEach(Tensor::close);
        }
    }

    /** Saves candidate {@code candidate}'s floored start {@code mixture}, scored {@code start}. */
    public void started(int candidate, Refinement.Start start, ShallowMixture mixture) {
        String stem = stem(candidate, 0);
        running = new Running(candidate, start, List.of(), 0, 0, start.validationBpd(), stem, stem);
        commit(stem, mixture);
    }

    /**
     * Saves the running candidate's update {@code epoch}, which made {@code next}, and its progress after
     * it.
     */
    public void updated(Refinement.Epoch epoch, int stale, int bestEpoch, double bestBpd, ShallowMixture next) {
        Running r = Objects.requireNonNull(running, "no candidate is running");
        String stem = stem(r.candidate(), epoch.epoch());
        List<Refinement.Epoch> epochs = new ArrayList<>(r.epochs());
        epochs.add(epoch);
        running = new Running(r.candidate(), r.start(), epochs, stale, bestEpoch, bestBpd, stem,
                bestEpoch == epoch.epoch() ? stem : r.best());
        commit(stem, next);
    }

    /**
     * Saves the running candidate as finished with {@code trial}; when {@code best}, its best mixture
     * becomes the best finished one.
     */
    public void finished(Refinement.Trial trial, boolean best) {
        Running r = Objects.requireNonNull(running, "no candidate is running");
        trials.add(trial);
        if (best) {
            chosen = trials.size() - 1;
            chosenMixture = r.best();
        }
        running = null;
        commit(null, null);
    }

    /** Deletes the state: one commit leaves the folder empty, then the folder goes. */
    public void delete() {
        trials.clear();
        chosen = -1;
        chosenMixture = null;
        running = null;
        mixtures.clear();
        writer.replace(staging -> { });
        try {
            Files.deleteIfExists(dir);
        } catch (IOException e) {
            // the folder is empty: a later run starts afresh in it
        }
    }

    /** Releases the folder's lock. */
    @Override
    public void close() {
        if (writer != null) {
            writer.close();
            writer = null;
        }
    }

    private static String stem(int candidate, int epoch) {
        return "c" + candidate + "-e" + epoch;
    }

    /** One commit: {@code mixture} saved as {@code stem} (when not null), unneeded mixtures dropped, the JSON. */
    private void commit(String stem, ShallowMixture mixture) {
        ShardedSafeTensors.Plan plan = mixture == null ? null : plan(stem, mixture);
        if (plan != null) {
            mixtures.put(stem, plan.files());
        }
        Set<String> needed = new HashSet<>();
        if (chosenMixture != null) {
            needed.add(chosenMixture);
        }
        if (running != null) {
            needed.add(running.current());
            needed.add(running.best());
        }
        mixtures.keySet().retainAll(needed);
        Set<String> keep = new HashSet<>();
        mixtures.values().forEach(keep::addAll);
        keep.add(STATE_JSON);
        String json = toJson();
        writer.update(staging -> {
            if (plan != null) {
                plan.write(staging);
            }
            try (Stream<Path> files = Files.list(staging.folder())) {
                for (Path f : files.toList()) {
                    if (!keep.contains(f.getFileName().toString())) {
                        staging.delete(f.getFileName().toString());
                    }
                }
            }
            staging.writeString(STATE_JSON, json);
        });
    }

    private ShardedSafeTensors.Plan plan(String stem, ShallowMixture mixture) {
        List<ShardedSafeTensors.Source> sources = new ArrayList<>();
        sources.add(ShardedSafeTensors.Source.of(SafeTensors.Entry.of(LOG_WEIGHTS, mixture.logWeights(),
                mixture.components())));
        mixture.parameters().forEach((name, t) -> sources.add(ShardedSafeTensors.Source.of(
                SafeTensors.Entry.of(name, t))));
        return ShardedSafeTensors.plan(dir + " mixture " + stem, stem, sources, Map.of("format", FORMAT),
                CircuitFiles.maxShardBytes());
    }

    // ---- JSON ---------------------------------------------------------------------------------

    private String toJson() {
        ObjectNode n = JSON.createObjectNode();
        n.put("format", FORMAT);
        ObjectNode f = n.putObject("facts");
        facts.forEach(f::put);
        ArrayNode t = n.putArray("trials");
        for (Refinement.Trial trial : trials) {
            ObjectNode o = t.addObject();
            putStart(o, trial.start());
            putEpochs(o, trial.epochs());
            o.put("best_epoch", trial.bestEpoch());
            o.put("validation_bpd", trial.validationBpd());
        }
        n.put("chosen", chosen);
        if (chosenMixture != null) {
            n.put("chosen_mixture", chosenMixture);
        }
        if (running != null) {
            ObjectNode o = n.putObject("running");
            o.put("candidate", running.candidate());
            putStart(o, running.start());
            putEpochs(o, running.epochs());
            o.put("stale", running.stale());
            o.put("best_epoch", running.bestEpoch());
            o.put("best_bpd", running.bestBpd());
            o.put("current", running.current());
            o.put("best", running.best());
        }
        ObjectNode m = n.putObject("mixtures");
        mixtures.forEach((stem, files) -> files.forEach(m.putArray(stem)::add));
        try {
            return JSON.writerWithDefaultPrettyPrinter().writeValueAsString(n) + "\n";
        } catch (IOException e) {
            throw new AssertionError("cannot serialise the refinement state", e);
        }
    }

    private static void putStart(ObjectNode o, Refinement.Start start) {
        o.put("floor", start.floor());
        o.put("shrinkage", start.shrinkage());
        o.put("start_bpd", start.validationBpd());
    }

    private static void putEpochs(ObjectNode o, List<Refinement.Epoch> epochs) {
        ArrayNode a = o.putArray("epochs");
        for (Refinement.Epoch e : epochs) {
            ObjectNode row = a.addObject();
            row.put("epoch", e.epoch());
            row.put("train_bpd", e.trainBpd());
            row.put("validation_bpd", e.validationBpd());
            row.put("improved", e.improved());
            row.put("seconds", e.seconds());
        }
    }

    private void read(Path file, Map<String, String> expected) {
        JsonNode n;
        try {
            n = JSON.readTree(Files.readString(file));
        } catch (IOException e) {
            throw new FormatException(file + ": cannot read the refinement state: " + e.getMessage(), e);
        }
        if (n == null || !n.isObject()) {
            throw FormatException.of(file, "document", "expected a JSON object");
        }
        String format = n.path("format").asText(null);
        if (!FORMAT.equals(format)) {
            throw new FormatException(file + ": field format: expected '" + FORMAT + "', found "
                    + (format == null ? "none" : "'" + format + "'") + "; not a refinement state");
        }
        Json.requireOnly(n, FIELDS, file, "");
        Map<String, String> saved = Json.optionalStringMap(n, "facts", file, "");
        for (Map.Entry<String, String> e : expected.entrySet()) {
            String was = saved.get(e.getKey());
            if (!e.getValue().equals(was)) {
                throw new InvalidArgumentException("the refinement state " + dir + " was made with " + e.getKey()
                        + " = " + (was == null ? "(none)" : was) + ", but this run has " + e.getKey() + " = "
                        + e.getValue() + "; run with the same inputs and options, or remove the state to start"
                        + " again");
            }
        }
        JsonNode m = n.path("mixtures");
        m.fields().forEachRemaining(e -> {
            if (!STEM.matcher(e.getKey()).matches()) {
                throw FormatException.of(file, "mixtures", "expected names like c0-e1, found '" + e.getKey() + "'");
            }
            List<String> files = new ArrayList<>();
            e.getValue().forEach(x -> {
                if (!x.asText().startsWith(e.getKey()) || x.asText().contains("/") || x.asText().contains("\\")) {
                    throw FormatException.of(file, "mixtures." + e.getKey(), "expected files of that mixture in the"
                            + " state folder, found '" + x.asText() + "'");
                }
                files.add(x.asText());
            });
            mixtures.put(e.getKey(), files);
        });
        JsonNode t = n.path("trials");
        for (int i = 0; i < t.size(); i++) {
            JsonNode o = t.get(i);
            String where = "trials[" + i + "]";
            trials.add(new Refinement.Trial(start(o, file, where), epochs(o, file, where),
                    Json.requireInt(o, "best_epoch", 0, file, where), Json.requireDouble(o, "validation_bpd", file,
                    where)));
        }
        chosen = Json.requireInt(n, "chosen", -1, file, "");
        if (chosen >= trials.size() || (chosen < 0) != trials.isEmpty()) {
            throw FormatException.of(file, "chosen", "expected the index of one of the " + trials.size()
                    + " trials, found " + chosen);
        }
        if (chosen >= 0) {
            chosenMixture = mixtureName(n, "chosen_mixture", file, "");
        }
        JsonNode r = n.path("running");
        if (!r.isMissingNode() && !r.isNull()) {
            String where = "running";
            int candidate = Json.requireInt(r, "candidate", 0, file, where);
            if (candidate != trials.size()) {
                throw FormatException.of(file, "running.candidate", "expected " + trials.size()
                        + " (the candidate after the finished ones), found " + candidate);
            }
            running = new Running(candidate, start(r, file, where), epochs(r, file, where),
                    Json.requireInt(r, "stale", 0, file, where), Json.requireInt(r, "best_epoch", 0, file, where),
                    Json.requireDouble(r, "best_bpd", file, where), mixtureName(r, "current", file, where),
                    mixtureName(r, "best", file, where));
        }
    }

    private String mixtureName(JsonNode node, String name, Path file, String where) {
        String stem = Json.requireText(node, name, file, where);
        if (!mixtures.containsKey(stem)) {
            throw FormatException.of(file, (where.isEmpty() ? "" : where + ".") + name, "names mixture '" + stem
                    + "', which is not among the saved mixtures " + mixtures.keySet());
        }
        return stem;
    }

    private static Refinement.Start start(JsonNode o, Path file, String where) {
        return new Refinement.Start(Json.requireDouble(o, "floor", file, where),
                Json.requireDouble(o, "shrinkage", file, where), Json.requireDouble(o, "start_bpd", file, where));
    }

    private static List<Refinement.Epoch> epochs(JsonNode o, Path file, String where) {
        List<Refinement.Epoch> out = new ArrayList<>();
        JsonNode a = o.path("epochs");
        for (int i = 0; i < a.size(); i++) {
            JsonNode row = a.get(i);
            String w = where + ".epochs[" + i + "]";
            int epoch = Json.requireInt(row, "epoch", 1, file, w);
            if (epoch != i + 1) {
                throw FormatException.of(file, w + ".epoch", "expected " + (i + 1) + ", found " + epoch);
            }
            out.add(new Refinement.Epoch(epoch, Json.requireDouble(row, "train_bpd", file, w),
                    Json.requireDouble(row, "validation_bpd", file, w), row.path("improved").asBoolean(false),
                    Json.requireDouble(row, "seconds", file, w)));
        }
        return out;
    }

    private static boolean isEmpty(Path dir) {
        try (Stream<Path> s = Files.list(dir)) {
            return s.findAny().isEmpty();
        } catch (IOException e) {
            throw new InvalidArgumentException("cannot list " + dir + ": " + e.getMessage(), e);
        }
    }
}
