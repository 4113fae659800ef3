package io.vqdistill.distill.pipeline;

import io.vqdistill.api.Backend;
import io.vqdistill.api.FormatException;
import io.vqdistill.api.InvalidArgumentException;
import io.vqdistill.api.Tensor;
import io.vqdistill.api.TensorScope;
import io.vqdistill.api.circuit.Circuit;
import io.vqdistill.api.circuit.LeafFamily;
import io.vqdistill.circuits.LeafFamilies;
import io.vqdistill.circuits.io.CircuitFiles;
import io.vqdistill.circuits.layered.EmStatistics;
import io.vqdistill.circuits.layered.LayeredCircuit;
import io.vqdistill.circuits.layered.LayeredSpec;
import io.vqdistill.circuits.leaf.CategoricalFamily;
import io.vqdistill.distill.eval.PixelEncoding;
import io.vqdistill.formats.AtomicFiles;
import io.vqdistill.models.data.DataSplit;
import io.vqdistill.models.data.ImageSet;
import io.vqdistill.models.train.EpochMetrics;
import io.vqdistill.models.train.MetricsCsv;
import io.vqdistill.models.train.TrainingListener;
import io.vqdistill.models.train.TrainingReport;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.SplittableRandom;
import java.util.stream.IntStream;

/**
 * Trains an Einsum network ({@link LayeredCircuit}) by stochastic EM on any backend: per epoch the
 * training images in a seeded random order, in batches; the expected statistics of
 * {@code emFrequency} batches are added up and then one stepwise M-step of size {@code emStep} moves
 * the parameters. After each epoch the validation bits per dimension decide the best epoch and early
 * stopping.
 *
 * <p>The output folder holds the best circuit ({@code circuit.json}, {@code circuit.safetensors}, read
 * by every circuit command), {@code metrics.csv}, and in {@code last/} the circuit after the last
 * completed epoch with the run's state in its provenance. Each is written atomically; a run started
 * again with the same options resumes after the last completed epoch, and one with other options is
 * refused.
 */
public final class EinetTraining {
    /** The sub-folder with the circuit after the last completed epoch. */
    public static final String LAST = "last";
    /** The metrics file. */
    public static final String METRICS = "metrics.csv";
    /** The default smallest standard deviation of Gaussian leaves. */
    public static final double DEFAULT_MIN_STD = 0.001;
    /** The default largest standard deviation of Gaussian leaves. */
    public static final double DEFAULT_MAX_STD = 1;
    /** The default pseudo-count of categorical leaves. */
    public static final double DEFAULT_PSEUDO_COUNT = 0.01;
    /** The default step size of the stepwise M-step. */
    public static final double DEFAULT_EM_STEP = 0.5;

    /**
     * What to train and how.
     *
     * @param spec        the network's shape
     * @param head        {@code gaussian} (dequantised pixels) or {@code categorical} (256 levels)
     * @param minStd      Gaussian leaves: the smallest standard deviation
     * @param maxStd      Gaussian leaves: the largest standard deviation
     * @param pseudoCount categorical leaves: added to every level's expected count in each M-step
     * @param batch       images per E-step
     * @param emFrequency batches whose statistics one M-step uses
     * @param emStep      the step size of the stepwise M-step, in (0, 1]
     * @param epochs      at most this many epochs
     * @param patience    stop after this many epochs without a better validation BPD
     * @param seed        seeds initialisation, order and dequantisation noise
     */
    public record Spec(LayeredSpec spec, String head, double minStd, double maxStd, double pseudoCount, int batch,
                       int emFrequency, double emStep, int epochs, int patience, long seed) {
        /** Validates. */
        public Spec {
            Objects.requireNonNull(spec, "spec");
            if (!head.equals("gaussian") && !head.equals("categorical")) {
                throw InvalidArgumentException.of("head", head, "gaussian or categorical");
            }
            if (!(minStd > 0) || !(maxStd >= minStd) || Double.isInfinite(maxStd)) {
                throw new InvalidArgumentException("the standard deviations need 0 < min <= max < inf, found " + minStd
                        + " and " + maxStd);
            }
            if (!(pseudoCount >= 0) || Double.isInfinite(pseudoCount)) {
                throw InvalidArgumentException.of("pseudo-count", pseudoCount, "finite and >= 0");
            }
            if (batch < 1 || emFrequency < 1 || epochs < 1 || patience < 1) {
                throw new InvalidArgumentException("batch, EM frequency, epochs and patience must be >= 1, found "
                        + batch + ", " + emFrequency + ", " + epochs + ", " + patience);
            }
            if (!(emStep > 0 && emStep <= 1)) {
                throw InvalidArgumentException.of("EM step", emStep, "in (0, 1]");
            }
        }

        /** The leaf family of the head. */
        public LeafFamily family() {
            return head.equals("gaussian") ? LeafFamilies.create("gaussian", Map.of("min_std",
                    Double.toString(minStd), "max_std", Double.toString(maxStd))) : new CategoricalFamily(256);
        }

        /** One line naming every setting, recorded in the files and compared on resume. */
        public String describe() {
            return String.format(Locale.ROOT, "einet %s, %s leaves%s, batch %d, EM every %d batches with step %s,"
                    + " patience %d, seed %d", spec, head, head.equals("gaussian") ? " (std in [" + minStd + ", "
                    + maxStd + "])" : " (pseudo-count " + pseudoCount + ")", batch, emFrequency, emStep, patience,
                    seed);
        }
    }

