package io.vqdistill.backend.djl.nn;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.training.GradientCollector;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.vqdistill.api.Backend;
import io.vqdistill.api.FormatException;
import io.vqdistill.api.checkpoint.Checkpoint;
import io.vqdistill.api.checkpoint.Json;
import io.vqdistill.api.checkpoint.Provenance;
import io.vqdistill.api.data.Mnist;
import io.vqdistill.api.io.AtomicFiles;
import io.vqdistill.api.io.SafeTensors;
import io.vqdistill.api.train.EpochMetrics;
import io.vqdistill.api.train.TrainingListener;
import io.vqdistill.api.train.TrainingReport;
import io.vqdistill.api.train.TrainingSpec;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * The epoch loop every training run shares: seeded shuffling, Adam steps under gradient recording,
 * validation after each epoch, early stopping with the best epoch's weights written as the
 * checkpoint, a metrics CSV, and a resume state written after every epoch so a killed run continues
 * after its last completed epoch.
 *
 * <p>Folder layout: {@code config.json} and {@code weights.safetensors} (the best epoch),
 * {@code metrics.csv} (one row per epoch), {@code resume/state.json} and
 * {@code resume/state.safetensors} (the last epoch's weights, buffers and Adam moments; removed
 * once the run finished).
 */
abstract class EpochLoop {
    static final String RESUME = "resume";
    static final String STATE_JSON = "state.json";
    static final String STATE_WEIGHTS = "state.safetensors";
    static final String METRICS_CSV = "metrics.csv";
    /** The metric early stopping minimises. */
    static final String VAL_LOSS = "val_loss";

    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    protected final Backend backend;
    protected final NDManager root;
    protected final TrainingSpec training;
    protected final Path dir;
    protected final TrainingListener listener;
    private final String what;

    protected Params params;
    private Adam adam;

    EpochLoop(String what, Backend backend, NDManager root, TrainingSpec training, Path dir,
            TrainingListener listener) {
        this.what = what;
        this.backend = backend;
        this.root = root;
        this.training = training;
        this.dir = dir;
        this.listener = listener;
    }

    /** Builds the network on {@code p}, whose values are random or read. */
    protected abstract void build(Params p);

    /** Number of training items (images or grids). */
    protected abstract int trainSize();

    /**
     * The mean training loss per item of the items {@code indices}, as a scalar with a gradient
     * path to the parameters; arrays go to {@code scope}; {@code noise} draws dequantisation noise.
     */
    protected abstract NDArray trainLoss(int[] indices, SplittableRandom noise, NDManager scope);

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

    /** The training settings that belong to {@link #runKey()}. */
    protected final ObjectNode trainingKey() {
        ObjectNode t = training.toJson();
        t.remove("max_epochs");
        t.remove("patience");
        return t;
    }

    /** The data description recorded in the provenance. */
    protected abstract String dataDescription();

    /** Further provenance facts. */
    protected Map<String, String> provenanceDetails() {
        return Map.of();
    }

    /** Runs (or resumes, or reports the finished) training. */
    final TrainingReport run() {
        try {
            Files.createDirectories(dir);
        } catch (IOException e) {
            throw new IllegalArgumentException("cannot create checkpoint folder " + dir + ": " + e.getMessage(), e);
        }
        Path stateFile = dir.resolve(RESUME).resolve(STATE_JSON);
        ObjectNode key = runKey();
        State state;
        if (Files.isRegularFile(stateFile)) {
            state = State.read(stateFile);
            if (!state.key.toString().equals(key.toString())) {
                throw new IllegalArgumentException(dir + " holds a run of another configuration (" + stateFile
                        + "): resume with the same settings or choose another folder");
            }
            if (state.finished) {
                listener.message(what + ": " + dir + " already holds the finished run (" + state.epoch
                        + " epochs, best " + state.bestEpoch + ")");
                return state.report(dir);
            }
        } else if (Checkpoint.exists(dir)) {
            throw new IllegalArgumentException(dir + " already holds a checkpoint without a resume state;"
                    + " choose another folder");
        } else {
            state = new State(key);
        }
        Path stateWeights = dir.resolve(RESUME).resolve(STATE_WEIGHTS);
        if (state.epoch > 0) {
            SafeTensors saved = SafeTensors.read(stateWeights);
            params = Params.fromFile(root, saved);
            build(params);
            params.checkNoUnexpected(Adam.FIRST, Adam.SECOND);
            adam = new Adam(params, training.learningRate(), saved, state.adamSteps);
            listener.message(what + ": resuming " + dir + " after epoch " + state.epoch + " (best " + state.bestEpoch
                    + ")");
        } else {
            params = Params.random(root, training.seed());
            build(params);
            adam = new Adam(params, training.learningRate(), null, 0);
        }
        listener.message(what + ": " + params.parameterCount() + " trainable parameters");
        try {
            train(state, stateFile, stateWeights);
            return finish(state, stateFile, stateWeights);
        } finally {
            params.close();
        }
    }

