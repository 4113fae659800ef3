package io.vqdistill.circuits.bench;

import io.vqdistill.api.Backend;
import io.vqdistill.api.DType;
import io.vqdistill.api.InvalidArgumentException;
import io.vqdistill.api.Tensor;
import io.vqdistill.api.circuit.Precision;
import io.vqdistill.circuits.ShallowMixture;
import java.util.Arrays;
import java.util.Locale;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.function.Supplier;

/**
 * Times the real evaluation path, the full log-likelihood of a shallow mixture on B images, next to
 * the same backend's plain matrix product of the same shapes ([B, S] x [S, N]), and says what it
 * timed ({@link Result#workload()}). Two workloads:
 * <ul>
 *   <li>{@link #run(Backend, int, int, int, int, long)}: generated Gaussian leaves that look like a
 *       decoder's ({@link DecodedLeaves}: standard deviations at the 1e-3 clamp on most pixels,
 *       means near 0 and 1) on dequantised images near the components, the case whose float32
 *       accuracy the evaluation is built for;</li>
 *   <li>{@link #run(ShallowMixture, Tensor, int, String)}: a given circuit (for example one read
 *       with {@code CircuitFiles}) on given images, at the mixture's {@link Precision}.</li>
 * </ul>
 * A benchmark, not a test. Each repeat times one log-likelihood and then one matmul, so that both
 * see the same machine load; the reported times are the medians, after an untimed warm-up of the
 * matmul and a timed first log-likelihood on a few images, which prepares the kernels
 * ({@link Result#prepareSeconds()}).
 */
public final class MixtureBenchmark {
    private static final int WARM_UP_ROWS = 64;
    private static final int PROTOTYPES = 16;

    /**
     * One measurement.
     *
     * @param backend        the backend's name and version
     * @param workload       what was timed: the leaves, where they come from, the images
     * @param precision      the precision of the timed log-likelihood
     * @param variables      S
     * @param components     N
     * @param batch          B
     * @param repeats        timed runs of each
     * @param seconds        median wall time of the full log-likelihood
     * @param matmulSeconds  median wall time of the [B, S] x [S, N] matrix product
     * @param prepareSeconds wall time of the first log-likelihood, on up to 64 images, which
     *                       prepares the kernels
     */
    public record Result(String backend, String workload, Precision precision, int variables, int components,
                         int batch, int repeats, double seconds, double matmulSeconds, double prepareSeconds) {

        /**
         * The log-likelihood's nominal throughput in GFLOP/s: 2 B N (2S + 1) / seconds / 1e9, the
         * work of the expanded Gaussian square with one centre per pixel (the kernel may do more:
         * two or three centres where the components split).
         */
        public double gflops() {
            return 2.0 * batch * components * (2.0 * variables + 1) / seconds / 1e9;
        }

        /** The plain matmul's throughput in GFLOP/s: 2 B N S / matmulSeconds / 1e9. */
        public double matmulGflops() {
            return 2.0 * batch * components * variables / matmulSeconds / 1e9;
        }

        /** gflops() / matmulGflops(): the share of the backend's matmul throughput reached. */
        public double throughputRatio() {
            return gflops() / matmulGflops();
        }

        /** seconds / matmulSeconds: how many plain matmuls one log-likelihood costs. */
        public double timeRatio() {
            return seconds / matmulSeconds;
        }

        @Override
        public String toString() {
            return String.format(Locale.ROOT, "%s, %s, %s: S = %d, N = %d, B = %d: log-likelihood %.3f s (first call"
                    + " %.3f s), matmul %.3f s, ratio %.2f", backend, workload, precision, variables, components,
                    batch, seconds, prepareSeconds, matmulSeconds, timeRatio());
        }
    }

    private MixtureBenchmark() {
    }