    private EinetTraining() {
    }

    /**
     * Trains into {@code out}, resuming a run of the same settings found there.
     *
     * @return the report: epochs run in total, the best epoch, the epochs' seconds summed across resumes
     *         and the best epoch's bits per dimension
     * @throws InvalidArgumentException when {@code out} holds a run with other settings or data
     */
    public static TrainingReport train(Backend backend, Spec spec, DataSplit data, Path out,
                                       TrainingListener listener) {
        Objects.requireNonNull(backend, "backend");
        Objects.requireNonNull(listener, "listener");
        if (data.train().shape().pixels() != spec.spec().variables()
                || data.train().shape().height() != spec.spec().height()) {
            throw new InvalidArgumentException("the network is over " + spec.spec().height() + "x"
                    + spec.spec().width() + " images but the data holds " + data.train().shape());
        }
        PixelEncoding encoding = PixelEncoding.forLeafFamily(spec.head());
        String configuration = spec.describe() + "; data " + data.description();
        Path last = out.resolve(LAST);
        LayeredCircuit circuit;
        int epoch = 0;
        int bestEpoch = 0;
        double bestBpd = Double.POSITIVE_INFINITY;
        List<EpochMetrics> history = new ArrayList<>();
        if (CircuitFiles.exists(last)) {
            Map<String, String> state = CircuitFiles.provenance(last);
            if (!configuration.equals(state.get("configuration"))) {
                throw new InvalidArgumentException(out + " holds a run with other settings (" + state.get("configuration")
                        + "); choose another --out or the same options");
            }
            Circuit read = CircuitFiles.read(last, backend);
            if (!(read instanceof LayeredCircuit l)) {
                read.close();
                throw new FormatException(last + ": not an Einsum network");
            }
            circuit = l;
            epoch = integer(last, state, "epoch");
            bestEpoch = integer(last, state, "best_epoch");
            bestBpd = number(last, state, "best_validation_bpd");
            for (int e = 1; e <= epoch; e++) {
                String[] row = state.getOrDefault("epoch_" + e, "").split(",");
                if (row.length != 3) {
                    throw FormatException.of(last.resolve(CircuitFiles.JSON), "provenance.epoch_" + e,
                            "expected seconds,train_bpd,validation_bpd");
                }
                history.add(metrics(e, Double.parseDouble(row[0]), e == bestEpoch, Double.parseDouble(row[1]),
                        Double.parseDouble(row[2])));
            }
            listener.message(String.format(Locale.ROOT, "resumed after epoch %d (best epoch %d, validation %.4f"
                    + " bits/dim)", epoch, bestEpoch, bestBpd));
        } else {
            circuit = initial(backend, spec, new SplittableRandom(spec.seed()));
        }
        int batches = (data.train().size() + spec.batch() - 1) / spec.batch();
        listener.started("einet", epoch + 1, spec.epochs(), batches);
        boolean stoppedEarly = false;
        try {
            while (epoch < spec.epochs()) {
                if (epoch - bestEpoch >= spec.patience() && bestEpoch > 0) {
                    stoppedEarly = true;
                    listener.message("stopped early: no better validation BPD in " + spec.patience() + " epochs");
                    break;
                }
                epoch++;
                long t0 = System.nanoTime();
                SplittableRandom rng = new SplittableRandom(spec.seed() * 1_000_003L + epoch);
                int[] order = shuffled(data.train().size(), rng);
                double trainNats = 0;
                EmStatistics pending = null;
                int inPending = 0;
                for (int k = 0; k < batches; k++) {
                    int[] idx = Arrays.copyOfRange(order, k * spec.batch(), Math.min(order.length, (k + 1)
                            * spec.batch()));
                    EmStatistics stats;
                    try (TensorScope scope = TensorScope.open()) {
                        Tensor x = backend.of(encoding.values(data.train(), idx, rng), idx.length,
                                spec.spec().variables());
                        stats = circuit.expectedStatistics(x);
                    }
                    double batchNats = stats.logLikelihood();
                    trainNats += batchNats;
                    if (pending == null) {
                        pending = stats;
                    } else {
                        pending.add(stats);
                    }
                    inPending++;
                    if (inPending == spec.emFrequency() || k == batches - 1) {
                        LayeredCircuit next = circuit.emStep(pending, spec.emStep(), spec.pseudoCount());
                        pending.close();
                        pending = null;
                        inPending = 0;
                        circuit.close();
                        circuit = next;
                    }
                    listener.batchDone(epoch, k + 1, -batchNats / idx.length);
                }
                int pixels = spec.spec().variables();
                double trainBpd = -trainNats / data.train().size() / pixels / Math.log(2) + encoding.offsetBits();
                double validationBpd = bitsPerDim(circuit, data.validation(), encoding, spec.batch());
                double seconds = (System.nanoTime() - t0) / 1e9;
                boolean best = validationBpd < bestBpd;
                if (best) {
                    bestBpd = validationBpd;
                    bestEpoch = epoch;
                }
                EpochMetrics m = metrics(epoch, seconds, best, trainBpd, validationBpd);
                history.add(m);
                Map<String, String> provenance = new LinkedHashMap<>();
                provenance.put("configuration", configuration);
                provenance.put("trainer", "stochastic EM (Einsum network)");
                provenance.put("epoch", Integer.toString(epoch));
                provenance.put("best_epoch", Integer.toString(bestEpoch));
                provenance.put("best_validation_bpd", Double.toString(bestBpd));
                for (EpochMetrics h : history) {
                    provenance.put("epoch_" + h.epoch(), h.seconds() + "," + h.get("train_bpd") + ","
                            + h.get("validation_bpd"));
                }
                if (best) {
                    CircuitFiles.write(out, circuit, provenance);
                }
                CircuitFiles.write(last, circuit, provenance);
                AtomicFiles.writeString(out.resolve(METRICS), MetricsCsv.format(history));
                listener.epochDone(m);
            }
        } finally {
            circuit.close();
        }
        if (!Files.isDirectory(out) || bestEpoch == 0) {
            throw new InvalidArgumentException("no epoch was trained in " + out + " (--epochs " + spec.epochs()
                    + " reached)");
        }
        double seconds = history.stream().mapToDouble(EpochMetrics::seconds).sum();
        return new TrainingReport(out, epoch, bestEpoch, seconds, stoppedEarly, history.get(bestEpoch - 1).values());
    }

