package io.vqdistill.models.train;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.vqdistill.api.Backend;
import io.vqdistill.api.FormatException;
import io.vqdistill.api.InvalidArgumentException;
import io.vqdistill.formats.AtomicFiles;
import io.vqdistill.formats.AtomicFolder;
import io.vqdistill.formats.Json;
import io.vqdistill.formats.SafeTensors;
import io.vqdistill.models.checkpoint.Checkpoint;
import io.vqdistill.models.checkpoint.Provenance;
import io.vqdistill.models.data.DataSplit;
import io.vqdistill.models.data.Mnist;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;

/**
 * The epoch loop every training run of every engine shares: seeded shuffling, one optimiser step
 * per minibatch, validation after each epoch, early stopping with the best epoch's weights written
 * as the checkpoint, a metrics CSV, and a resume state written after every epoch so a killed run
 * continues after its last completed epoch. An engine supplies the network and its optimiser
 * through the abstract hooks; a JVM shutdown waits for the running step (see {@link ShutdownGate}).
 *
 * <p>Folder layout: {@code config.json} and {@code weights.safetensors} (the best epoch),
 * {@code metrics.csv} (one row per epoch), {@code resume/state.json} and
 * {@code resume/state.safetensors} (the last epoch's weights, buffers and optimiser state; removed
 * once the run finished).
 *
 * <p>Writing: the run holds the folder's writer lock ({@link AtomicFolder}) from start to end, so a
 * second run into the same folder fails at once naming it. Each epoch is one commit of the whole
 * folder (checkpoint when the epoch is the best so far, metrics, resume state), and so is the end of
 * the run: a kill at any instant leaves the folder as it was after the last completed epoch, whose
 * checkpoint, metrics and resume state agree, and the same command resumes after that epoch. The
 * resume state is checked when it is read: every tensor finite, and the epoch recorded in
 * {@code state.safetensors} the one {@code state.json} names.
 *
 * <p>Hook order: {@link Engine#start} once, then {@link #trainStep} per batch and {@link #validate}
 * per epoch, {@link Engine#weights} and {@link Engine#optimiserState} when saving,
 * {@link Engine#loadBest} and {@link #test} at the end, and {@link Engine#release} always. A runner
 * runs once.
 */
public abstract class EpochRunner {
    /** The resume folder inside a checkpoint folder. */
    public static final String RESUME = "resume";
    /** The resume bookkeeping file inside {@link #RESUME}. */
    public static final String STATE_JSON = "state.json";
    /** The resume weights and optimiser state inside {@link #RESUME}. */
    public static final String STATE_WEIGHTS = "state.safetensors";
    /** The per-epoch metrics file. */
    public static final String METRICS_CSV = "metrics.csv";
    /** The metadata key of {@link #STATE_WEIGHTS} naming the epoch its tensors were saved after. */
    public static final String EPOCH_METADATA = "epoch";
    /** The metric early stopping minimises. */
    public static final String VAL_LOSS = "val_loss";

    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    /** The backend recorded in the provenance. */
    protected final Backend backend;
    /** The optimisation settings. */
    protected final TrainingSpec training;
    /** The checkpoint folder. */
    protected final Path dir;
    /** Receives the progress. */
    protected final TrainingListener listener;
    private final String what;

    /**
     * @param what     the run's name in messages, e.g. {@link Checkpoint#KIND_VQVAE}
     * @param backend  the backend recorded in the provenance
     * @param training the optimisation settings
     * @param dir      the checkpoint folder, created if missing
     * @param listener receives the progress
     */
    protected EpochRunner(String what, Backend backend, TrainingSpec training, Path dir, TrainingListener listener) {
        this.what = what;
        this.backend = backend;
        this.training = training;
        this.dir = dir;
        this.listener = listener;
    }

    // ---- engine hooks -------------------------------------------------------------------------

