package io.vqdistill.circuits.bench;

import io.vqdistill.api.Backend;
import io.vqdistill.api.BackendSelector;
import io.vqdistill.api.DType;
import io.vqdistill.api.Tensor;
import io.vqdistill.api.TensorScope;
import io.vqdistill.api.circuit.Circuit;
import io.vqdistill.api.circuit.Precision;
import io.vqdistill.api.spi.BackendOptions;
import io.vqdistill.circuits.CircuitStructure;
import io.vqdistill.circuits.DagCircuit;
import io.vqdistill.circuits.Numerics;
import io.vqdistill.circuits.ShallowMixture;
import io.vqdistill.circuits.io.CircuitFiles;
import io.vqdistill.circuits.layered.EmStatistics;
import io.vqdistill.circuits.layered.LayeredCircuit;
import io.vqdistill.circuits.leaf.CategoricalFamily;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.function.Supplier;

/**
 * A command-line runner (test scope, not a unit test) that times whole evaluations on a real engine
 * and checks them against a float64 brute force on the host; run it with a backend module's test
 * class path:
 * <pre>
 *   java -cp ... io.vqdistill.circuits.bench.EvaluationTiming BACKEND gaussian N B CHECK PROTOTYPES DUPLICATES
 *   java -cp ... io.vqdistill.circuits.bench.EvaluationTiming BACKEND categorical N B MNIST_IDX
 *   java -cp ... io.vqdistill.circuits.bench.EvaluationTiming BACKEND circuit DIR B MNIST_IDX [check]
 *   java -cp ... io.vqdistill.circuits.bench.EvaluationTiming BACKEND einet DIR B MNIST_IDX SUBSET
 *   java -cp ... io.vqdistill.circuits.bench.EvaluationTiming BACKEND agreement DIR B MNIST_IDX OTHER_BACKEND...
 * </pre>
 * {@code gaussian} uses {@link DecodedLeaves} (28 x 28; PROTOTYPES stroke images, near duplicates
 * when DUPLICATES is true) and images near its components, checking the first CHECK;
 * {@code categorical} N random categorical components over the MNIST levels of the first B images
 * of an IDX file; {@code circuit} a stored mixture on the dequantised first B images; {@code einet}
 * a stored Einsum network: its EM statistics (one epoch's work per image) and log-likelihoods on B
 * images (dequantised, or levels for categorical leaves) in batches of 100, next to the same network built as a {@link DagCircuit} and
 * evaluated on the first SUBSET images, and to a plain loop over its units, one object per unit, in
 * double precision on the host (the first SUBSET images), each also scaled to 50,000 images;
 * {@code agreement} a stored circuit read on BACKEND and on each OTHER_BACKEND, the log-likelihoods of
 * the first B images (dequantised, or levels for categorical leaves) in batches of 100 on each, and
 * their largest difference to BACKEND's. Each timing line gives the load average read from
 * /proc/loadavg before the measurement.
 */
public final class EvaluationTiming {
    private EvaluationTiming() {
    }

    /**
     * Runs one measurement.
     *
     * @param args backend name, workload and its arguments, as in the class documentation
     */
    public static void main(String[] args) throws IOException {
        Locale.setDefault(Locale.ROOT);
        try (Backend backend = BackendSelector.discover().select(args[0], BackendOptions.defaults())) {
            System.out.printf("# %s%n", backend.version());
            switch (args[1]) {
                case "gaussian" -> gaussian(backend, Integer.parseInt(args[2]), Integer.parseInt(args[3]),
                        Integer.parseInt(args[4]), Integer.parseInt(args[5]), Boolean.parseBoolean(args[6]));
                case "categorical" -> categorical(backend, Integer.parseInt(args[2]), Integer.parseInt(args[3]),
                        Path.of(args[4]));
                case "circuit" -> circuit(backend, Path.of(args[2]), Integer.parseInt(args[3]), Path.of(args[4]),
                        args.length > 5 ? Integer.parseInt(args[5]) : 0);
                case "einet" -> einet(backend, Path.of(args[2]), Integer.parseInt(args[3]), Path.of(args[4]),
                        Integer.parseInt(args[5]));
                case "agreement" -> agreement(backend, Path.of(args[2]), Integer.parseInt(args[3]), Path.of(args[4]),
                        java.util.Arrays.copyOfRange(args, 5, args.length));
                default -> throw new IllegalArgumentException("unknown workload " + args[1]);
            }
        }
    }