    private static EpochMetrics metrics(int epoch, double seconds, boolean best, double train, double validation) {
        Map<String, Double> values = new LinkedHashMap<>();
        values.put("train_bpd", train);
        values.put("validation_bpd", validation);
        return new EpochMetrics(epoch, seconds, best, values);
    }

    private static int integer(Path dir, Map<String, String> state, String key) {
        return (int) number(dir, state, key);
    }

    private static double number(Path dir, Map<String, String> state, String key) {
        try {
            return Double.parseDouble(state.get(key));
        } catch (NullPointerException | NumberFormatException e) {
            throw FormatException.of(dir.resolve(CircuitFiles.JSON), "provenance." + key, "expected a number, found "
                    + state.get(key));
        }
    }

    private static int[] shuffled(int n, SplittableRandom rng) {
        int[] order = IntStream.range(0, n).toArray();
        for (int i = n - 1; i > 0; i--) {
            int j = rng.nextInt(i + 1);
            int t = order[i];
            order[i] = order[j];
            order[j] = t;
        }
        return order;
    }

    /** Mean bits per dimension of {@code images}, dequantised with seed 0 for Gaussian leaves. */
    static double bitsPerDim(Circuit circuit, ImageSet images, PixelEncoding encoding, int batch) {
        SplittableRandom rng = new SplittableRandom(0);
        double nats = 0;
        int s = circuit.numVariables();
        for (int from = 0; from < images.size(); from += batch) {
            int[] idx = IntStream.range(from, Math.min(images.size(), from + batch)).toArray();
            try (TensorScope scope = TensorScope.open()) {
                Tensor x = circuit.backend().of(encoding.values(images, idx, rng), idx.length, s);
                nats += circuit.logLikelihood(x).sumAll().item();
            }
        }
        return -nats / images.size() / s / Math.log(2) + encoding.offsetBits();
    }

    /**
     * The starting point: sum weights from U(0.01, 0.99) normalised; Gaussian means from U(0, 1) with
     * standard deviation 0.5 (clamped to the family's range); categorical level probabilities from
     * U(0.5, 1.5) normalised.
     */
    static LayeredCircuit initial(Backend backend, Spec spec, SplittableRandom rng) {
        LayeredSpec shape = spec.spec();
        int n = shape.variables() * shape.leaves();
        Map<String, Tensor> leaves = new LinkedHashMap<>();
        List<Tensor> weights = LayeredCircuit.randomWeights(shape, backend, rng);
        try (TensorScope scope = TensorScope.open()) {
            if (spec.head().equals("gaussian")) {
                float[] mean = new float[n];
                float[] logVar = new float[n];
                for (int i = 0; i < n; i++) {
                    mean[i] = rng.nextFloat();
                    logVar[i] = (float) (2 * Math.log(0.5));
                }
                leaves.put("mean", backend.of(mean, shape.variables(), shape.leaves()));
                leaves.put("log_var", backend.of(logVar, shape.variables(), shape.leaves()));
            } else {
                float[] logits = new float[n * 256];
                for (int i = 0; i < logits.length; i++) {
                    logits[i] = (float) Math.log(0.5 + rng.nextDouble());
                }
                leaves.put("logits", backend.of(logits, shape.variables(), shape.leaves(), 256));
            }
            return TensorScope.outside(() -> LayeredCircuit.create(shape, spec.family(), leaves, weights));
        } finally {
            weights.forEach(Tensor::close);
        }
    }
}