    /**
     * The engine side of a run: the network's tensors and its optimiser. Created by
     * {@link #engine()} once the run is known to train; {@link #release()} is called always.
     */
    public interface Engine {
        /**
         * Creates the network and its optimiser: drawn from initialisers seeded by the run's seed
         * when {@code resume} is null, else read from the resume file {@code resume} (weights,
         * buffers and optimiser state, as {@link #weights} and {@link #optimiserState} wrote them)
         * after {@code optimiserSteps} steps.
         */
        void start(SafeTensors resume, long optimiserSteps);

        /** Number of trainable scalars of the network. */
        long parameterCount();

        /** Optimiser steps taken so far, across resumes. */
        long optimiserSteps();

        /** The network's tensors in PyTorch's names and layouts: the checkpoint's weights. */
        List<SafeTensors.Entry> weights();

        /** The optimiser's state, saved beside {@link #weights()} in the resume file. */
        List<SafeTensors.Entry> optimiserState();

        /** Replaces the network's tensors by those of {@code best}, the best epoch's checkpoint weights. */
        void loadBest(SafeTensors best);

        /** Frees the engine's resources; called once, also after a failure. */
        void release();
    }

    /** The engine of this run; called once, after the checks that may end a run before it trains. */
    protected abstract Engine engine();

    /**
     * One optimiser step on the training items {@code indices}; {@code noise} draws dequantisation
     * noise. Returns the batch's mean training loss per item, in nats.
     */
    protected abstract double trainStep(int[] indices, SplittableRandom noise);

    // ---- task hooks ---------------------------------------------------------------------------

    /** Number of training items (images or grids). */
    protected abstract int trainSize();

    /** Validation metrics of the current weights, in a fixed order, including {@value #VAL_LOSS}. */
    protected abstract Map<String, Double> validate();

    /** Test metrics of the current (best) weights. */
    protected abstract Map<String, Double> test();

    /** The checkpoint configuration describing the network with {@code provenance} and {@code metrics}. */
    protected abstract Checkpoint describe(Provenance provenance, Map<String, Double> metrics);

    /**
     * What must not change between a run and its resumption: architecture, training settings but
     * the epoch limit and patience (which may be raised to train on), data.
     */
    protected abstract ObjectNode runKey();

    /**
     * The run key of a network described by {@code architecture} trained on {@code data}: the
     * architecture, the training settings but the epoch limit and patience, the data's description
     * and training-set size. A run may add more.
     */
    protected final ObjectNode runKey(ObjectNode architecture, DataSplit data) {
        ObjectNode n = JsonNodeFactory.instance.objectNode();
        n.set("architecture", architecture);
        ObjectNode t = training.toJson();
        t.remove("max_epochs");
        t.remove("patience");
        n.set("training", t);
        n.put("data", data.description());
        n.put("train_size", data.train().size());
        return n;
    }

    /** The data description recorded in the provenance. */
    protected abstract String dataDescription();

    /** Further provenance facts. */
    protected Map<String, String> provenanceDetails() {
        return Map.of();
    }

    // ---- the loop -----------------------------------------------------------------------------

    /**
     * Runs (or resumes, or reports the finished) training.
     *
     * @throws io.vqdistill.api.VqdistillException when another run holds the folder
     */
    public final TrainingReport run() {
        try (AtomicFolder.Writer out = AtomicFolder.open(dir)) {
            return run(out);
        }
    }

