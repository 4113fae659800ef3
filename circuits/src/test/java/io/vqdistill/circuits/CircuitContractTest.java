package io.vqdistill.circuits;

import static io.vqdistill.api.TensorAssert.assertThatTensor;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import io.vqdistill.api.Backend;
import io.vqdistill.api.DType;
import io.vqdistill.api.FormatException;
import io.vqdistill.api.InvalidArgumentException;
import io.vqdistill.api.Tensor;
import io.vqdistill.api.TensorException;
import io.vqdistill.api.TensorScope;
import io.vqdistill.api.circuit.Circuit;
import io.vqdistill.api.circuit.LeafFamily;
import io.vqdistill.api.circuit.Precision;
import io.vqdistill.api.model.LatentShape;
import io.vqdistill.api.search.LatentSet;
import io.vqdistill.circuits.CircuitStructure.Kind;
import io.vqdistill.circuits.Fixtures.Discrete;
import io.vqdistill.circuits.Fixtures.Gaussian;
import io.vqdistill.circuits.bench.DecodedLeaves;
import io.vqdistill.circuits.io.CircuitFiles;
import io.vqdistill.circuits.leaf.CategoricalFamily;
import io.vqdistill.circuits.leaf.GaussianFamily;
import io.vqdistill.formats.SafeTensors;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.SplittableRandom;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The contract every backend honours for circuits: each query of {@link ShallowMixture},
 * {@link DagCircuit} and {@link io.vqdistill.circuits.layered.LayeredCircuit} against ground truth. Discrete circuits of several shapes are checked by
 * enumerating every joint state (likelihoods sum to 1, marginals are sums over completions,
 * conditionals follow Bayes' rule, the mode maximises the max-product value, sample frequencies pass
 * a chi-square test); Gaussian mixtures against the direct double-precision formula, with standard
 * deviations down to 1e-3; and the {@link Precision} contract at both precisions on
 * {@link DecodedLeaves decoded-looking leaves} (std at the clamp on most pixels, means near 0 and 1,
 * dequantised images, near duplicates too) against an independent float64 brute force: likelihoods,
 * bits per dimension, marginals, posteriors and the MPE. A backend's test module extends this class
 * and returns its backend from {@link #createBackend()}; this module runs it on the fake backend and
 * on a float32-GEMM variant.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
public abstract class CircuitContractTest {
    /** The backend under test. */
    protected Backend backend;
    private final List<Discrete> discrete = new ArrayList<>();

    /** Creates the backend under test; called once per test class. */
    protected abstract Backend createBackend();

    @BeforeAll
    void startBackend() {
        backend = createBackend();
        Random rng = new Random(20250101);
        discrete.add(Fixtures.mixture(backend, 3, 3, 4, rng));
        discrete.add(Fixtures.mixture(backend, 2, 4, 3, rng));
        discrete.add(Fixtures.mixtureAsDag(backend, 3, 3, 3, rng));
        discrete.add(Fixtures.deep(backend, 3, 4, 2, rng));
        discrete.add(Fixtures.deep(backend, 2, 5, 3, rng));
        discrete.add(Fixtures.productRoot(backend, 3, 4, rng));
        discrete.add(Fixtures.layered(backend, 3, 2, 2, new int[] {1}, 2, 3, rng));
        discrete.add(Fixtures.layered(backend, 3, 1, 4, new int[] {1}, 2, 2, rng));
        discrete.add(Fixtures.layered(backend, 2, 1, 5, new int[] {2, 3}, 3, 2, rng));
    }

    @AfterAll
    void stopBackend() throws Exception {
        discrete.forEach(d -> d.circuit().close());
        backend.close();
    }

    Stream<Discrete> discreteCircuits() {
        return discrete.stream();
    }

    /** |actual - expected| <= 1e-4 + 1e-5 |expected|, the float32 tolerance for these small circuits. */
    private static void assertClose(double actual, double expected, String what) {
        assertThat(actual).as(what).isCloseTo(expected, within(1e-4 + 1e-5 * Math.abs(expected)));
    }

    private Tensor matrix(double[][] rows, int variables) {
        return backend.of(Fixtures.flat(rows), rows.length, variables);
    }

    private Tensor mask(boolean[][] rows, int variables) {
        return backend.of(Fixtures.flat(rows), rows.length, variables);
    }

    // ---- discrete circuits against enumeration ------------------------------------------------

    @ParameterizedTest(name = "{0}")
    @MethodSource("discreteCircuits")
    void likelihoodsMatchEnumerationAndSumToOne(Discrete d) {
        int s = d.circuit().numVariables();
        double[][] states = Fixtures.states(s, d.values());
        try (Tensor x = matrix(states, s); Tensor ll = d.circuit().logLikelihood(x)) {
            assertThatTensor(ll).hasShape(states.length).hasDtype(DType.FLOAT32);
            double[] got = ll.toDoubleArray();
            double total = 0;
            for (int r = 0; r < states.length; r++) {
                assertClose(got[r], d.reference().logLikelihood(states[r]), "log p of state " + r);
                total += Math.exp(got[r]);
            }
            assertThat(total).as("sum of p over all states").isCloseTo(1, within(1e-4));
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("discreteCircuits")
    void marginalsEqualSumsOverCompletions(Discrete d) {
        int s = d.circuit().numVariables();
        double[][] states = Fixtures.states(s, d.values());
        int masks = 1 << s;
        double[][] xs = new double[masks * states.length][];
        boolean[][] ms = new boolean[xs.length][s];
        for (int m = 0; m < masks; m++) {
            for (int r = 0; r < states.length; r++) {
                xs[m * states.length + r] = states[r];
                for (int i = 0; i < s; i++) {
                    ms[m * states.length + r][i] = (m >> i & 1) == 1;
                }
            }
        }
        try (Tensor x = matrix(xs, s); Tensor o = mask(ms, s); Tensor ll = d.circuit().marginalLogLikelihood(x, o)) {
            double[] got = ll.toDoubleArray();
            for (int row = 0; row < xs.length; row++) {
                double brute = Double.NEGATIVE_INFINITY;
                for (double[] completion : states) {
                    if (agrees(completion, xs[row], ms[row])) {
                        brute = Numerics.logAddExp(brute, d.reference().logLikelihood(completion));
                    }
                }
                assertClose(got[row], brute, "marginal of row " + row + " with mask " + Arrays.toString(ms[row]));
            }
        }
    }

    private static boolean agrees(double[] state, double[] x, boolean[] observed) {
        for (int i = 0; i < x.length; i++) {
            if (observed[i] && state[i] != x[i]) {
                return false;
            }
        }
        return true;
    }

    /** Evidence rows: a few random masks with at least one unobserved variable, values from random states. */
    private static List<double[]> evidenceValues(Discrete d, Random rng, List<boolean[]> masks) {
        int s = d.circuit().numVariables();
        double[][] states = Fixtures.states(s, d.values());
        List<double[]> values = new ArrayList<>();
        for (int k = 0; k < 6; k++) {
            boolean[] m = new boolean[s];
            for (int i = 0; i < s; i++) {
                m[i] = rng.nextBoolean();
            }
            m[rng.nextInt(s)] = false;
            double[] x = states[rng.nextInt(states.length)].clone();
            for (int i = 0; i < s; i++) {
                if (!m[i]) {
                    x[i] = k % 2 == 0 ? Double.NaN : 0;
                }
            }
            masks.add(m);
            values.add(x);
        }
        return values;
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("discreteCircuits")
    void conditionalMeanAndVarianceFollowBayes(Discrete d) {
        int s = d.circuit().numVariables();
        List<boolean[]> masks = new ArrayList<>();
        List<double[]> values = evidenceValues(d, new Random(7), masks);
        double[][] states = Fixtures.states(s, d.values());
        try (Tensor x = matrix(values.toArray(new double[0][]), s);
             Tensor o = mask(masks.toArray(new boolean[0][]), s);
             Tensor mean = d.circuit().conditionalMean(x, o);
             Tensor var = d.circuit().conditionalVariance(x, o)) {
            assertThatTensor(mean).hasShape(values.size(), s);
            assertThatTensor(var).hasShape(values.size(), s);
            double[] gm = mean.toDoubleArray();
            double[] gv = var.toDoubleArray();
            for (int r = 0; r < values.size(); r++) {
                double[] m1 = new double[s];
                double[] m2 = new double[s];
                double z = 0;
                for (double[] st : states) {
                    if (agrees(st, values.get(r), masks.get(r))) {
                        double p = Math.exp(d.reference().logLikelihood(st));
                        z += p;
                        for (int i = 0; i < s; i++) {
                            m1[i] += p * st[i];
                            m2[i] += p * st[i] * st[i];
                        }
                    }
                }
                for (int i = 0; i < s; i++) {
                    double e = m1[i] / z;
                    double v = m2[i] / z - e * e;
                    if (masks.get(r)[i]) {
                        assertThat(gm[r * s + i]).as("observed mean").isEqualTo(values.get(r)[i]);
                        assertThat(gv[r * s + i]).as("observed variance").isZero();
                    } else {
                        assertClose(gm[r * s + i], e, "E[x_" + i + " | x_o] of row " + r);
                        assertClose(gv[r * s + i], v, "Var[x_" + i + " | x_o] of row " + r);
                    }
                }
            }
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("discreteCircuits")
    void componentPosteriorFollowsBayes(Discrete d) {
        int s = d.circuit().numVariables();
        List<boolean[]> masks = new ArrayList<>();
        List<double[]> values = evidenceValues(d, new Random(11), masks);
        CircuitStructure st = d.reference().structure();
        try (Tensor x = matrix(values.toArray(new double[0][]), s);
             Tensor o = mask(masks.toArray(new boolean[0][]), s);
             Tensor post = d.circuit().componentPosterior(x, o)) {
            int root = st.root();
            if (st.kind(root) != Kind.SUM) {
                assertThatTensor(post).hasShape(values.size(), 1).hasValues(new double[values.size()]);
                return;
            }
            checkChildPosterior(post, root, st, d, values, masks);
            if (d.circuit() instanceof DagCircuit dag) {
                for (int u = 0; u < root; u++) {
                    if (st.kind(u) == Kind.SUM) {
                        try (Tensor inner = dag.childPosterior(u, x, o)) {
                            checkChildPosterior(inner, u, st, d, values, masks);
                        }
                    }
                }
            }
        }
    }

    /** p(child c | unit, x_o) = w_c p_c(x_o) / p_unit(x_o) for every row. */
    private static void checkChildPosterior(Tensor post, int unit, CircuitStructure st, Discrete d,
                                            List<double[]> values, List<boolean[]> masks) {
        int[] children = st.children(unit);
        double[] w = st.logWeights(unit);
        assertThatTensor(post).hasShape(values.size(), children.length);
        double[] got = post.toDoubleArray();
        for (int r = 0; r < values.size(); r++) {
            double[] v = d.reference().values(values.get(r), masks.get(r), false);
            for (int c = 0; c < children.length; c++) {
                double expected = Math.exp(w[c] + v[children[c]] - v[unit]);
                assertThat(Math.exp(got[r * children.length + c]))
                        .as("posterior of child %d of unit %d, row %d", c, unit, r).isCloseTo(expected, within(1e-4));
            }
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("discreteCircuits")
    void modeMaximisesTheMaxProductValueExhaustively(Discrete d) {
        int s = d.circuit().numVariables();
        List<boolean[]> masks = new ArrayList<>();
        List<double[]> values = evidenceValues(d, new Random(13), masks);
        masks.add(new boolean[s]);
        values.add(new double[s]);
        double[][] states = Fixtures.states(s, d.values());
        try (Tensor x = matrix(values.toArray(new double[0][]), s);
             Tensor o = mask(masks.toArray(new boolean[0][]), s);
             Tensor mode = d.circuit().conditionalMode(x, o)) {
            double[] got = mode.toDoubleArray();
            for (int r = 0; r < values.size(); r++) {
                double[] completion = Arrays.copyOfRange(got, r * s, (r + 1) * s);
                for (int i = 0; i < s; i++) {
                    if (masks.get(r)[i]) {
                        assertThat(completion[i]).as("observed entry kept").isEqualTo(values.get(r)[i]);
                    }
                }
                double best = Double.NEGATIVE_INFINITY;
                double bestProbability = Double.NEGATIVE_INFINITY;
                for (double[] st : states) {
                    if (agrees(st, values.get(r), masks.get(r))) {
                        best = Math.max(best, d.reference().maxProduct(st));
                        bestProbability = Math.max(bestProbability, d.reference().logLikelihood(st));
                    }
                }
                assertClose(d.reference().maxProduct(completion), best, "max-product value of the mode of row " + r);
                assertThat(d.reference().logLikelihood(completion)).isLessThanOrEqualTo(bestProbability + 1e-9);
            }
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("discreteCircuits")
    void samplesMatchTheProbabilities(Discrete d) {
        int s = d.circuit().numVariables();
        double[][] states = Fixtures.states(s, d.values());
        int n = 20000;
        try (Tensor samples = d.circuit().sample(n, new SplittableRandom(3))) {
            assertThatTensor(samples).hasShape(n, s);
            long[] counts = new long[states.length];
            double[] v = samples.toDoubleArray();
            for (int r = 0; r < n; r++) {
                counts[index(v, r * s, s, d.values())]++;
            }
            double[] p = new double[states.length];
            for (int k = 0; k < states.length; k++) {
                p[k] = Math.exp(d.reference().logLikelihood(states[k]));
            }
            Stats.assertFits(counts, p, d.name() + " samples");
        }
    }

    private static int index(double[] v, int from, int s, int values) {
        int k = 0;
        for (int i = 0; i < s; i++) {
            k = k * values + (int) v[from + i];
        }
        return k;
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("discreteCircuits")
    void conditionalSamplesFollowBayes(Discrete d) {
        int s = d.circuit().numVariables();
        double[][] states = Fixtures.states(s, d.values());
        boolean[] m = new boolean[s];
        m[0] = true;
        m[s - 1] = true;
        double[] evidence = states[states.length / 3].clone();
        int n = 6000;
        double[][] xs = new double[n][];
        boolean[][] ms = new boolean[n][];
        Arrays.fill(xs, evidence);
        Arrays.fill(ms, m);
        try (Tensor x = matrix(xs, s); Tensor o = mask(ms, s);
             Tensor draws = d.circuit().conditionalSample(x, o, new SplittableRandom(5))) {
            double[] v = draws.toDoubleArray();
            long[] counts = new long[states.length];
            for (int r = 0; r < n; r++) {
                assertThat(v[r * s]).isEqualTo(evidence[0]);
                assertThat(v[r * s + s - 1]).isEqualTo(evidence[s - 1]);
                counts[index(v, r * s, s, d.values())]++;
            }
            double z = Math.exp(d.reference().marginal(evidence, m));
            double[] p = new double[states.length];
            for (int k = 0; k < states.length; k++) {
                p[k] = agrees(states[k], evidence, m) ? Math.exp(d.reference().logLikelihood(states[k])) / z : 0;
            }
            Stats.assertFits(counts, p, d.name() + " conditional samples");
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("discreteCircuits")
    void samplingIsReproducibleFromTheSeed(Discrete d) {
        try (Tensor a = d.circuit().sample(50, new SplittableRandom(9));
             Tensor b = d.circuit().sample(50, new SplittableRandom(9));
             Tensor c = d.circuit().sample(50, new SplittableRandom(10))) {
            assertThat(a.toFloatArray()).containsExactly(b.toFloatArray());
            assertThat(a.toFloatArray()).isNotEqualTo(c.toFloatArray());
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("discreteCircuits")
    void emptyBatchesGiveEmptyResults(Discrete d) {
        int s = d.circuit().numVariables();
        try (Tensor x = backend.zeros(DType.FLOAT32, 0, s); Tensor o = backend.zeros(DType.BOOL, 0, s);
             Tensor ll = d.circuit().logLikelihood(x); Tensor mean = d.circuit().conditionalMean(x, o);
             Tensor none = d.circuit().sample(0, new SplittableRandom(1))) {
            assertThatTensor(ll).hasShape(0);
            assertThatTensor(mean).hasShape(0, s);
            assertThatTensor(none).hasShape(0, s);
        }
    }

    // ---- Gaussian mixtures against the direct formula -----------------------------------------

    /** Rows drawn from the mixture's components (the hard case: data close to a mean), uniform rows and the means. */
    private static double[][] gaussianData(Gaussian g, int near, int uniform, Random rng) {
        List<double[]> rows = new ArrayList<>();
        for (int k = 0; k < near; k++) {
            rows.add(g.draw(rng.nextInt(g.components()), rng));
        }
        for (int k = 0; k < uniform; k++) {
            double[] x = new double[g.variables()];
            for (int i = 0; i < x.length; i++) {
                x[i] = (float) rng.nextDouble();
            }
            rows.add(x);
        }
        rows.add(g.mean()[0].clone());
        return rows.toArray(new double[0][]);
    }

    /** The accuracy required of a log-likelihood per image: 1e-2 + 1e-5 |log p| nats. */
    private static void assertLogLikelihood(double actual, double expected, String what) {
        assertThat(actual).as(what).isCloseTo(expected, within(1e-2 + 1e-5 * Math.abs(expected)));
    }

    private void checkGaussianLikelihood(Gaussian g, ShallowMixture m, double[][] data) {
        int s = g.variables();
        try (Tensor x = matrix(data, s); Tensor ll = m.logLikelihood(x)) {
            double[] got = ll.toDoubleArray();
            for (int r = 0; r < data.length; r++) {
                assertLogLikelihood(got[r], g.logLikelihood(data[r], null), "log p of row " + r);
            }
        }
    }

    @Test
    void gaussianLikelihoodMatchesTheDirectFormula() {
        Random rng = new Random(21);
        Gaussian g = Fixtures.gaussian(backend, 40, 12, 1e-3, 1, 0, rng);
        try (ShallowMixture m = g.mixture()) {
            checkGaussianLikelihood(g, m, gaussianData(g, 12, 4, rng));
        }
    }

    @Test
    void gaussianLikelihoodStaysAccurateWithStandardDeviation1e3() {
        Random rng = new Random(22);
        Gaussian g = Fixtures.gaussian(backend, 64, 10, 1e-3, 1e-3, 0, rng);
        try (ShallowMixture m = g.mixture()) {
            checkGaussianLikelihood(g, m, gaussianData(g, 12, 3, rng));
        }
    }

    @Test
    void gaussianMarginalsMatchTheDirectFormula() {
        Random rng = new Random(23);
        Gaussian g = Fixtures.gaussian(backend, 30, 9, 1e-3, 1, 0, rng);
        int s = g.variables();
        double[][] data = gaussianData(g, 10, 2, rng);
        boolean[][] masks = new boolean[data.length][s];
        for (int r = 0; r < data.length; r++) {
            for (int i = 0; i < s; i++) {
                masks[r][i] = r == 0 || r != 1 && rng.nextDouble() < 0.6;
                if (!masks[r][i]) {
                    data[r][i] = Double.NaN;
                }
            }
        }
        try (ShallowMixture m = g.mixture(); Tensor x = matrix(data, s); Tensor o = mask(masks, s);
             Tensor ll = m.marginalLogLikelihood(x, o)) {
            double[] got = ll.toDoubleArray();
            for (int r = 0; r < data.length; r++) {
                assertLogLikelihood(got[r], g.logLikelihood(data[r], masks[r]), "marginal of row " + r);
            }
            assertThat(got[1]).as("nothing observed").isCloseTo(0, within(1e-5));
        }
    }

    @Test
    void gaussianBlocksOfNearDuplicateComponentsAreScoredAccurately() {
        Random rng = new Random(24);
        Gaussian g = Fixtures.gaussian(backend, 3, 16390, 1e-3, 1e-3, 5, rng);
        int s = g.variables();
        double[][] data = new double[][] {g.draw(0, rng), g.draw(7, rng), g.draw(16389, rng), g.mean()[3].clone()};
        boolean[][] masks = new boolean[data.length][s];
        for (boolean[] m : masks) {
            Arrays.fill(m, true);
        }
        masks[1][2] = false;
        try (ShallowMixture m = g.mixture(); Tensor x = matrix(data, s); Tensor o = mask(masks, s);
             Tensor ll = m.logLikelihood(x); Tensor marginal = m.marginalLogLikelihood(x, o);
             Tensor post = m.componentPosterior(x, o); Tensor mode = m.conditionalMode(x, o)) {
            double[] got = ll.toDoubleArray();
            double[] gotMarginal = marginal.toDoubleArray();
            for (int r = 0; r < data.length; r++) {
                assertLogLikelihood(got[r], g.logLikelihood(data[r], null), "log p of row " + r);
                assertLogLikelihood(gotMarginal[r], g.logLikelihood(data[r], masks[r]), "marginal of row " + r);
            }
            double[] lp = post.toDoubleArray();
            for (int r = 0; r < data.length; r++) {
                double total = 0;
                double z = g.logLikelihood(data[r], masks[r]);
                for (int n = 0; n < g.components(); n++) {
                    double expected = Math.exp(g.componentScore(n, data[r], masks[r]) - z);
                    assertThat(Math.exp(lp[r * g.components() + n])).isCloseTo(expected, within(1e-4));
                    total += Math.exp(lp[r * g.components() + n]);
                }
                assertThat(total).isCloseTo(1, within(1e-4));
            }
            assertThat(mode.toDoubleArray()[s + 2]).isEqualTo(g.mean()[bestMpeComponent(g, data[1], masks[1])][2]);
        }
    }

    /** argmax_n log w_n + log p(x_o | n) + sum over unobserved i of the peak log-density of N(mu_ni, s_ni). */
    private static int bestMpeComponent(Gaussian g, double[] x, boolean[] observed) {
        int best = -1;
        double score = Double.NEGATIVE_INFINITY;
        for (int n = 0; n < g.components(); n++) {
            double v = g.componentScore(n, x, observed);
            for (int i = 0; i < x.length; i++) {
                if (!observed[i]) {
                    v += -0.5 * (Math.log(2 * Math.PI) + g.logVar()[n][i]);
                }
            }
            if (v > score) {
                score = v;
                best = n;
            }
        }
        return best;
    }

    @Test
    void gaussianConditionalsFollowBayes() {
        Random rng = new Random(25);
        Gaussian g = Fixtures.gaussian(backend, 12, 7, 0.05, 0.5, 0, rng);
        int s = g.variables();
        double[][] data = gaussianData(g, 6, 2, rng);
        boolean[][] masks = new boolean[data.length][s];
        for (int r = 0; r < data.length; r++) {
            for (int i = 0; i < s; i++) {
                masks[r][i] = rng.nextDouble() < 0.5;
            }
            masks[r][r % s] = false;
        }
        try (ShallowMixture m = g.mixture(); Tensor x = matrix(data, s); Tensor o = mask(masks, s);
             Tensor mean = m.conditionalMean(x, o); Tensor var = m.conditionalVariance(x, o);
             Tensor mode = m.conditionalMode(x, o); Tensor post = m.componentPosterior(x, o)) {
            double[] gm = mean.toDoubleArray();
            double[] gv = var.toDoubleArray();
            double[] gmode = mode.toDoubleArray();
            double[] gpost = post.toDoubleArray();
            for (int r = 0; r < data.length; r++) {
                double z = g.logLikelihood(data[r], masks[r]);
                double[] e = new double[s];
                double[] e2 = new double[s];
                for (int n = 0; n < g.components(); n++) {
                    double p = Math.exp(g.componentScore(n, data[r], masks[r]) - z);
                    assertThat(Math.exp(gpost[r * g.components() + n])).isCloseTo(p, within(1e-4));
                    for (int i = 0; i < s; i++) {
                        e[i] += p * g.mean()[n][i];
                        e2[i] += p * (Math.exp(g.logVar()[n][i]) + g.mean()[n][i] * g.mean()[n][i]);
                    }
                }
                int best = bestMpeComponent(g, data[r], masks[r]);
                for (int i = 0; i < s; i++) {
                    if (masks[r][i]) {
                        assertThat(gm[r * s + i]).isEqualTo((float) data[r][i]);
                        assertThat(gv[r * s + i]).isZero();
                        assertThat(gmode[r * s + i]).isEqualTo((float) data[r][i]);
                    } else {
                        assertClose(gm[r * s + i], e[i], "E[x_" + i + "] of row " + r);
                        assertClose(gv[r * s + i], e2[i] - e[i] * e[i], "Var[x_" + i + "] of row " + r);
                        assertThat(gmode[r * s + i]).isEqualTo((float) g.mean()[best][i]);
                    }
                }
            }
        }
    }

    @Test
    void gaussianSamplesHaveTheMixtureMoments() {
        Random rng = new Random(26);
        Gaussian g = Fixtures.gaussian(backend, 4, 3, 0.1, 0.3, 0, rng);
        int n = 4000;
        try (ShallowMixture m = g.mixture(); Tensor samples = m.sample(n, new SplittableRandom(27));
             Tensor x = backend.zeros(DType.FLOAT32, 1, 4); Tensor none = backend.zeros(DType.BOOL, 1, 4);
             Tensor mean = m.conditionalMean(x, none); Tensor var = m.conditionalVariance(x, none)) {
            double[] v = samples.toDoubleArray();
            double[] expectedMean = mean.toDoubleArray();
            double[] expectedVar = var.toDoubleArray();
            for (int i = 0; i < 4; i++) {
                double sum = 0;
                for (int r = 0; r < n; r++) {
                    sum += v[r * 4 + i];
                }
                assertThat(sum / n).as("sample mean of x_%d", i)
                        .isCloseTo(expectedMean[i], within(5 * Math.sqrt(expectedVar[i] / n)));
            }
        }
    }

    @Test
    void aMixtureAndItsDagGiveTheSameAnswers() {
        Random rng = new Random(28);
        Gaussian g = Fixtures.gaussian(backend, 5, 4, 0.05, 0.8, 0, rng);
        int s = g.variables();
        double[][] data = gaussianData(g, 5, 1, rng);
        boolean[][] masks = new boolean[data.length][s];
        for (int r = 0; r < data.length; r++) {
            for (int i = 0; i < s; i++) {
                masks[r][i] = (r + i) % 3 != 0;
            }
        }
        try (ShallowMixture m = g.mixture(); DagCircuit dag = m.toDag(); Tensor x = matrix(data, s);
             Tensor o = mask(masks, s)) {
            assertThat(dag.parameterCount()).isEqualTo(m.parameterCount());
            assertSame(m.logLikelihood(x), dag.logLikelihood(x), 1e-4);
            assertSame(m.marginalLogLikelihood(x, o), dag.marginalLogLikelihood(x, o), 1e-4);
            assertSame(m.componentPosterior(x, o), dag.componentPosterior(x, o), 1e-4);
            assertSame(m.conditionalMean(x, o), dag.conditionalMean(x, o), 1e-4);
            assertSame(m.conditionalVariance(x, o), dag.conditionalVariance(x, o), 1e-4);
            assertSame(m.conditionalMode(x, o), dag.conditionalMode(x, o), 0);
        }
    }

    private static void assertSame(Tensor a, Tensor b, double tolerance) {
        try (a; b) {
            assertThatTensor(a).isCloseTo(b.toDoubleArray(), tolerance);
        }
    }

    // ---- the precision contract on decoded-looking leaves ----------------------------------------

    /** Per image, FAST: within 1e-2 + 1e-5 |log p| of the float64 value (the {@link Precision} contract). */
    private static double fastTolerance(double exact) {
        return 1e-2 + 1e-5 * Math.abs(exact);
    }

    /** Per image, DOUBLE: within 1e-4 + 1e-6 |log p|, the float32 result's rounding included. */
    private static double doubleTolerance(double exact) {
        return 1e-4 + 1e-6 * Math.abs(exact);
    }

    /** Decoded-looking leaves with the data they are tested on, all held on the host in float64. */
    private record Decoded(DecodedLeaves leaves, double[][] mean, double[][] logVar, double[][] x, int near) {
        static Decoded of(boolean nearDuplicates, int components, int near, int far, long seed) {
            DecodedLeaves d = DecodedLeaves.generate(784, components, 6, nearDuplicates, seed);
            SplittableRandom rng = new SplittableRandom(seed + 1);
            DecodedLeaves other = DecodedLeaves.generate(784, 1, 1, false, seed + 2);
            int s = d.variables();
            double[][] x = new double[near + far][];
            for (int r = 0; r < x.length; r++) {
                float[] img = r < near ? d.image(rng.nextInt(components), rng) : other.image(0, rng);
                x[r] = new double[s];
                for (int i = 0; i < s; i++) {
                    x[r][i] = img[i];
                }
            }
            return new Decoded(d, rows(d.mean(), s), rows(d.logVar(), s), x, near);
        }

        private static double[][] rows(float[] flat, int s) {
            double[][] out = new double[flat.length / s][s];
            for (int k = 0; k < flat.length; k++) {
                out[k / s][k % s] = flat[k];
            }
            return out;
        }

        /**
         * log w + sum over observed i of log N(x_i; mu, s), term by term in float64, independent of
         * the kernels; with {@code peaks}, the unobserved pixels add the leaf's peak (the MPE score).
         */
        double score(int n, double[] row, boolean[] observed, boolean peaks) {
            double t = -Math.log(mean.length);
            for (int i = 0; i < row.length; i++) {
                double lv = logVar[n][i];
                if (observed == null || observed[i]) {
                    double d = row[i] - mean[n][i];
                    t += -0.5 * (Math.log(2 * Math.PI) + lv + d * d / Math.exp(lv));
                } else if (peaks) {
                    t += -0.5 * (Math.log(2 * Math.PI) + lv);
                }
            }
            return t;
        }

        double[] scores(double[] row, boolean[] observed) {
            double[] out = new double[mean.length];
            for (int n = 0; n < out.length; n++) {
                out[n] = score(n, row, observed, false);
            }
            return out;
        }

        /** log p(x_o) by brute force in float64. */
        double logLikelihood(int r, boolean[] observed) {
            return Numerics.logSumExp(scores(x[r], observed));
        }

        /** Bits per dimension of the first {@link #near()} rows from their log-likelihoods. */
        double bitsPerDim(double[] logLikelihoods) {
            double sum = 0;
            for (int r = 0; r < near; r++) {
                sum += logLikelihoods[r];
            }
            return -sum / near / (x[0].length * Math.log(2)) + 8;
        }
    }

    Stream<Boolean> nearDuplicates() {
        return Stream.of(false, true);
    }

    @ParameterizedTest(name = "near duplicates: {0}")
    @MethodSource("nearDuplicates")
    void decodedLeavesMeetThePrecisionContract(boolean nearDuplicates) {
        Decoded d = Decoded.of(nearDuplicates, 96, 24, 4, nearDuplicates ? 41 : 42);
        int s = d.leaves().variables();
        try (ShallowMixture m = d.leaves().mixture(backend); Tensor x = matrix(d.x(), s)) {
            assertThat(m.precision()).isEqualTo(Precision.FAST);
            double[] fast = m.logLikelihood(x).toDoubleArray();
            double[] precise = m.logLikelihood(x, Precision.DOUBLE).toDoubleArray();
            double[] exact = new double[d.x().length];
            for (int r = 0; r < exact.length; r++) {
                exact[r] = d.logLikelihood(r, null);
                assertThat(fast[r]).as("FAST log p of row %d", r).isCloseTo(exact[r], within(fastTolerance(exact[r])));
                assertThat(precise[r]).as("DOUBLE log p of row %d", r)
                        .isCloseTo(exact[r], within(doubleTolerance(exact[r])));
            }
            assertThat(exact[0]).as("the data fit the leaves: positive log-densities").isPositive();
            assertThat(exact[d.near()]).as("an image of other strokes fits none").isLessThan(-1e4);
            assertThat(d.bitsPerDim(fast)).isCloseTo(d.bitsPerDim(exact), within(1e-4));
            assertThat(d.bitsPerDim(precise)).isCloseTo(d.bitsPerDim(exact), within(1e-6));
        }
    }

    @ParameterizedTest(name = "near duplicates: {0}")
    @MethodSource("nearDuplicates")
    void decodedLeavesMeetThePrecisionContractWithMasks(boolean nearDuplicates) {
        Decoded d = Decoded.of(nearDuplicates, 64, 12, 2, nearDuplicates ? 43 : 44);
        int s = d.leaves().variables();
        int b = d.x().length;
        Random rng = new Random(45);
        boolean[][] masks = new boolean[b][s];
        double[][] values = new double[b][];
        for (int r = 0; r < b; r++) {
            values[r] = d.x()[r].clone();
            for (int i = 0; i < s; i++) {
                masks[r][i] = r % 2 == 0 ? i < s / 2 : rng.nextDouble() < 0.7;
                if (!masks[r][i]) {
                    values[r][i] = r % 3 == 0 ? Double.NaN : 0.5;
                }
            }
        }
        try (ShallowMixture m = d.leaves().mixture(backend); Tensor x = matrix(values, s); Tensor o = mask(masks, s)) {
            for (Precision precision : Precision.values()) {
                m.setPrecision(precision);
                double[] marginal = m.marginalLogLikelihood(x, o).toDoubleArray();
                double[] posterior = m.componentPosterior(x, o).toDoubleArray();
                double[] mode = m.conditionalMode(x, o).toDoubleArray();
                int n = m.components();
                for (int r = 0; r < b; r++) {
                    double exact = d.logLikelihood(r, masks[r]);
                    double tolerance = precision == Precision.FAST ? fastTolerance(exact) : doubleTolerance(exact);
                    assertThat(marginal[r]).as("%s marginal of row %d", precision, r).isCloseTo(exact, within(tolerance));
                    double[] scores = d.scores(d.x()[r], masks[r]);
                    double distance = 0;
                    for (int c = 0; c < n; c++) {
                        distance += Math.abs(Math.exp(posterior[r * n + c]) - Math.exp(scores[c] - exact));
                    }
                    assertThat(distance / 2).as("%s posterior of row %d, total variation", precision, r)
                            .isLessThanOrEqualTo(precision == Precision.FAST ? 2e-2 : 1e-4);
                    double best = Double.NEGATIVE_INFINITY;
                    double achieved = Double.NEGATIVE_INFINITY;
                    for (int c = 0; c < n; c++) {
                        double v = d.score(c, d.x()[r], masks[r], true);
                        best = Math.max(best, v);
                        if (completes(d.mean()[c], mode, r * s, masks[r])) {
                            achieved = Math.max(achieved, v);
                        }
                    }
                    assertThat(achieved).as("%s MPE value of row %d", precision, r)
                            .isGreaterThanOrEqualTo(best - 2 * (precision == Precision.FAST ? fastTolerance(best)
                                    : doubleTolerance(best)));
                }
            }
        }
    }

    /** Whether the completion at {@code from} holds component mean {@code mean} at every unobserved pixel. */
    private static boolean completes(double[] mean, double[] completion, int from, boolean[] observed) {
        for (int i = 0; i < mean.length; i++) {
            if (!observed[i] && (float) mean[i] != (float) completion[from + i]) {
                return false;
            }
        }
        return true;
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("discreteCircuits")
    void discreteMixturesGiveTheSameLikelihoodsAtBothPrecisions(Discrete d) {
        if (!(d.circuit() instanceof ShallowMixture m)) {
            return;
        }
        int s = m.numVariables();
        double[][] states = Fixtures.states(s, d.values());
        boolean[][] masks = new boolean[states.length][s];
        for (int r = 0; r < states.length; r++) {
            for (int i = 0; i < s; i++) {
                masks[r][i] = (r + i) % 3 != 0;
            }
        }
        try (Tensor x = matrix(states, s); Tensor o = mask(masks, s)) {
            assertSame(m.logLikelihood(x, Precision.DOUBLE), m.logLikelihood(x), 1e-5);
            assertSame(m.marginalLogLikelihood(x, o, Precision.DOUBLE), m.marginalLogLikelihood(x, o), 1e-5);
            m.setPrecision(Precision.DOUBLE);
            try {
                assertThat(m.precision()).isEqualTo(Precision.DOUBLE);
                double[] got = m.marginalLogLikelihood(x, o).toDoubleArray();
                for (int r = 0; r < states.length; r++) {
                    double brute = Double.NEGATIVE_INFINITY;
                    for (double[] completion : states) {
                        if (agrees(completion, states[r], masks[r])) {
                            brute = Numerics.logAddExp(brute, d.reference().logLikelihood(completion));
                        }
                    }
                    assertClose(got[r], brute, "DOUBLE marginal of row " + r);
                }
            } finally {
                m.setPrecision(Precision.FAST);
            }
        }
    }

    @Test
    void categoricalScoresAreGatheredInChunksLikeTheDirectSum() {
        Random rng = new Random(46);
        int n = 512;
        int s = 64;
        int v = 16;
        int b = 600;
        float[] logits = new float[n * s * v];
        for (int k = 0; k < logits.length; k++) {
            logits[k] = (float) (k % v == 0 ? 4 + rng.nextGaussian() : rng.nextGaussian());
        }
        double[] w = Fixtures.logWeights(n, rng);
        double[][] data = new double[b][s];
        boolean[][] masks = new boolean[b][s];
        for (int r = 0; r < b; r++) {
            for (int i = 0; i < s; i++) {
                data[r][i] = rng.nextInt(5) == 0 ? rng.nextInt(v) : 0;
                masks[r][i] = r % 2 == 0 || rng.nextInt(4) > 0;
            }
        }
        double[][] logProbs = new double[n * s][v];
        for (int l = 0; l < n * s; l++) {
            for (int c = 0; c < v; c++) {
                logProbs[l][c] = logits[l * v + c];
            }
            double lse = Numerics.logSumExp(logProbs[l]);
            for (int c = 0; c < v; c++) {
                logProbs[l][c] -= lse;
            }
        }
        ShallowMixture m;
        try (Tensor t = backend.of(logits, n, s, v)) {
            m = ShallowMixture.builder(new CategoricalFamily(v)).parameters(Map.of("logits", t)).logWeights(w).build();
        }
        try (m; Tensor x = matrix(data, s); Tensor o = mask(masks, s)) {
            double[] got = m.marginalLogLikelihood(x, o).toDoubleArray();
            double[] scores = new double[n];
            for (int r = 0; r < b; r++) {
                for (int c = 0; c < n; c++) {
                    double t = w[c];
                    for (int i = 0; i < s; i++) {
                        t += masks[r][i] ? logProbs[c * s + i][(int) data[r][i]] : 0;
                    }
                    scores[c] = t;
                }
                double exact = Numerics.logSumExp(scores);
                assertThat(got[r]).as("row %d", r).isCloseTo(exact, within(1e-4 + 1e-6 * Math.abs(exact)));
            }
        }
    }

    @Test
    void categoricalMnistSizedLeavesMeetThePrecisionContract() {
        Random rng = new Random(47);
        int n = 24;
        int s = 784;
        int v = 256;
        int b = 12;
        // decoded-looking: most pixels sure of the background level 0, stroke pixels peaked near 255
        float[] logits = new float[n * s * v];
        for (int leaf = 0; leaf < n * s; leaf++) {
            boolean stroke = (leaf % s) % 7 < 2;
            int peak = stroke ? 255 - rng.nextInt(8) : 0;
            for (int c = 0; c < v; c++) {
                logits[leaf * v + c] = (float) (0.5 * rng.nextGaussian() - 0.05 * Math.abs(c - peak)
                        + (c == peak ? 9 : 0));
            }
        }
        double[][] logProbs = new double[n * s][v];
        for (int l = 0; l < n * s; l++) {
            for (int c = 0; c < v; c++) {
                logProbs[l][c] = logits[l * v + c];
            }
            double lse = Numerics.logSumExp(logProbs[l]);
            for (int c = 0; c < v; c++) {
                logProbs[l][c] -= lse;
            }
        }
        double[][] data = new double[b][s];
        for (int r = 0; r < b; r++) {
            int j = rng.nextInt(n);
            for (int i = 0; i < s; i++) {
                int peak = 0;
                for (int c = 1; c < v; c++) {
                    peak = logProbs[j * s + i][c] > logProbs[j * s + i][peak] ? c : peak;
                }
                data[r][i] = rng.nextInt(10) == 0 ? rng.nextInt(v) : peak;
            }
        }
        ShallowMixture m;
        try (Tensor t = backend.of(logits, n, s, v)) {
            m = ShallowMixture.builder(new CategoricalFamily(v)).parameters(Map.of("logits", t)).build();
        }
        try (m; Tensor x = matrix(data, s)) {
            double[] scores = new double[n];
            double[] exact = new double[b];
            for (int r = 0; r < b; r++) {
                for (int c = 0; c < n; c++) {
                    double t = -Math.log(n);
                    for (int i = 0; i < s; i++) {
                        t += logProbs[c * s + i][(int) data[r][i]];
                    }
                    scores[c] = t;
                }
                exact[r] = Numerics.logSumExp(scores);
            }
            assertThat(exact[0]).as("log p of the size MNIST images get").isLessThan(-300);
            for (Precision precision : Precision.values()) {
                double[] got = m.logLikelihood(x, precision).toDoubleArray();
                for (int r = 0; r < b; r++) {
                    double tolerance = precision == Precision.FAST ? fastTolerance(exact[r])
                            : doubleTolerance(exact[r]);
                    assertThat(got[r]).as("%s log p of row %d", precision, r).isCloseTo(exact[r], within(tolerance));
                }
            }
        }
    }

    // ---- the third-party leaf -----------------------------------------------------------------

    @Test
    void aLeafFamilyFromAnotherJarWorksWithEveryQuery(@TempDir Path dir) throws IOException {
        LeafFamily laplace = LeafFamilies.create("laplace");
        assertThat(LeafFamilies.names()).contains("laplace", "gaussian", "categorical", "bernoulli");
        Random rng = new Random(29);
        int s = 5;
        int n = 4;
        float[] loc = new float[n * s];
        float[] logScale = new float[n * s];
        for (int k = 0; k < loc.length; k++) {
            loc[k] = (float) rng.nextGaussian();
            logScale[k] = (float) (-1 + 0.5 * rng.nextGaussian());
        }
        double[] w = Fixtures.logWeights(n, rng);
        double[][] data = new double[6][s];
        boolean[][] masks = new boolean[6][s];
        for (int r = 0; r < 6; r++) {
            for (int i = 0; i < s; i++) {
                data[r][i] = (float) (loc[(r % n) * s + i] + 0.3 * rng.nextGaussian());
                masks[r][i] = (r + 2 * i) % 3 != 0;
            }
        }
        try (TensorScope scope = TensorScope.open()) {
            Tensor locT = backend.of(loc, n, s);
            Tensor scaleT = backend.of(logScale, n, s);
            Tensor x = matrix(data, s);
            Tensor o = mask(masks, s);
            try (ShallowMixture m = ShallowMixture.builder(laplace)
                    .parameters(Map.of("loc", locT, "log_scale", scaleT)).logWeights(w).build();
                 DagCircuit dag = m.toDag()) {
                double[] ll = m.logLikelihood(x).toDoubleArray();
                double[] marginal = m.marginalLogLikelihood(x, o).toDoubleArray();
                double[] mean = m.conditionalMean(x, o).toDoubleArray();
                double[] mode = m.conditionalMode(x, o).toDoubleArray();
                for (int r = 0; r < 6; r++) {
                    double[] all = new double[n];
                    double[] seen = new double[n];
                    double[] peak = new double[n];
                    for (int c = 0; c < n; c++) {
                        all[c] = w[c];
                        seen[c] = w[c];
                        peak[c] = w[c];
                        for (int i = 0; i < s; i++) {
                            double b = Math.exp(logScale[c * s + i]);
                            double l = -Math.abs(data[r][i] - loc[c * s + i]) / b - Math.log(2 * b);
                            all[c] += l;
                            seen[c] += masks[r][i] ? l : 0;
                            peak[c] += masks[r][i] ? l : -Math.log(2 * b);
                        }
                    }
                    assertClose(ll[r], Numerics.logSumExp(all, 0, n), "laplace log p of row " + r);
                    double z = Numerics.logSumExp(seen, 0, n);
                    assertClose(marginal[r], z, "laplace marginal of row " + r);
                    int best = 0;
                    for (int c = 1; c < n; c++) {
                        best = peak[c] > peak[best] ? c : best;
                    }
                    for (int i = 0; i < s; i++) {
                        double e = 0;
                        for (int c = 0; c < n; c++) {
                            e += Math.exp(seen[c] - z) * loc[c * s + i];
                        }
                        double expectedMode = masks[r][i] ? (float) data[r][i] : loc[best * s + i];
                        assertClose(mean[r * s + i], masks[r][i] ? (float) data[r][i] : e, "laplace mean");
                        assertThat(mode[r * s + i]).isEqualTo(expectedMode);
                    }
                }
                assertThatTensor(dag.logLikelihood(x)).isCloseTo(ll, 1e-4);
                double[] post = m.componentPosterior(x, o).toDoubleArray();
                assertThatTensor(dag.componentPosterior(x, o)).isCloseTo(post, 1e-4);
                for (int r = 0; r < 6; r++) {
                    double total = 0;
                    for (int c = 0; c < n; c++) {
                        total += Math.exp(post[r * n + c]);
                    }
                    assertThat(total).isCloseTo(1, within(1e-5));
                }
                CircuitFiles.write(dir.resolve("mixture"), m, Map.of());
                CircuitFiles.write(dir.resolve("dag"), dag, Map.of());
                try (Circuit backM = CircuitFiles.read(dir.resolve("mixture"), backend);
                     Circuit backD = CircuitFiles.read(dir.resolve("dag"), backend)) {
                    assertThat(backM.leafFamily().name()).isEqualTo("laplace");
                    assertSameAnswers(m, backM, x, o);
                    assertSameAnswers(dag, backD, x, o);
                }
                // the plug-in rejects options with the JDK's exception; the reader still names file and field
                Path json = dir.resolve("mixture").resolve(CircuitFiles.JSON);
                String text = Files.readString(json);
                assertThat(text).contains("\"options\" : { }");
                Files.writeString(json, text.replace("\"options\" : { }", "\"options\" : { \"scale\" : \"2\" }"));
                assertThatThrownBy(() -> CircuitFiles.read(dir.resolve("mixture"), backend))
                        .isInstanceOf(FormatException.class).hasMessageContaining(json.toString())
                        .hasMessageContaining("leaf: laplace leaves take no options, found [scale]");
                assertThatTensor(dag.conditionalMean(x, o)).isCloseTo(mean, 1e-4);
                assertThatTensor(m.conditionalVariance(x, o)).isCloseTo(dag.conditionalVariance(x, o).toDoubleArray(),
                        1e-4);
                double[] draws = m.conditionalSample(x, o, new SplittableRandom(2)).toDoubleArray();
                double[] dagDraws = dag.conditionalSample(x, o, new SplittableRandom(2)).toDoubleArray();
                for (int r = 0; r < 6; r++) {
                    for (int i = 0; i < s; i++) {
                        if (masks[r][i]) {
                            assertThat(draws[r * s + i]).isEqualTo((float) data[r][i]);
                            assertThat(dagDraws[r * s + i]).isEqualTo((float) data[r][i]);
                        } else {
                            assertThat(draws[r * s + i]).isFinite();
                        }
                    }
                }
                Tensor samples = m.sample(3000, new SplittableRandom(4));
                double[] v = samples.toDoubleArray();
                double[] unconditional = m.conditionalMean(backend.zeros(DType.FLOAT32, 1, s),
                        backend.zeros(DType.BOOL, 1, s)).toDoubleArray();
                double[] spread = m.conditionalVariance(backend.zeros(DType.FLOAT32, 1, s),
                        backend.zeros(DType.BOOL, 1, s)).toDoubleArray();
                for (int i = 0; i < s; i++) {
                    double sum = 0;
                    for (int r = 0; r < 3000; r++) {
                        sum += v[r * s + i];
                    }
                    assertThat(sum / 3000).isCloseTo(unconditional[i], within(5 * Math.sqrt(spread[i] / 3000)));
                }
            }
        }
    }

    // ---- files --------------------------------------------------------------------------------

    /**
     * A circuit read back answers like the one written; parameters are prepared again on reading (a
     * categorical log-softmax of stored log-probabilities), which may move the last bit.
     */
    private static void assertSameAnswers(Circuit a, Circuit b, Tensor x, Tensor o) {
        assertThat(b.numVariables()).isEqualTo(a.numVariables());
        assertThat(b.parameterCount()).isEqualTo(a.parameterCount());
        assertThat(b.leafFamily().options()).isEqualTo(a.leafFamily().options());
        assertSame(a.logLikelihood(x), b.logLikelihood(x), 1e-6);
        assertSame(a.marginalLogLikelihood(x, o), b.marginalLogLikelihood(x, o), 1e-6);
        assertSame(a.conditionalSample(x, o, new SplittableRandom(1)), b.conditionalSample(x, o, new SplittableRandom(1)),
                1e-6);
    }

    @Test
    void mixturesRoundTripThroughFiles(@TempDir Path dir) {
        Random rng = new Random(31);
        Gaussian g = Fixtures.gaussian(backend, 4, 3, 1e-3, 1, 0, rng);
        LatentSet latents = new LatentSet(new LatentShape(1, 2, 5), new int[] {0, 1, 4, 4, 2, 3}, new int[] {7, -1, 2},
                new double[] {-1.5, Double.NaN, -0.25});
        double[][] data = gaussianData(g, 3, 1, rng);
        boolean[][] masks = new boolean[data.length][4];
        masks[0][1] = true;
        masks[2][3] = true;
        try (TensorScope scope = TensorScope.open(); ShallowMixture plain = g.mixture();
             ShallowMixture m = ShallowMixture.builder(plain.leafFamily()).parameters(plain.parameters())
                     .logWeights(plain.logWeights()).latents(latents).build()) {
            CircuitFiles.write(dir, m, Map.of("seed", "31", "note", "contract test"));
            try (ShallowMixture back = (ShallowMixture) CircuitFiles.read(dir, backend)) {
                assertSameAnswers(m, back, matrix(data, 4), mask(masks, 4));
                assertThat(back.logWeights()).containsExactly(floats(m.logWeights()));
                LatentSet l = back.latents().orElseThrow();
                assertThat(l.shape()).isEqualTo(latents.shape());
                assertThat(l.codes()).containsExactly(latents.codes());
                assertThat(l.classes()).containsExactly(latents.classes());
                assertThat(l.logProbs()).containsExactly(latents.logProbs());
            }
            Map<String, String> provenance = CircuitFiles.provenance(dir);
            assertThat(provenance).containsEntry("seed", "31").containsKeys("created", "java", "os", "backend");
            try (Stream<Path> listing = Files.list(dir)) {
                assertThat(listing.map(p -> p.getFileName().toString()))
                        .containsExactlyInAnyOrder(CircuitFiles.JSON, CircuitFiles.TENSORS);
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        for (Discrete d : discrete) {
            Path sub = dir.resolve(d.name().replaceAll("[^A-Za-z0-9]+", "_"));
            CircuitFiles.write(sub, d.circuit(), Map.of());
            int s = d.circuit().numVariables();
            double[][] states = Fixtures.states(s, d.values());
            boolean[][] half = new boolean[states.length][s];
            for (int r = 0; r < states.length; r++) {
                half[r][r % s] = true;
            }
            try (TensorScope scope = TensorScope.open(); Circuit back = CircuitFiles.read(sub, backend)) {
                assertThat(back.getClass()).isEqualTo(d.circuit().getClass());
                assertSameAnswers(d.circuit(), back, matrix(states, s), mask(half, s));
            }
        }
    }

    private static double[] floats(double[] v) {
        double[] out = new double[v.length];
        for (int i = 0; i < v.length; i++) {
            out[i] = (float) v[i];
        }
        return out;
    }

    @Test
    void damagedFilesAreErrorsNamingFileAndField(@TempDir Path dir) throws IOException {
        Discrete deep = discrete.get(3);
        Path good = dir.resolve("good");
        CircuitFiles.write(good, deep.circuit(), Map.of());
        Path json = good.resolve(CircuitFiles.JSON);
        Path tensors = good.resolve(CircuitFiles.TENSORS);
        String text = Files.readString(json);
        byte[] bytes = Files.readAllBytes(tensors);

        Path truncated = copy(good, dir.resolve("truncated"));
        Files.write(truncated.resolve(CircuitFiles.TENSORS), Arrays.copyOf(bytes, bytes.length - 10));
        assertThatThrownBy(() -> CircuitFiles.read(truncated, backend)).isInstanceOf(FormatException.class)
                .hasMessageContaining(CircuitFiles.TENSORS).hasMessageContaining("truncated");

        Path flipped = copy(good, dir.resolve("flipped"));
        byte[] changed = bytes.clone();
        changed[changed.length - 3] ^= 0x10;
        Files.write(flipped.resolve(CircuitFiles.TENSORS), changed);
        assertThatThrownBy(() -> CircuitFiles.read(flipped, backend)).isInstanceOf(FormatException.class)
                .hasMessageContaining(CircuitFiles.TENSORS).hasMessageContaining("tensors_sha256");

        Path broken = copy(good, dir.resolve("broken"));
        Files.writeString(broken.resolve(CircuitFiles.JSON), text.substring(0, text.length() / 2));
        assertThatThrownBy(() -> CircuitFiles.read(broken, backend)).isInstanceOf(FormatException.class)
                .hasMessageContaining(CircuitFiles.JSON).hasMessageContaining("JSON");

        Path missingField = copy(good, dir.resolve("missing"));
        Files.writeString(missingField.resolve(CircuitFiles.JSON), text.replace("\"units\"", "\"unit_count\""));
        assertThatThrownBy(() -> CircuitFiles.read(missingField, backend)).isInstanceOf(FormatException.class)
                .hasMessageContaining(CircuitFiles.JSON)
                .hasMessageContaining("units: expected an integer, found nothing");

        Path inconsistent = copy(good, dir.resolve("inconsistent"));
        int inputs = deep.reference().structure().numInputs();
        Files.writeString(inconsistent.resolve(CircuitFiles.JSON),
                text.replace("\"inputs\" : " + inputs, "\"inputs\" : " + (inputs + 1)));
        assertThatThrownBy(() -> CircuitFiles.read(inconsistent, backend)).isInstanceOf(FormatException.class)
                .hasMessageContaining("inputs");

        Path unknown = copy(good, dir.resolve("unknown"));
        Files.writeString(unknown.resolve(CircuitFiles.JSON), text.replace("\"categorical\"", "\"beta\""));
        assertThatThrownBy(() -> CircuitFiles.read(unknown, backend)).isInstanceOf(FormatException.class)
                .hasMessageContaining("leaf").hasMessageContaining("beta").hasMessageContaining("gaussian");

        Path newer = copy(good, dir.resolve("newer"));
        Files.writeString(newer.resolve(CircuitFiles.JSON), text.replace("\"format_version\" : 1",
                "\"format_version\" : 99"));
        assertThatThrownBy(() -> CircuitFiles.read(newer, backend)).isInstanceOf(FormatException.class)
                .hasMessageContaining("format_version").hasMessageContaining("99");

        assertThatThrownBy(() -> CircuitFiles.read(dir.resolve("absent"), backend)).isInstanceOf(FormatException.class)
                .hasMessageContaining("not found");
    }

    @Test
    void storedValuesThatBreakTheRulesAreErrorsNamingTheField(@TempDir Path dir) {
        CircuitBuilder b = new CircuitBuilder(2);
        int x0 = b.input(0);
        int x1 = b.input(1);
        b.product(x0, x1);
        CircuitStructure s = b.build();
        try (TensorScope scope = TensorScope.open();
             DagCircuit dag = DagCircuit.create(s, new GaussianFamily(),
                     Map.of("mean", backend.zeros(DType.FLOAT32, 2), "log_var", backend.zeros(DType.FLOAT32, 2)))) {
            CircuitFiles.write(dir, dag, Map.of());
            SafeTensors st = SafeTensors.read(dir.resolve(CircuitFiles.TENSORS));
            List<SafeTensors.Entry> entries = new ArrayList<>();
            for (String name : st.names()) {
                SafeTensors.Entry e = st.get(name);
                entries.add(switch (name) {
                    case "children" -> SafeTensors.Entry.of(name, new int[] {0, 0}, 2);
                    case "mean" -> SafeTensors.Entry.of(name, new float[] {0, Float.NaN}, 2);
                    default -> e;
                });
            }
            Path nan = dir.resolve("nan");
            rewrite(dir, nan, entries.stream().map(e -> e.name().equals("children") ? st.get("children") : e).toList());
            assertThatThrownBy(() -> CircuitFiles.read(nan, backend)).isInstanceOf(FormatException.class)
                    .hasMessageContaining(CircuitFiles.TENSORS).hasMessageContaining("'mean'")
                    .hasMessageContaining("NaN");
            Path shared = dir.resolve("shared");
            rewrite(dir, shared, entries.stream().map(e -> e.name().equals("mean") ? st.get("mean") : e).toList());
            assertThatThrownBy(() -> CircuitFiles.read(shared, backend)).isInstanceOf(FormatException.class)
                    .hasMessageContaining("structure").hasMessageContaining("not decomposable");
        }
    }

    /** Writes {@code entries} as a new tensor file next to a copy of dir's json with the matching hash. */
    private static void rewrite(Path dir, Path target, List<SafeTensors.Entry> entries) {
        try {
            Files.createDirectories(target);
            SafeTensors.write(target.resolve(CircuitFiles.TENSORS), entries, Map.of());
            String hash = HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256")
                    .digest(Files.readAllBytes(target.resolve(CircuitFiles.TENSORS))));
            String json = Files.readString(dir.resolve(CircuitFiles.JSON))
                    .replaceAll("\"tensors_sha256\" : \"[0-9a-f]+\"", "\"tensors_sha256\" : \"" + hash + "\"");
            Files.writeString(target.resolve(CircuitFiles.JSON), json);
        } catch (IOException | NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    private static Path copy(Path from, Path to) throws IOException {
        Files.createDirectories(to);
        for (String f : List.of(CircuitFiles.JSON, CircuitFiles.TENSORS)) {
            Files.copy(from.resolve(f), to.resolve(f));
        }
        return to;
    }

    // ---- bad input ----------------------------------------------------------------------------

    @Test
    void badEvidenceIsRejectedNamingTheValue() {
        Random rng = new Random(30);
        Gaussian g = Fixtures.gaussian(backend, 3, 2, 0.1, 1, 0, rng);
        try (ShallowMixture m = g.mixture(); TensorScope scope = TensorScope.open()) {
            assertThatThrownBy(() -> m.logLikelihood(backend.zeros(DType.FLOAT32, 2, 4)))
                    .isInstanceOf(InvalidArgumentException.class).hasMessageContaining("[B, 3]")
                    .hasMessageContaining("[2, 4]");
            assertThatThrownBy(() -> m.logLikelihood(backend.zeros(DType.FLOAT64, 2, 3)))
                    .hasMessageContaining("float64");
            Tensor x = backend.of(new float[] {0, 1, Float.NaN, 0, 0, 0}, 2, 3);
            assertThatThrownBy(() -> m.logLikelihood(x)).isInstanceOf(InvalidArgumentException.class)
                    .hasMessageContaining("NaN").hasMessageContaining("[0, 2]");
            Tensor hidden = backend.of(new boolean[] {true, true, false, true, true, true}, 2, 3);
            assertThatTensor(m.marginalLogLikelihood(x, hidden)).hasShape(2);
            assertThatThrownBy(() -> m.marginalLogLikelihood(x, backend.zeros(DType.BOOL, 3, 3)))
                    .hasMessageContaining("observed");
        }
        Discrete cat = discrete.get(0);
        try (TensorScope scope = TensorScope.open()) {
            Tensor x = backend.of(new float[] {0, 1, 3}, 1, 3);
            assertThatThrownBy(() -> cat.circuit().logLikelihood(x)).isInstanceOf(InvalidArgumentException.class)
                    .hasMessageContaining("3.0").hasMessageContaining("[0, 2]").hasMessageContaining("categorical");
            Tensor half = backend.of(new float[] {0, 1.5f, 2}, 1, 3);
            assertThatThrownBy(() -> cat.circuit().logLikelihood(half)).hasMessageContaining("1.5");
        }
    }

    @Test
    void badParametersAreRejectedNamingTheParameter() {
        LeafFamily gaussian = LeafFamilies.create("gaussian");
        try (TensorScope scope = TensorScope.open()) {
            Tensor mean = backend.of(new float[] {0, 1, 2, Float.POSITIVE_INFINITY}, 2, 2);
            Tensor logVar = backend.zeros(DType.FLOAT32, 2, 2);
            assertThatThrownBy(() -> ShallowMixture.builder(gaussian)
                    .parameters(Map.of("mean", mean, "log_var", logVar)).build())
                    .isInstanceOf(InvalidArgumentException.class).hasMessageContaining("'mean'")
                    .hasMessageContaining("Infinity").hasMessageContaining("[1, 1]");
            Tensor good = backend.zeros(DType.FLOAT32, 2, 2);
            assertThatThrownBy(() -> ShallowMixture.builder(gaussian)
                    .parameters(Map.of("mean", good, "log_var", backend.zeros(DType.FLOAT32, 2, 3))).build())
                    .hasMessageContaining("'log_var'").hasMessageContaining("[2, 3]");
            assertThatThrownBy(() -> ShallowMixture.builder(gaussian).parameters(Map.of("mean", good)).build())
                    .hasMessageContaining("log_var");
            assertThatThrownBy(() -> ShallowMixture.builder(gaussian)
                    .parameters(Map.of("mean", good, "log_var", logVar)).logWeights(new double[] {0, 0})
                    .build()).hasMessageContaining("logsumexp");
            try (ShallowMixture m = ShallowMixture.builder(gaussian)
                    .parameters(Map.of("mean", good, "log_var", logVar)).logWeights(new double[] {0, 0})
                    .normaliseWeights().build()) {
                assertThat(m.logWeights()).containsExactly(-Math.log(2), -Math.log(2));
                m.close();
                assertThatThrownBy(() -> m.logLikelihood(good)).isInstanceOf(TensorException.class)
                        .hasMessageContaining("closed");
            }
            assertThatThrownBy(() -> ShallowMixture.builder(gaussian)
                    .parameters(Map.of("mean", good, "log_var", logVar))
                    .logWeights(new double[] {0, Double.NaN}).build()).hasMessageContaining("NaN");
        }
    }

    // ---- EM refinement and class posteriors ---------------------------------------------------

    /** Responsibilities p(n | x_b) of the Gaussian fixture in float64, [B][N]. */
    private static double[][] responsibilities(Gaussian g, double[][] data) {
        double[][] r = new double[data.length][g.components()];
        for (int b = 0; b < data.length; b++) {
            for (int n = 0; n < g.components(); n++) {
                r[b][n] = g.componentScore(n, data[b], null);
            }
            double lse = Numerics.logSumExp(r[b], 0, g.components());
            for (int n = 0; n < g.components(); n++) {
                r[b][n] = Math.exp(r[b][n] - lse);
            }
        }
        return r;
    }

    private static double[][] uniformRows(int rows, int variables, Random rng) {
        double[][] data = new double[rows][variables];
        for (double[] row : data) {
            for (int i = 0; i < variables; i++) {
                row[i] = (float) rng.nextDouble();
            }
        }
        return data;
    }

    /** The mean log-likelihood an EM step reports is the float64 one of the mixture it started from. */
    private static void assertStartedAtTheFloat64LogLikelihood(MixtureEm.Step step, Gaussian g, double[][] data) {
        double expected = 0;
        for (double[] row : data) {
            expected += g.logLikelihood(row, null) / data.length;
        }
        assertThat(step.meanLogLikelihood()).isCloseTo(expected, within(1e-9 * Math.abs(expected)));
    }

    /** The total responsibility of component n. */
    private static double mass(double[][] responsibilities, int n) {
        double mass = 0;
        for (double[] row : responsibilities) {
            mass += row[n];
        }
        return mass;
    }

    /** Each variable's variance over all the rows, in float64: the target the shrinkage pulls towards. */
    private static double[] pooledVariances(double[][] data) {
        double[] pooled = new double[data[0].length];
        for (int i = 0; i < pooled.length; i++) {
            double m1 = 0;
            double m2 = 0;
            for (double[] row : data) {
                m1 += row[i] / data.length;
                m2 += row[i] * row[i] / data.length;
            }
            pooled[i] = m2 - m1 * m1;
        }
        return pooled;
    }

    @ParameterizedTest(name = "shrinkage {0}")
    @ValueSource(doubles = {0, 3})
    void oneGaussianEmStepEqualsTheFloat64MStep(double shrinkage) {
        Random rng = new Random(71);
        Gaussian g = Fixtures.gaussian(backend, 5, 3, 0.05, 0.5, 0, rng);
        double[][] data = uniformRows(24, 5, rng);
        double floor = 0.2;
        MixtureEm.Settings settings = new MixtureEm.Settings(Precision.DOUBLE, floor, 1, shrinkage);
        double[] pooled = pooledVariances(data);
        try (ShallowMixture m = g.mixture(); Tensor x = matrix(data, 5)) {
            m.setPrecision(Precision.DOUBLE);
            MixtureEm.Step step = MixtureEm.step(m, x, settings, done -> { });
            try (ShallowMixture next = step.next()) {
                double[][] r = responsibilities(g, data);
                assertStartedAtTheFloat64LogLikelihood(step, g, data);
                double[] mean = next.parameters().get("mean").toDoubleArray();
                double[] logVar = next.parameters().get("log_var").toDoubleArray();
                double[] logWeights = next.logWeights();
                for (int n = 0; n < 3; n++) {
                    double mass = mass(r, n);
                    assertThat(logWeights[n]).as("log w_%d", n).isCloseTo(Math.log(mass / data.length), within(1e-9));
                    for (int i = 0; i < 5; i++) {
                        double m1 = 0;
                        double m2 = 0;
                        for (int b = 0; b < data.length; b++) {
                            m1 += r[b][n] * data[b][i];
                            m2 += r[b][n] * data[b][i] * data[b][i];
                        }
                        m1 /= mass;
                        double spread = (mass * (m2 / mass - m1 * m1) + shrinkage * pooled[i]) / (mass + shrinkage);
                        double variance = Math.min(0.25, Math.max(floor * floor, spread));
                        assertThat(mean[n * 5 + i]).as("mean %d %d", n, i).isCloseTo(m1, within(1e-6));
                        assertThat(logVar[n * 5 + i]).as("log var %d %d", n, i)
                                .isCloseTo(Math.log(variance), within(1e-6));
                    }
                }
                assertThat(((GaussianFamily) next.leafFamily()).minStd()).isEqualTo(floor);
            }
        }
    }

    @Test
    void aWeightsOnlyEmStepSetsTheMeanResponsibilitiesAndKeepsEveryLeaf() {
        Random rng = new Random(74);
        Gaussian g = Fixtures.gaussian(backend, 5, 3, 0.05, 0.5, 0, rng);
        double[][] data = uniformRows(24, 5, rng);
        try (ShallowMixture m = g.mixture(); Tensor x = matrix(data, 5)) {
            m.setPrecision(Precision.DOUBLE);
            MixtureEm.Step step = MixtureEm.step(m, x, MixtureEm.Settings.weightsOnly(Precision.DOUBLE), done -> { });
            try (ShallowMixture next = step.next()) {
                double[][] r = responsibilities(g, data);
                assertStartedAtTheFloat64LogLikelihood(step, g, data);
                for (int n = 0; n < 3; n++) {
                    assertThat(next.logWeights()[n]).as("log w_%d", n).isCloseTo(Math.log(mass(r, n) / data.length),
                            within(1e-9));
                }
                for (String name : List.of("mean", "log_var")) {
                    assertThat(next.parameters().get(name).toDoubleArray()).as(name)
                            .containsExactly(m.parameters().get(name).toDoubleArray());
                }
                assertThat(next.leafFamily()).isSameAs(m.leafFamily());
            }
        }
    }

    @ParameterizedTest(name = "shrinkage {0}")
    @ValueSource(doubles = {0, 2})
    void fullBatchEmNeverLowersThePenalisedTrainingLogLikelihood(double shrinkage) {
        Random rng = new Random(74);
        Gaussian g = Fixtures.gaussian(backend, 6, 5, 0.002, 0.3, 0, rng);
        double[][] data = gaussianData(g, 12, 4, rng);
        double floor = 0.001;
        double[] pooled = pooledVariances(data);
        MixtureEm.Settings settings = new MixtureEm.Settings(Precision.DOUBLE, floor, 1, shrinkage);
        try (Tensor x = matrix(data, 6)) {
            ShallowMixture current = MixtureEm.start(g.mixture(), settings);
            g.mixture().close();
            try {
                current.setPrecision(Precision.DOUBLE);
                double previous = Double.NEGATIVE_INFINITY;
                for (int k = 0; k < 10; k++) {
                    double[] logVar = current.parameters().get("log_var").toDoubleArray();
                    double penalty = 0;
                    for (int j = 0; j < logVar.length; j++) {
                        penalty -= shrinkage / 2 * (logVar[j] + pooled[j % 6] / Math.exp(logVar[j]));
                    }
                    MixtureEm.Step step = MixtureEm.step(current, x, settings, done -> { });
                    double objective = step.meanLogLikelihood() * data.length + penalty;
                    assertThat(objective).as("penalised log-likelihood before step %d", k)
                            .isGreaterThanOrEqualTo(previous - 1e-9 * Math.abs(previous));
                    previous = objective;
                    current.close();
                    current = step.next();
                }
                if (shrinkage > 0) {
                    double[] logVar = current.parameters().get("log_var").toDoubleArray();
                    double widest = Arrays.stream(logVar).max().orElseThrow();
                    assertThat(Math.exp(widest / 2)).as("shrunk leaves stay wider than the floor")
                            .isGreaterThan(10 * floor);
                }
            } finally {
                current.close();
            }
        }
    }

    @Test
    void oneCategoricalEmStepEqualsTheSmoothedFloat64Counts() {
        Random rng = new Random(73);
        int n = 3;
        int s = 4;
        int v = 5;
        int b = 30;
        float[] logits = new float[n * s * v];
        for (int k = 0; k < logits.length; k++) {
            logits[k] = (float) rng.nextGaussian();
        }
        double[] w = Fixtures.logWeights(n, rng);
        double[][] data = new double[b][s];
        for (double[] row : data) {
            for (int i = 0; i < s; i++) {
                row[i] = rng.nextInt(v - 1);
            }
        }
        double alpha = 0.5;
        ShallowMixture m;
        try (Tensor t = backend.of(logits, n, s, v)) {
            m = ShallowMixture.builder(new CategoricalFamily(v)).parameters(Map.of("logits", t)).logWeights(w)
                    .precision(Precision.DOUBLE).build();
        }
        double[] logProbs = m.parameters().get("logits").toDoubleArray();
        double[] weights = m.logWeights();
        try (m; Tensor x = matrix(data, s)) {
            MixtureEm.Step step = MixtureEm.step(m, x, new MixtureEm.Settings(Precision.DOUBLE, 1, alpha),
                    done -> { });
            try (ShallowMixture next = step.next()) {
                double[] got = next.parameters().get("logits").toDoubleArray();
                double[][] r = new double[b][n];
                for (int row = 0; row < b; row++) {
                    for (int c = 0; c < n; c++) {
                        r[row][c] = weights[c];
                        for (int i = 0; i < s; i++) {
                            r[row][c] += logProbs[(c * s + i) * v + (int) data[row][i]];
                        }
                    }
                    double lse = Numerics.logSumExp(r[row], 0, n);
                    for (int c = 0; c < n; c++) {
                        r[row][c] = Math.exp(r[row][c] - lse);
                    }
                }
                for (int c = 0; c < n; c++) {
                    double mass = 0;
                    for (double[] row : r) {
                        mass += row[c];
                    }
                    assertThat(next.logWeights()[c]).isCloseTo(Math.log(mass / b), within(1e-6));
                    for (int i = 0; i < s; i++) {
                        for (int value = 0; value < v; value++) {
                            double count = 0;
                            for (int row = 0; row < b; row++) {
                                count += data[row][i] == value ? r[row][c] : 0;
                            }
                            assertThat(got[(c * s + i) * v + value]).as("log p(x_%d = %d | %d)", i, value, c)
                                    .isCloseTo(Math.log((count + alpha) / (mass + v * alpha)), within(1e-5));
                        }
                    }
                }
            }
        }
    }

    @Test
    void theClassPosteriorIsBayesRuleOverTheClassesComponents() {
        Random rng = new Random(74);
        Gaussian g = Fixtures.gaussian(backend, 4, 5, 0.1, 0.6, 0, rng);
        int[] classes = {2, 0, 2, 1, 0};
        LatentSet latents = new LatentSet(new LatentShape(1, 1, 5), new int[] {0, 1, 2, 3, 4}, classes,
                new double[5]);
        double[][] data = gaussianData(g, 6, 3, rng);
        boolean[][] observed = new boolean[data.length][4];
        for (int r = 0; r < data.length; r++) {
            for (int i = 0; i < 4; i++) {
                observed[r][i] = r % 3 != 0 || i < 2;
            }
        }
        ShallowMixture m = TensorScope.outside(() -> ShallowMixture.builder(g.mixture().leafFamily())
                .parameters(g.mixture().parameters()).logWeights(g.logWeights()).latents(latents).build());
        g.mixture().close();
        try (m; Tensor x = matrix(data, 4); Tensor o = mask(observed, 4); Tensor post = m.classPosterior(x, o, 4)) {
            assertThatTensor(post).hasShape(data.length, 4).hasDtype(DType.FLOAT32);
            double[] got = post.toDoubleArray();
            for (int r = 0; r < data.length; r++) {
                double[] joint = new double[4];
                java.util.Arrays.fill(joint, Double.NEGATIVE_INFINITY);
                for (int n = 0; n < 5; n++) {
                    joint[classes[n]] = Numerics.logAddExp(joint[classes[n]], g.componentScore(n, data[r],
                            observed[r]));
                }
                double evidence = Numerics.logSumExp(joint, 0, 4);
                for (int c = 0; c < 3; c++) {
                    assertThat(got[r * 4 + c]).as("log p(c = %d | x_%d)", c, r)
                            .isCloseTo(joint[c] - evidence, within(1e-4 + 1e-5 * Math.abs(joint[c] - evidence)));
                }
                assertThat(got[r * 4 + 3]).as("a class without components").isEqualTo(Double.NEGATIVE_INFINITY);
            }
            assertThatThrownBy(() -> m.classPosterior(x, o, 2)).isInstanceOf(InvalidArgumentException.class)
                    .hasMessageContaining("component 0 has class 2");
        }
    }
}