    /**
     * Times a mixture of generated decoded-looking Gaussian leaves ({@link DecodedLeaves}: near
     * duplicates of 16 stroke prototypes, uniform weights) on B dequantised images near its
     * components, at {@link Precision#FAST}. Near duplicates (components that differ only in their
     * uncertain pixels, so that hundreds lie within a few hundred nats of the best for an image) are
     * what made the earlier float64 rescoring slow: about 270 s for N = 16384 and B = 10,000.
     *
     * @param variables  S >= 1 (784 for MNIST-sized images)
     * @param components N >= 1
     * @param batch      B >= 1
     * @param repeats    timed runs of each, >= 1
     * @param seed       the seed of the leaves and images
     */
    public static Result run(Backend backend, int variables, int components, int batch, int repeats, long seed) {
        for (Map.Entry<String, Integer> e : Map.of("variables", variables, "components", components, "batch", batch,
                "repeats", repeats).entrySet()) {
            if (e.getValue() < 1) {
                throw new InvalidArgumentException(e.getKey() + " must be >= 1, found " + e.getValue());
            }
        }
        DecodedLeaves leaves = DecodedLeaves.generate(variables, components, PROTOTYPES, true, seed);
        float[] images = leaves.images(batch, new SplittableRandom(seed + 1));
        String workload = String.format(Locale.ROOT, "generated decoded-looking Gaussian leaves (%.0f%% of stds at"
                + " the 1e-3 clamp, means near 0 and 1; near duplicates of %d stroke prototypes) on dequantised"
                + " images near the components", 100 * leaves.clampedShare(), PROTOTYPES);
        try (ShallowMixture mixture = leaves.mixture(backend); Tensor x = backend.of(images, batch, variables)) {
            return run(mixture, x, repeats, workload);
        }
    }
    /**
     * Times a given mixture's log-likelihood, at its {@link ShallowMixture#precision()}, on given
     * images.
     *
     * @param mixture  the circuit; its kernels are prepared by the first, timed call
     * @param images   FLOAT32 [B, S] on the mixture's backend, B >= 1
     * @param repeats  timed runs of each, >= 1
     * @param workload what the mixture and images are, for {@link Result#workload()}
     */
    public static Result run(ShallowMixture mixture, Tensor images, int repeats, String workload) {
        if (repeats < 1) {
            throw new InvalidArgumentException("repeats must be >= 1, found " + repeats);
        }
        if (images.rank() != 2 || images.shape(0) < 1 || images.shape(1) != mixture.numVariables()) {
            throw new InvalidArgumentException("images must be [B, " + mixture.numVariables() + "] with B >= 1");
        }
        Backend backend = mixture.backend();
        int batch = Math.toIntExact(images.shape(0));
        int variables = mixture.numVariables();
        int components = mixture.components();
        try (Tensor w = backend.zeros(DType.FLOAT32, variables, components);
             Tensor warm = images.slice(0, 0, Math.min(batch, WARM_UP_ROWS))) {
            time(() -> warm.matmul(w));
            double prepare = time(() -> mixture.logLikelihood(warm));
            double[] seconds = new double[repeats];
            double[] matmul = new double[repeats];
            for (int r = 0; r < repeats; r++) {
                seconds[r] = time(() -> mixture.logLikelihood(images));
                matmul[r] = time(() -> images.matmul(w));
            }
            return new Result(backend.name() + " (" + backend.version() + ")", workload, mixture.precision(),
                    variables, components, batch, repeats, median(seconds), median(matmul), prepare);
        }
    }

    /**
     * Wall time of one computation until its first element can be read on the host (so that an
     * asynchronous engine has finished), without copying the whole result.
     */
    private static double time(Supplier<Tensor> computation) {
        long start = System.nanoTime();
        try (Tensor out = computation.get(); Tensor first = out.reshape(-1).slice(0, 0, 1)) {
            first.toFloatArray();
        }
        return (System.nanoTime() - start) / 1e9;
    }

    private static double median(double[] t) {
        double[] s = t.clone();
        Arrays.sort(s);
        int n = s.length;
        return n % 2 == 1 ? s[n / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
    }
}
