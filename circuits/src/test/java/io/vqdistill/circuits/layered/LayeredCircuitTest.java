package io.vqdistill.circuits.layered;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import io.vqdistill.api.Backend;
import io.vqdistill.api.InvalidArgumentException;
import io.vqdistill.api.Tensor;
import io.vqdistill.api.TensorScope;
import io.vqdistill.api.circuit.LeafFamily;
import io.vqdistill.api.fake.FakeBackendProvider;
import io.vqdistill.api.spi.BackendOptions;
import io.vqdistill.circuits.DagCircuit;
import io.vqdistill.circuits.leaf.BernoulliFamily;
import io.vqdistill.circuits.leaf.CategoricalFamily;
import io.vqdistill.circuits.leaf.GaussianFamily;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.SplittableRandom;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * The Einsum network's structure, its agreement with the same network built as a DAG, normalisation
 * on a 4x4 image by enumeration, and EM: full-batch steps of size 1 never lower the training
 * log-likelihood. The queries against brute force on every backend are in the circuit contract.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class LayeredCircuitTest {
    private Backend backend;

    @BeforeAll
    void start() {
        backend = new FakeBackendProvider().create(BackendOptions.defaults());
    }

    @AfterAll
    void stop() {
        backend.close();
    }

    @Test
    void poonDomingosSplitsAtMultiplesOfThePieces() {
        RegionGraph g = RegionGraph.poonDomingos(28, 28, 7);
        assertThat(g.numRegions()).as("rectangles of a 4x4 grid of cells").isEqualTo(100);
        assertThat(g.regionsAtDepth(0)).hasSize(16);
        assertThat(g.numPartitions()).isEqualTo(200);
        assertThat(g.region(g.root())).isEqualTo(new RegionGraph.Region(0, 0, 28, 28));
        for (int r : g.regionsAtDepth(0)) {
            assertThat(g.region(r).rows()).isEqualTo(7);
            assertThat(g.region(r).columns()).isEqualTo(7);
        }
        RegionGraph mixed = RegionGraph.poonDomingos(6, 5, 2, 3);
        for (int r = 0; r < mixed.numRegions(); r++) {
            for (RegionGraph.Partition p : mixed.partitions(r)) {
                assertThat(mixed.depth(p.left())).isLessThan(mixed.depth(r));
                assertThat(mixed.pixels(p.left()).length + mixed.pixels(p.right()).length)
                        .isEqualTo(mixed.pixels(r).length);
            }
        }
        assertThatThrownBy(() -> new LayeredSpec(28, 28, new int[] {0}, 2, 2))
                .isInstanceOf(InvalidArgumentException.class).hasMessageContaining("piece size");
    }

    @Test
    void likelihoodsOfEveryBinary4x4ImageSumToOne() {
        LayeredSpec spec = new LayeredSpec(4, 4, new int[] {2}, 2, 2);
        Random rng = new Random(5);
        try (TensorScope scope = TensorScope.open(); LayeredCircuit c = bernoulli(spec, rng)) {
            int n = 1 << 16;
            float[] x = new float[n * 16];
            for (int s = 0; s < n; s++) {
                for (int i = 0; i < 16; i++) {
                    x[s * 16 + i] = (s >> i) & 1;
                }
            }
            double[] ll = c.logLikelihood(backend.of(x, n, 16)).toDoubleArray();
            double total = 0;
            for (double v : ll) {
                total += Math.exp(v);
            }
            assertThat(total).isCloseTo(1, within(1e-4));
        }
    }

    @Test
    void gaussianNetworkAnswersAsItsDag() {
        LayeredSpec spec = new LayeredSpec(4, 6, new int[] {2, 3}, 3, 2);
        Random rng = new Random(8);
        try (TensorScope scope = TensorScope.open(); LayeredCircuit c = gaussian(spec, rng);
             DagCircuit dag = c.toDag()) {
            int b = 7;
            float[] x = new float[b * 24];
            boolean[] seen = new boolean[b * 24];
            for (int i = 0; i < x.length; i++) {
                x[i] = rng.nextFloat();
                seen[i] = rng.nextInt(3) > 0;
            }
            Tensor xs = backend.of(x, b, 24);
            Tensor o = backend.of(seen, b, 24);
            assertThat(c.parameterCount()).isEqualTo(dag.parameterCount());
            assertClose(c.logLikelihood(xs), dag.logLikelihood(xs), 1e-3);
            assertClose(c.marginalLogLikelihood(xs, o), dag.marginalLogLikelihood(xs, o), 1e-3);
            assertClose(c.conditionalMean(xs, o), dag.conditionalMean(xs, o), 1e-4);
            assertClose(c.conditionalVariance(xs, o), dag.conditionalVariance(xs, o), 1e-4);
            assertClose(c.conditionalMode(xs, o), dag.conditionalMode(xs, o), 1e-5);
            assertClose(c.componentPosterior(xs, o).exp(), dag.componentPosterior(xs, o).exp(), 1e-4);
        }
    }

    @Test
    void fullBatchEmNeverLowersTheTrainingLikelihood() {
        for (String family : List.of("gaussian", "categorical")) {
            LayeredSpec spec = new LayeredSpec(4, 4, new int[] {2}, 2, 2);
            Random rng = new Random(13);
            int b = 40;
            float[] x = new float[b * 16];
            for (int r = 0; r < b; r++) {
                int kind = r % 3;
                for (int i = 0; i < 16; i++) {
                    int level = (kind == 0 ? i % 4 : kind == 1 ? 3 - i % 4 : i / 4) + (rng.nextInt(4) == 0 ? 1 : 0);
                    x[r * 16 + i] = family.equals("gaussian") ? (Math.min(level, 4) + rng.nextFloat()) / 5
                            : Math.min(level, 4);
                }
            }
            try (TensorScope scope = TensorScope.open()) {
                Tensor data = backend.of(x, b, 16);
                LayeredCircuit c = family.equals("gaussian") ? gaussian(spec, rng) : categorical(spec, 5, rng);
                double previous = Double.NEGATIVE_INFINITY;
                for (int it = 0; it < 8; it++) {
                    try (EmStatistics stats = c.expectedStatistics(data)) {
                        assertThat(stats.images()).isEqualTo(b);
                        double ll = stats.logLikelihood();
                        assertThat(ll).as("%s log-likelihood at EM iteration %d", family, it)
                                .isGreaterThanOrEqualTo(previous - 1e-3 * Math.abs(previous));
                        assertThat(ll).isCloseTo(c.logLikelihood(data).sumAll().item(), within(1e-2));
                        previous = ll;
                        LayeredCircuit next = c.emStep(stats, 1, 0);
                        c.close();
                        c = next;
                    }
                }
                assertThat(previous).isGreaterThan(c.logLikelihood(data).sumAll().item() - 5);
                c.close();
            }
        }
    }

    private static void assertClose(Tensor a, Tensor b, double tolerance) {
        assertThat(a.shape()).isEqualTo(b.shape());
        double[] x = a.toDoubleArray();
        double[] y = b.toDoubleArray();
        for (int i = 0; i < x.length; i++) {
            assertThat(x[i]).as("element %d", i).isCloseTo(y[i], within(tolerance * (1 + Math.abs(y[i]))));
        }
    }

    private LayeredCircuit bernoulli(LayeredSpec spec, Random rng) {
        return build(spec, new BernoulliFamily(), Map.of("logit", normal(rng, spec.variables(), spec.leaves())), rng);
    }

    private LayeredCircuit categorical(LayeredSpec spec, int levels, Random rng) {
        return build(spec, new CategoricalFamily(levels),
                Map.of("logits", normal(rng, spec.variables(), spec.leaves(), levels)), rng);
    }

    private LayeredCircuit gaussian(LayeredSpec spec, Random rng) {
        Map<String, Tensor> p = new LinkedHashMap<>();
        p.put("mean", normal(rng, spec.variables(), spec.leaves()).mul(0.3).add(0.5));
        p.put("log_var", normal(rng, spec.variables(), spec.leaves()).sub(3));
        return build(spec, new GaussianFamily(), p, rng);
    }

    private Tensor normal(Random rng, long... shape) {
        int n = 1;
        for (long s : shape) {
            n *= (int) s;
        }
        float[] v = new float[n];
        for (int i = 0; i < n; i++) {
            v[i] = (float) rng.nextGaussian();
        }
        return backend.of(v, shape);
    }

    private LayeredCircuit build(LayeredSpec spec, LeafFamily family, Map<String, Tensor> leaves, Random rng) {
        List<Tensor> weights = new ArrayList<>(LayeredCircuit.randomWeights(spec, backend, new SplittableRandom(
                rng.nextLong())));
        return TensorScope.outside(() -> LayeredCircuit.create(spec, family, leaves, weights));
    }
}
