package io.vqdistill.circuits.bench;

import io.vqdistill.api.Backend;
import io.vqdistill.api.InvalidArgumentException;
import io.vqdistill.api.Tensor;
import io.vqdistill.circuits.ShallowMixture;
import io.vqdistill.circuits.leaf.GaussianFamily;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.function.Supplier;

/**
 * Times the full log-likelihood of a random Gaussian shallow mixture (S variables, N components) on
 * B random images, next to the same backend's plain matrix product of the same shapes
 * ([B, S] x [S, N]), and reports seconds and GFLOP/s of both. A benchmark, not a test: the issue's
 * target is N = 16384, B = 10000, S = 784 within 4 s on a 2-core CPU, i.e. at least half the
 * backend's own matmul throughput.
 *
 * <p>The mixture has means uniform in [0, 1] and standard deviations log-uniform in [1e-3, 1] (the
 * paper's clamp), the images are uniform in [0, 1]. Its log-likelihood does 2 B N (2S + 1)
 * floating-point operations in matrix products (the expanded square: x^2 and x against the
 * components, plus the constants), the plain matmul 2 B N S; each GFLOP/s figure divides its own
 * count by its own time, so the ratio compares throughput. Each repeat times one log-likelihood and
 * then one matmul, so that both see the same machine load; the reported times are the medians, after
 * an untimed warm-up of each on a few images.
 */
public final class MixtureBenchmark {

    /**
     * One measurement.
     *
     * @param backend       the backend's name and version
     * @param variables     S
     * @param components    N
     * @param batch         B
     * @param repeats       timed runs of each
     * @param seconds       median wall time of the full log-likelihood
     * @param matmulSeconds median wall time of the [B, S] x [S, N] matrix product
     */
    public record Result(String backend, int variables, int components, int batch, int repeats, double seconds,
                         double matmulSeconds) {

        /** The log-likelihood's matrix-product work in GFLOP/s: 2 B N (2S + 1) / seconds / 1e9. */
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
    }

    private MixtureBenchmark() {
    }

    /**
     * Builds a random mixture and random images on {@code backend} and times both computations.
     *
     * @param variables  S >= 1
     * @param components N >= 1
     * @param batch      B >= 1
     * @param repeats    timed runs of each, >= 1
     * @param seed       the seed of the random parameters and images
     */
    public static Result run(Backend backend, int variables, int components, int batch, int repeats, long seed) {
        for (Map.Entry<String, Integer> e : Map.of("variables", variables, "components", components, "batch", batch,
                "repeats", repeats).entrySet()) {
            if (e.getValue() < 1) {
                throw new InvalidArgumentException(e.getKey() + " must be >= 1, found " + e.getValue());
            }
        }
        SplittableRandom rng = new SplittableRandom(seed);
        int size = Math.multiplyExact(components, variables);
        float[] mean = new float[size];
        float[] logVar = new float[size];
        for (int i = 0; i < size; i++) {
            mean[i] = (float) rng.nextDouble();
            logVar[i] = (float) (2 * Math.log(1e-3) * rng.nextDouble());
        }
        float[] images = new float[Math.multiplyExact(batch, variables)];
        for (int i = 0; i < images.length; i++) {
            images[i] = (float) rng.nextDouble();
        }
        float[] weights = new float[Math.multiplyExact(variables, components)];
        for (int i = 0; i < weights.length; i++) {
            weights[i] = (float) rng.nextGaussian();
        }
        Map<String, Tensor> params = new LinkedHashMap<>();
        ShallowMixture mixture;
        try {
            params.put("mean", backend.of(mean, components, variables));
            params.put("log_var", backend.of(logVar, components, variables));
            mixture = ShallowMixture.builder(new GaussianFamily()).parameters(params).build();
        } finally {
            params.values().forEach(Tensor::close);
        }
        try (mixture;
             Tensor x = backend.of(images, batch, variables);
             Tensor w = backend.of(weights, variables, components);
             Tensor warm = x.slice(0, 0, Math.min(batch, 64))) {
            time(() -> mixture.logLikelihood(warm));
            time(() -> warm.matmul(w));
            double[] seconds = new double[repeats];
            double[] matmul = new double[repeats];
            for (int r = 0; r < repeats; r++) {
                seconds[r] = time(() -> mixture.logLikelihood(x));
                matmul[r] = time(() -> x.matmul(w));
            }
            return new Result(backend.name() + " (" + backend.version() + ")", variables, components, batch, repeats,
                    median(seconds), median(matmul));
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