    private static void gaussian(Backend backend, int n, int b, int check, int prototypes, boolean duplicates) {
        DecodedLeaves d = DecodedLeaves.generate(784, n, prototypes, duplicates, 1);
        System.out.printf("# decoded-looking Gaussian leaves: N = %d, S = %d, %.0f%% of stds at the clamp, %d"
                + " prototypes, near duplicates: %s; B = %d images near components%n", n, d.variables(),
                100 * d.clampedShare(), prototypes, duplicates, b);
        float[] images = d.images(b, new SplittableRandom(2));
        try (ShallowMixture m = d.mixture(backend); Tensor x = backend.of(images, b, d.variables())) {
            evaluate(backend, m, x, images, check);
        }
    }

    private static void circuit(Backend backend, Path dir, int b, Path idx, int check) throws IOException {
        float[] images = dequantised(idx, b, 784);
        try (Circuit c = CircuitFiles.read(dir, backend); Tensor x = backend.of(images, b, 784)) {
            System.out.printf("# circuit %s (%s), B = %d dequantised images of %s%n", dir, c, b, idx);
            evaluate(backend, (ShallowMixture) c, x, images, check);
        }
    }

    /** The first b images in the encoding of {@code c}'s leaves: levels for categorical ones, else dequantised. */
    private static float[] encoded(Circuit c, Path idx, int b) throws IOException {
        return c.leafFamily() instanceof CategoricalFamily ? levels(idx, b, 784) : dequantised(idx, b, 784);
    }

    private static void agreement(Backend backend, Path dir, int b, Path idx, String[] others) throws IOException {
        double[] reference;
        try (Circuit c = CircuitFiles.read(dir, backend)) {
            System.out.printf("# %s, %,d parameters, B = %d images of %s%n", c, c.parameterCount(), b, idx);
            reference = logLikelihoods(c, encoded(c, idx, b), b);
        }
        System.out.printf("%s: mean log-likelihood %.6f nats%n", backend.name(), mean(reference));
        for (String name : others) {
            try (Backend other = BackendSelector.discover().select(name, BackendOptions.defaults());
                 Circuit c = CircuitFiles.read(dir, other)) {
                double[] ll = logLikelihoods(c, encoded(c, idx, b), b);
                double worst = 0;
                for (int r = 0; r < b; r++) {
                    worst = Math.max(worst, Math.abs(ll[r] - reference[r]));
                }
                System.out.printf("%s (%s): mean log-likelihood %.6f nats, largest difference to %s %.3g nats per"
                        + " image (%.3g relative)%n", other.name(), other.version(), mean(ll), backend.name(), worst,
                        worst / Math.abs(mean(reference)));
            }
        }
    }

    /** log p(x) of the first b images of {@code images} under {@code c}, in batches of 100. */
    private static double[] logLikelihoods(Circuit c, float[] images, int b) {
        double[] out = new double[b];
        for (int from = 0; from < b; from += 100) {
            int to = Math.min(b, from + 100);
            try (TensorScope scope = TensorScope.open()) {
                double[] ll = c.logLikelihood(c.backend().of(slice(images, from, to), to - from, 784)).toDoubleArray();
                System.arraycopy(ll, 0, out, from, ll.length);
            }
        }
        return out;
    }

    private static double mean(double[] values) {
        return java.util.Arrays.stream(values).average().orElse(Double.NaN);
    }