    private void train(State state, Path stateFile, Path stateWeights) {
        int n = trainSize();
        int batch = training.batchSize();
        int batches = Math.max(1, n / batch + (n % batch >= 2 ? 1 : 0));
        listener.started(what, state.epoch + 1, training.maxEpochs(), batches);
        try (ShutdownGate gate = new ShutdownGate(what)) {
            epochs(state, stateFile, stateWeights, batches, gate);
        }
        state.stoppedEarly = state.badEpochs >= training.patience();
        if (state.stoppedEarly) {
            listener.message(what + ": no better validation loss for " + training.patience() + " epochs; stopping"
                    + " after epoch " + state.epoch + ", keeping epoch " + state.bestEpoch);
        }
    }

    /** Trains until the epoch limit or the patience ends; native work runs inside {@code gate}. */
    private void epochs(State state, Path stateFile, Path stateWeights, int batches, ShutdownGate gate) {
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
                    loss = step(idx, noise);
                } finally {
                    gate.leave();
                }
                if (!Double.isFinite(loss)) {
                    throw new IllegalStateException(what + ": the training loss became " + loss + " at epoch " + epoch
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
                throw new IllegalStateException(what + ": the validation loss became " + val + " at epoch " + epoch
                        + "; try a smaller learning rate");
            }
            boolean best = val < state.bestValue;
            double seconds = (System.nanoTime() - start) / 1e9;
            state.epoch = epoch;
            state.seconds += seconds;
            state.adamSteps = adam.steps();
            if (best) {
                state.bestValue = val;
                state.bestEpoch = epoch;
                state.badEpochs = 0;
                describe(provenance(epoch, epoch), values).write(dir, params.entries());
            } else {
                state.badEpochs++;
            }
            EpochMetrics m = new EpochMetrics(epoch, seconds, best, values);
            state.history.add(m);
            writeCsv(state.history);
            List<SafeTensors.Entry> entries = new ArrayList<>(params.entries());
            entries.addAll(adam.entries());
            SafeTensors.write(stateWeights, entries, Map.of());
            state.write(stateFile);
            listener.epochDone(m);
        }
    }

    private double step(int[] idx, SplittableRandom noise) {
        try (NDManager scope = root.newSubManager()) {
            params.attachTo(scope);
            adam.attachTo(scope);
            double loss;
            try (GradientCollector gc = root.getEngine().newGradientCollector()) {
                NDArray l = trainLoss(idx, noise, scope);
                gc.backward(l);
                loss = l.getFloat();
            }
            GradMode.off();
            adam.update();
            return loss;
        }
    }

    private TrainingReport finish(State state, Path stateFile, Path stateWeights) {
        params.close();
        params = Params.fromFile(root, Checkpoint.weights(dir));
        build(params);
        listener.message(what + ": measuring epoch " + state.bestEpoch + " on the test set");
        Map<String, Double> metrics = new LinkedHashMap<>(state.history.get(state.bestEpoch - 1).values());
        metrics.putAll(test());
        metrics.put("epochs", (double) state.epoch);
        metrics.put("train_seconds", state.seconds);
        describe(provenance(state.epoch, state.bestEpoch), metrics).writeConfig(dir);
        state.finished = true;
        state.finalMetrics = metrics;
        state.write(stateFile);
        try {
            Files.deleteIfExists(stateWeights);
        } catch (IOException e) {
            listener.message(what + ": could not delete " + stateWeights + ": " + e.getMessage());
        }
        return state.report(dir);
    }

    private Provenance provenance(int epochs, int bestEpoch) {
        return Provenance.now(training.seed(), dataDescription(), backend.name(), backend.version(), epochs, bestEpoch,
                provenanceDetails());
    }

    private void writeCsv(List<EpochMetrics> history) {
        StringBuilder s = new StringBuilder("epoch,seconds,best");
        for (String k : history.get(0).values().keySet()) {
            s.append(',').append(k);
        }
        s.append('\n');
        for (EpochMetrics m : history) {
            s.append(m.epoch()).append(',').append(String.format(Locale.ROOT, "%.3f", m.seconds())).append(',')
                    .append(m.best());
            for (double v : m.values().values()) {
                s.append(',').append(String.format(Locale.ROOT, "%.6g", v));
            }
            s.append('\n');
        }
        AtomicFiles.writeString(dir.resolve(METRICS_CSV), s.toString());
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

        void write(Path file) {
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
                AtomicFiles.writeString(file, JSON.writeValueAsString(n) + "\n");
            } catch (IOException e) {
                throw new IllegalStateException("cannot serialise the resume state", e);
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