    private TrainingReport run(AtomicFolder.Writer out) {
        Path stateFile = dir.resolve(RESUME).resolve(STATE_JSON);
        ObjectNode key = runKey();
        State state;
        if (Files.isRegularFile(stateFile)) {
            state = State.read(stateFile);
            if (!state.key.toString().equals(key.toString())) {
                throw new InvalidArgumentException(dir + " holds a run of another configuration (" + stateFile
                        + "): resume with the same settings or choose another folder");
            }
            if (state.finished) {
                listener.message(what + ": " + dir + " already holds the finished run (" + state.epoch
                        + " epochs, best " + state.bestEpoch + ")");
                return state.report(dir);
            }
        } else if (Checkpoint.exists(dir)) {
            throw new InvalidArgumentException(dir + " already holds a checkpoint without a resume state;"
                    + " choose another folder");
        } else {
            state = new State(key);
        }
        Path stateWeights = dir.resolve(RESUME).resolve(STATE_WEIGHTS);
        SafeTensors resume = state.epoch > 0 ? readResume(stateWeights, state.epoch) : null;
        Engine engine = engine();
        try {
            if (resume != null) {
                engine.start(resume, state.adamSteps);
                listener.message(what + ": resuming " + dir + " after epoch " + state.epoch + " (best "
                        + state.bestEpoch + ")");
            } else {
                engine.start(null, 0);
            }
            listener.message(what + ": " + engine.parameterCount() + " trainable parameters");
            train(engine, state, out);
            return finish(engine, state, out);
        } finally {
            engine.release();
        }
    }

    /**
     * The resume tensors of a run after {@code epoch} epochs: finite, and written for that epoch
     * (an older writer killed between its two resume files left a state.json and tensors of
     * different epochs).
     */
    private static SafeTensors readResume(Path file, int epoch) {
        SafeTensors st = SafeTensors.read(file).requireFinite(Checkpoint.LOG_PROBABILITY_TENSORS);
        String written = st.metadata().get(EPOCH_METADATA);
        if (written != null && !written.equals(Integer.toString(epoch))) {
            throw FormatException.of(file, "__metadata__." + EPOCH_METADATA, "holds the state after epoch " + written
                    + " but " + STATE_JSON + " says " + epoch + ": the two resume files are from different epochs;"
                    + " train into a new folder");
        }
        return st;
    }

    private void train(Engine engine, State state, AtomicFolder.Writer out) {
        int n = trainSize();
        int batch = training.batchSize();
        int batches = Math.max(1, n / batch + (n % batch >= 2 ? 1 : 0));
        listener.started(what, state.epoch + 1, training.maxEpochs(), batches);
        try (ShutdownGate gate = new ShutdownGate(what)) {
            epochs(engine, state, out, batches, gate);
        }
        state.stoppedEarly = state.badEpochs >= training.patience();
        if (state.stoppedEarly) {
            listener.message(what + ": no better validation loss for " + training.patience() + " epochs; stopping"
                    + " after epoch " + state.epoch + ", keeping epoch " + state.bestEpoch);
        }
    }