    private static void einet(Backend backend, Path dir, int b, Path idx, int subset) throws IOException {
        int batch = 100;
        try (LayeredCircuit c = (LayeredCircuit) CircuitFiles.read(dir, backend)) {
            float[] images = encoded(c, idx, b);
            System.out.printf("# %s, %,d parameters, B = %d images of %s in batches of %d%n", c,
                    c.parameterCount(), b, idx, batch);
            String load = load();
            long t0 = System.nanoTime();
            for (int from = 0; from < b; from += batch) {
                int to = Math.min(b, from + batch);
                try (TensorScope scope = TensorScope.open();
                     EmStatistics stats = c.expectedStatistics(backend.of(slice(images, from, to), to - from, 784))) {
                    stats.logLikelihood();
                }
            }
            double em = (System.nanoTime() - t0) / 1e9;
            System.out.printf("layered E-step (statistics of every parameter): %.2f s, %.1f s per 50,000 images (load"
                    + " average before: %s)%n", em, em * 50_000 / b, load);
            load = load();
            t0 = System.nanoTime();
            double[] layered = logLikelihoods(c, images, b);
            double up = (System.nanoTime() - t0) / 1e9;
            System.out.printf("layered log-likelihood: %.2f s, %.1f s per 50,000 images (load average before: %s)%n",
                    up, up * 50_000 / b, load);
            load = load();
            t0 = System.nanoTime();
            try (DagCircuit dag = c.toDag()) {
                double build = (System.nanoTime() - t0) / 1e9;
                CircuitStructure st = dag.structure();
                System.out.printf("DAG of the same network: %,d units, %,d edges, built in %.2f s (load average before:"
                        + " %s)%n", st.numUnits(), st.numEdges(), build, load);
                load = load();
                t0 = System.nanoTime();
                double[] general;
                try (TensorScope scope = TensorScope.open()) {
                    general = dag.logLikelihood(backend.of(slice(images, 0, subset), subset, 784)).toDoubleArray();
                }
                double dagSeconds = (System.nanoTime() - t0) / 1e9;
                System.out.printf("DAG log-likelihood of %d images: %.2f s, %.1f s per 50,000 images (load average"
                        + " before: %s)%n", subset, dagSeconds, dagSeconds * 50_000 / subset, load);
                boolean categorical = c.leafFamily() instanceof CategoricalFamily;
                double[] mean = categorical ? null : dag.parameters().get("mean").toDoubleArray();
                double[] logVar = categorical ? null : dag.parameters().get("log_var").toDoubleArray();
                double[] logits = categorical ? dag.parameters().get("logits").toDoubleArray() : null;
                int levels = categorical ? ((CategoricalFamily) c.leafFamily()).categories() : 0;
                load = load();
                t0 = System.nanoTime();
                double[] naive = new double[subset];
                double[] value = new double[st.numUnits()];
                for (int r = 0; r < subset; r++) {
                    for (int u = 0; u < value.length; u++) {
                        int[] ch = st.children(u);
                        switch (st.kind(u)) {
                            case INPUT -> {
                                int l = st.inputIndex(u);
                                float x = images[r * 784 + st.variable(u)];
                                if (categorical) {
                                    value[u] = logits[l * levels + (int) x];
                                } else {
                                    double d = x - mean[l];
                                    value[u] = -0.5 * (Math.log(2 * Math.PI) + logVar[l] + d * d
                                            * Math.exp(-logVar[l]));
                                }
                            }
                            case PRODUCT -> {
                                double sum = 0;
                                for (int k : ch) {
                                    sum += value[k];
                                }
                                value[u] = sum;
                            }
                            case SUM -> {
                                double[] w = st.logWeights(u);
                                double[] terms = new double[ch.length];
                                for (int k = 0; k < ch.length; k++) {
                                    terms[k] = w[k] + value[ch[k]];
                                }
                                value[u] = Numerics.logSumExp(terms);
                            }
                        }
                    }
                    naive[r] = value[st.root()];
                }
                double loop = (System.nanoTime() - t0) / 1e9;
                System.out.printf("one object per unit, double, host loop over %d images: %.2f s, %.1f s per 50,000"
                        + " images (load average before: %s)%n", subset, loop, loop * 50_000 / subset, load);
                double worstDag = 0;
                double worstLoop = 0;
                for (int r = 0; r < subset; r++) {
                    worstDag = Math.max(worstDag, Math.abs(general[r] - layered[r]));
                    worstLoop = Math.max(worstLoop, Math.abs(naive[r] - layered[r]));
                }
                System.out.printf("largest difference to the layered log-likelihood: DAG %.2e, loop %.2e nats per"
                        + " image%n", worstDag, worstLoop);
            }
        }
    }

    private static float[] slice(float[] images, int from, int to) {
        float[] out = new float[(to - from) * 784];
        System.arraycopy(images, from * 784, out, 0, out.length);
        return out;
    }

    private static void evaluate(Backend backend, ShallowMixture m, Tensor x, float[] images, int check) {
        int b = Math.toIntExact(x.shape(0));
        int s = m.numVariables();
        try (Tensor w = backend.zeros(DType.FLOAT32, s, m.components())) {
            time("matmul [B, S] x [S, N] (warm-up)", () -> x.slice(0, 0, Math.min(b, 64)).matmul(w));
            time("matmul [B, S] x [S, N]", () -> x.matmul(w));
        }
        time("FAST log-likelihood, first call (prepares the kernel)", () -> m.logLikelihood(x.slice(0, 0, 1)));
        double[] fast = time("FAST log-likelihood", () -> m.logLikelihood(x));
        time("FAST log-likelihood, again", () -> m.logLikelihood(x));
        if (check > 0) {
            Tensor head = x.slice(0, 0, check);
            double[] precise = time("DOUBLE log-likelihood of the first " + check,
                    () -> m.logLikelihood(head, Precision.DOUBLE));
            head.close();
            int many = Math.min(b, 2000);
            Tensor first = x.slice(0, 0, many);
            time("DOUBLE log-likelihood of the first " + many + " (prepared)",
                    () -> m.logLikelihood(first, Precision.DOUBLE));
            first.close();
            double[] exact = bruteForce(m, images, check);
            report("FAST", fast, exact, s);
            report("DOUBLE", precise, exact, s);
        }
    }

