package io.vqdistill.benchmarks;

import io.vqdistill.api.Backend;
import io.vqdistill.api.BackendSelector;
import io.vqdistill.api.Tensor;
import io.vqdistill.api.spi.BackendOptions;
import io.vqdistill.circuits.LeafFamilies;
import io.vqdistill.circuits.ShallowMixture;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * JMH benchmark of the Gaussian shallow-mixture log-likelihood, log p(x) of B images under N
 * components over S pixels, next to the same backend's plain [B, S] x [S, N] matrix product (the
 * bound the fused kernel is measured against). The parameters are random as in
 * {@code circuits.bench.MixtureBenchmark}: means uniform in [0, 1], standard deviations log-uniform in
 * [1e-3, 1], images uniform in [0, 1]. Each operation ends when its result is on the host.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(1)
public class MixtureLogLikelihoodBenchmark {
    /** The backend's name; empty for the selection rule's choice. */
    @Param({"tensorflow"})
    public String backend;

    /** S, the pixels of an image. */
    @Param({"784"})
    public int variables;

    /** N, the mixture's components. */
    @Param({"1024", "4096"})
    public int components;

    /** B, the images per call. */
    @Param({"1000"})
    public int batch;

    private Backend engine;
    private ShallowMixture mixture;
    private Tensor images;
    private Tensor weights;

    /** Starts the backend and builds the random mixture, images and matrix. */
    @Setup(Level.Trial)
    public void setUp() {
        engine = BackendSelector.discover().select(backend.isEmpty() ? null : backend, BackendOptions.defaults());
        SplittableRandom rng = new SplittableRandom(1);
        float[] mean = new float[components * variables];
        float[] logVar = new float[mean.length];
        for (int i = 0; i < mean.length; i++) {
            mean[i] = (float) rng.nextDouble();
            logVar[i] = (float) (2 * Math.log(1e-3) * rng.nextDouble());
        }
        float[] x = new float[batch * variables];
        for (int i = 0; i < x.length; i++) {
            x[i] = (float) rng.nextDouble();
        }
        float[] w = new float[variables * components];
        for (int i = 0; i < w.length; i++) {
            w[i] = (float) rng.nextGaussian();
        }
        Map<String, Tensor> parameters = new LinkedHashMap<>();
        try {
            parameters.put("mean", engine.of(mean, components, variables));
            parameters.put("log_var", engine.of(logVar, components, variables));
            mixture = ShallowMixture.builder(LeafFamilies.create("gaussian")).parameters(parameters).build();
        } finally {
            parameters.values().forEach(Tensor::close);
        }
        images = engine.of(x, batch, variables);
        weights = engine.of(w, variables, components);
    }

    /** log p(x) of every image, copied to the host. */
    @Benchmark
    public float[] logLikelihood() {
        try (Tensor ll = mixture.logLikelihood(images)) {
            return ll.toFloatArray();
        }
    }

    /** The plain matrix product of the same shapes, its first element read on the host. */
    @Benchmark
    public float[] matmul() {
        try (Tensor product = images.matmul(weights); Tensor first = product.reshape(-1).slice(0, 0, 1)) {
            return first.toFloatArray();
        }
    }

    /** Closes the mixture, the tensors and the backend. */
    @TearDown(Level.Trial)
    public void tearDown() {
        mixture.close();
        images.close();
        weights.close();
        engine.close();
    }
}