    /** Trains until the epoch limit or the patience ends; native work runs inside {@code gate}. */
    private void epochs(Engine engine, State state, AtomicFolder.Writer out, int batches, ShutdownGate gate) {
        int n = trainSize();
        int batch = training.batchSize();
        while (state.epoch < training.maxEpochs() && state.badEpochs < training.patience()) {
            int epoch = state.epoch + 1;
            long start = System.nanoTime();
            long epochSeed = mix(training.seed(), epoch);
            int[] order = Mnist.permutation(n, epochSeed);
            SplittableRandom noise = new SplittableRandom(~epochSeed);
            double lossSum = 0;
            long items = 0;
            for (int b = 0; b < batches; b++) {
                int from = b * batch;
                int to = Math.min(n, from + batch);
                int[] idx = Arrays.copyOfRange(order, from, to);
                double loss;
                gate.enter();
                try {
                    loss = trainStep(idx, noise);
                } finally {
                    gate.leave();
                }
                if (!Double.isFinite(loss)) {
                    throw new InvalidArgumentException(what + ": the training loss became " + loss + " at epoch " + epoch
                            + ", batch " + (b + 1) + "; try a smaller learning rate");
                }
                lossSum += loss * idx.length;
                items += idx.length;
                listener.batchDone(epoch, b + 1, loss);
            }
            Map<String, Double> values = new LinkedHashMap<>();
            values.put("train_loss", lossSum / items);
            gate.enter();
            try {
                values.putAll(validate());
            } finally {
                gate.leave();
            }
            double val = values.get(VAL_LOSS);
            if (!Double.isFinite(val)) {
                throw new InvalidArgumentException(what + ": the validation loss became " + val + " at epoch " + epoch
                        + "; try a smaller learning rate");
            }
            boolean best = val < state.bestValue;
            double seconds = (System.nanoTime() - start) / 1e9;
            state.epoch = epoch;
            state.seconds += seconds;
            state.adamSteps = engine.optimiserSteps();
            Checkpoint checkpoint = null;
            List<SafeTensors.Entry> bestWeights = null;
            if (best) {
                state.bestValue = val;
                state.bestEpoch = epoch;
                state.badEpochs = 0;
                checkpoint = describe(provenance(epoch, epoch), values);
                bestWeights = engine.weights();
            } else {
                state.badEpochs++;
            }
            EpochMetrics m = new EpochMetrics(epoch, seconds, best, values);
            state.history.add(m);
            List<SafeTensors.Entry> entries = new ArrayList<>(engine.weights());
            entries.addAll(engine.optimiserState());
            commitEpoch(out, checkpoint, bestWeights, MetricsCsv.format(state.history),
                    SafeTensors.content(STATE_WEIGHTS, entries, Map.of(EPOCH_METADATA, Integer.toString(epoch))),
                    state.toJson());
            listener.epochDone(m);
        }
    }

    /**
     * One commit of the folder after an epoch: the checkpoint when {@code checkpoint} is not null
     * (the epoch is the best so far), the metrics and both resume files, all or nothing.
     */
    private void commitEpoch(AtomicFolder.Writer out, Checkpoint checkpoint, List<SafeTensors.Entry> weights,
            String csv, AtomicFiles.Writer resumeTensors, String stateJson) {
        out.update(staging -> {
            if (checkpoint != null) {
                checkpoint.writeInto(staging, weights);
            }
            staging.writeString(METRICS_CSV, csv);
            staging.write(RESUME + "/" + STATE_WEIGHTS, resumeTensors);
            staging.writeString(RESUME + "/" + STATE_JSON, stateJson);
        });
    }

    private TrainingReport finish(Engine engine, State state, AtomicFolder.Writer out) {
        engine.loadBest(Checkpoint.weights(dir));
        listener.message(what + ": measuring epoch " + state.bestEpoch + " on the test set");
        Map<String, Double> metrics = new LinkedHashMap<>(state.history.get(state.bestEpoch - 1).values());
        metrics.putAll(test());
        metrics.put("epochs", (double) state.epoch);
        metrics.put("train_seconds", state.seconds);
        Checkpoint config = describe(provenance(state.epoch, state.bestEpoch), metrics);
        state.finished = true;
        state.finalMetrics = metrics;
        String stateJson = state.toJson();
        // the final configuration, the finished state and the removal of the resume tensors: one commit
        out.update(staging -> {
            config.writeConfigInto(staging);
            staging.writeString(RESUME + "/" + STATE_JSON, stateJson);
            staging.delete(RESUME + "/" + STATE_WEIGHTS);
        });
        return state.report(dir);
    }

    private Provenance provenance(int epochs, int bestEpoch) {
        return Provenance.now(training.seed(), dataDescription(), backend.name(), backend.version(), epochs, bestEpoch,
                provenanceDetails());
    }

    /** A 64-bit mix of the run seed and the epoch (SplitMix64's finaliser). */
    static long mix(long seed, long epoch) {
        long z = seed + 0x9E3779B97F4A7C15L * (epoch + 1);
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }

    /** The resume state of a run. */
    private static final class State {
        static final Set<String> FIELDS = Set.of("key", "epoch", "best_epoch", "best_value", "bad_epochs",
                "adam_steps", "seconds", "finished", "stopped_early", "history", "final_metrics");
        final ObjectNode key;
        int epoch;
        int bestEpoch;
        double bestValue = Double.POSITIVE_INFINITY;
        int badEpochs;
        long adamSteps;
        double seconds;
        boolean finished;
        boolean stoppedEarly;
        final List<EpochMetrics> history = new ArrayList<>();
        Map<String, Double> finalMetrics = Map.of();

        State(ObjectNode key) {
            this.key = key;
        }

        TrainingReport report(Path dir) {
            return new TrainingReport(dir, epoch, bestEpoch, seconds, stoppedEarly, finalMetrics);
        }

        String toJson() {
            ObjectNode n = JSON.createObjectNode();
            n.set("key", key);
            n.put("epoch", epoch);
            n.put("best_epoch", bestEpoch);
            n.put("best_value", bestValue);
            n.put("bad_epochs", badEpochs);
            n.put("adam_steps", adamSteps);
            n.put("seconds", seconds);
            n.put("finished", finished);
            n.put("stopped_early", stoppedEarly);
            ArrayNode h = n.putArray("history");
            for (EpochMetrics m : history) {
                ObjectNode row = h.addObject();
                row.put("epoch", m.epoch());
                row.put("seconds", m.seconds());
                row.put("best", m.best());
                ObjectNode values = row.putObject("values");
                m.values().forEach(values::put);
            }
            ObjectNode fm = n.putObject("final_metrics");
            finalMetrics.forEach(fm::put);
            try {
                return JSON.writeValueAsString(n) + "\n";
            } catch (IOException e) {
                throw new AssertionError("cannot serialise the resume state", e);
            }
        }

        static State read(Path file) {
            JsonNode n;
            try {
                n = JSON.readTree(Files.readString(file));
            } catch (IOException e) {
                throw new FormatException(file + ": cannot read the resume state: " + e.getMessage(), e);
            }
            if (n == null || !n.isObject()) {
                throw FormatException.of(file, "document", "expected a JSON object");
            }
            Json.requireOnly(n, FIELDS, file, "");
            State s = new State((ObjectNode) Json.requireObject(n, "key", file, ""));
            s.epoch = Json.requireInt(n, "epoch", 0, file, "");
            s.bestEpoch = Json.requireInt(n, "best_epoch", 0, file, "");
            s.bestValue = Json.requireDouble(n, "best_value", file, "");
            s.badEpochs = Json.requireInt(n, "bad_epochs", 0, file, "");
            s.adamSteps = Json.requireLong(n, "adam_steps", file, "");
            s.seconds = Json.requireDouble(n, "seconds", file, "");
            s.finished = n.path("finished").asBoolean(false);
            s.stoppedEarly = n.path("stopped_early").asBoolean(false);
            JsonNode h = n.path("history");
            for (int i = 0; i < h.size(); i++) {
                JsonNode row = h.get(i);
                Map<String, Double> values = new LinkedHashMap<>();
                row.path("values").fields().forEachRemaining(e -> values.put(e.getKey(), e.getValue().asDouble()));
                s.history.add(new EpochMetrics(Json.requireInt(row, "epoch", 1, file, "history[" + i + "]"),
                        Json.requireDouble(row, "seconds", file, "history[" + i + "]"),
                        row.path("best").asBoolean(false), values));
            }
            if (s.history.size() != s.epoch || s.bestEpoch > s.epoch) {
                throw FormatException.of(file, "history", s.history.size() + " rows for " + s.epoch
                        + " epochs (best epoch " + s.bestEpoch + ")");
            }
            Map<String, Double> fm = new LinkedHashMap<>();
            n.path("final_metrics").fields().forEachRemaining(e -> fm.put(e.getKey(), e.getValue().asDouble()));
            s.finalMetrics = fm;
            return s;
        }
    }
}