    private static void categorical(Backend backend, int n, int b, Path idx) throws IOException {
        int s = 784;
        int v = 256;
        float[] levels = levels(idx, b, s);
        System.out.printf("# categorical leaves: N = %d random components over %d levels, S = %d; B = %d MNIST"
                + " images%n", n, v, s, b);
        ShallowMixture m;
        try (TensorScope scope = TensorScope.open()) {
            SplittableRandom rng = new SplittableRandom(3);
            int distinct = 64;
            float[] table = new float[distinct * s * v];
            for (int k = 0; k < table.length; k++) {
                table[k] = (float) (k % v == 0 ? 3 + rng.nextGaussian() : rng.nextGaussian());
            }
            long[] pick = new long[n];
            for (int j = 0; j < n; j++) {
                pick[j] = rng.nextInt(distinct);
            }
            Tensor logits = backend.of(table, distinct, s, v).gather(0, backend.of(pick, n));
            m = TensorScope.outside(() -> ShallowMixture.builder(new CategoricalFamily(v))
                    .parameters(Map.of("logits", logits)).build());
        }
        try (m; Tensor x = backend.of(levels, b, s)) {
            time("log-likelihood, first call (prepares the kernel)", () -> m.logLikelihood(x.slice(0, 0, 1)));
            time("log-likelihood", () -> m.logLikelihood(x));
        }
    }

    private static double[] bruteForce(ShallowMixture m, float[] images, int count) {
        int s = m.numVariables();
        int n = m.components();
        double[] mean = m.parameters().get("mean").toDoubleArray();
        double[] logVar = m.parameters().get("log_var").toDoubleArray();
        double[] w = m.logWeights();
        double[] out = new double[count];
        double[] scores = new double[n];
        for (int r = 0; r < count; r++) {
            for (int j = 0; j < n; j++) {
                double t = w[j];
                for (int i = 0; i < s; i++) {
                    double lv = logVar[j * s + i];
                    double d = images[r * s + i] - mean[j * s + i];
                    t += -0.5 * (Math.log(2 * Math.PI) + lv + d * d / Math.exp(lv));
                }
                scores[j] = t;
            }
            out[r] = Numerics.logSumExp(scores);
        }
        return out;
    }

    private static void report(String what, double[] got, double[] exact, int s) {
        double worst = 0;
        double worstShare = 0;
        double sum = 0;
        for (int r = 0; r < exact.length; r++) {
            double e = Math.abs(got[r] - exact[r]);
            worst = Math.max(worst, e);
            worstShare = Math.max(worstShare, e / (1e-2 + 1e-5 * Math.abs(exact[r])));
            sum += got[r] - exact[r];
        }
        System.out.printf("%s vs float64 brute force on %d images: max |error| %.3g nats, max error / (1e-2 +"
                + " 1e-5 |log p|) %.3f, BPD difference %.3g%n", what, exact.length, worst, worstShare,
                -sum / exact.length / (s * Math.log(2)));
    }

    private static double[] time(String what, Supplier<Tensor> computation) {
        String load = load();
        long start = System.nanoTime();
        double[] out;
        try (Tensor t = computation.get()) {
            out = t.toDoubleArray();
        }
        System.out.printf("%s: %.2f s (load average before: %s)%n", what, (System.nanoTime() - start) / 1e9, load);
        return out;
    }

    private static String load() {
        try {
            String[] f = Files.readString(Path.of("/proc/loadavg")).trim().split("\\s+");
            return f[0] + " " + f[1] + " " + f[2];
        } catch (IOException e) {
            return "unknown";
        }
    }

    private static byte[] idxImages(Path idx, int b, int s) throws IOException {
        byte[] all = Files.readAllBytes(idx);
        if (all.length < 16 + (long) b * s) {
            throw new IllegalArgumentException(idx + " holds fewer than " + b + " images of " + s + " pixels");
        }
        return all;
    }

    /** The first b images' levels, as floats. */
    private static float[] levels(Path idx, int b, int s) throws IOException {
        byte[] all = idxImages(idx, b, s);
        float[] out = new float[b * s];
        for (int k = 0; k < out.length; k++) {
            out[k] = all[16 + k] & 0xff;
        }
        return out;
    }

    /** The first b images dequantised to (p + u)/256 with a seeded u. */
    private static float[] dequantised(Path idx, int b, int s) throws IOException {
        byte[] all = idxImages(idx, b, s);
        SplittableRandom rng = new SplittableRandom(4);
        float[] out = new float[b * s];
        for (int k = 0; k < out.length; k++) {
            out[k] = (float) (((all[16 + k] & 0xff) + rng.nextDouble()) / 256);
        }
        return out;
    }
}
