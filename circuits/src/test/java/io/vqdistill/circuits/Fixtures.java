package io.vqdistill.circuits;

import io.vqdistill.api.Backend;
import io.vqdistill.api.Tensor;
import io.vqdistill.api.circuit.Circuit;
import io.vqdistill.api.circuit.LeafFamily;
import io.vqdistill.circuits.layered.LayeredCircuit;
import io.vqdistill.circuits.layered.LayeredSpec;
import io.vqdistill.circuits.leaf.BernoulliFamily;
import io.vqdistill.circuits.leaf.CategoricalFamily;
import io.vqdistill.circuits.leaf.GaussianFamily;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

/** Random circuits with their double-precision ground truth. */
final class Fixtures {
    private Fixtures() {
    }

    /**
     * A discrete circuit under test and its reference.
     *
     * @param values the number of values of every variable (2 for Bernoulli leaves)
     */
    record Discrete(String name, Circuit circuit, Reference reference, int values) {
        @Override
        public String toString() {
            return name;
        }
    }

    /** Host leaf parameters of a discrete family: normalised log-probabilities per input, and the float logits. */
    record DiscreteLeaves(LeafFamily family, float[] raw, double[][] logProbs) implements Reference.Leaves {
        @Override
        public double logDensity(int input, double x) {
            return logProbs[input][(int) x];
        }

        @Override
        public double peak(int input) {
            return Arrays.stream(logProbs[input]).max().orElseThrow();
        }

        int count() {
            return logProbs.length;
        }

        /** The parameters as tensors with leading shape {@code lead}. */
        Map<String, Tensor> tensors(Backend backend, long... lead) {
            if (family instanceof CategoricalFamily c) {
                long[] shape = Arrays.copyOf(lead, lead.length + 1);
                shape[lead.length] = c.categories();
                return Map.of("logits", backend.of(raw, shape));
            }
            return Map.of("logit", backend.of(raw, lead));
        }
    }

    /** Random categorical (values >= 3) or Bernoulli (values == 2) parameters of {@code inputs} leaves. */
    static DiscreteLeaves discreteLeaves(int values, int inputs, Random rng) {
        if (values == 2) {
            float[] raw = new float[inputs];
            double[][] lp = new double[inputs][2];
            for (int l = 0; l < inputs; l++) {
                raw[l] = (float) (2 * rng.nextGaussian());
                lp[l][1] = -Math.log1p(Math.exp(-raw[l]));
                lp[l][0] = -Math.log1p(Math.exp(raw[l]));
            }
            return new DiscreteLeaves(new BernoulliFamily(), raw, lp);
        }
        float[] raw = new float[inputs * values];
        double[][] lp = new double[inputs][values];
        for (int l = 0; l < inputs; l++) {
            for (int v = 0; v < values; v++) {
                raw[l * values + v] = (float) (1.5 * rng.nextGaussian());
                lp[l][v] = raw[l * values + v];
            }
            double lse = Numerics.logSumExp(lp[l], 0, values);
            for (int v = 0; v < values; v++) {
                lp[l][v] -= lse;
            }
        }
        return new DiscreteLeaves(new CategoricalFamily(values), raw, lp);
    }

    /** Random normalised log weights. */
    static double[] logWeights(int n, Random rng) {
        double[] w = new double[n];
        for (int i = 0; i < n; i++) {
            w[i] = rng.nextGaussian();
        }
        double lse = Numerics.logSumExp(w, 0, n);
        for (int i = 0; i < n; i++) {
            w[i] -= lse;
        }
        return w;
    }

    /** The structure of a shallow mixture: input (n, i) is number n * S + i. */
    static CircuitStructure mixtureStructure(int variables, double[] logWeights) {
        CircuitBuilder b = new CircuitBuilder(variables);
        int[] products = new int[logWeights.length];
        int[] inputs = new int[variables];
        for (int n = 0; n < logWeights.length; n++) {
            for (int i = 0; i < variables; i++) {
                inputs[i] = b.input(i);
            }
            products[n] = b.product(inputs);
        }
        b.sum(products, logWeights);
        return b.build();
    }

    /** A {@link ShallowMixture} of discrete leaves. */
    static Discrete mixture(Backend backend, int values, int variables, int components, Random rng) {
        DiscreteLeaves leaves = discreteLeaves(values, components * variables, rng);
        double[] w = logWeights(components, rng);
        Map<String, Tensor> params = leaves.tensors(backend, components, variables);
        try {
            ShallowMixture m = ShallowMixture.builder(leaves.family()).parameters(params).logWeights(w).build();
            return new Discrete("shallow mixture, " + leaves.family().name() + ", S=" + variables + ", N=" + components,
                    m, new Reference(mixtureStructure(variables, w), leaves), values);
        } finally {
            params.values().forEach(Tensor::close);
        }
    }

    /** The same mixture compiled as a general DAG circuit. */
    static Discrete mixtureAsDag(Backend backend, int values, int variables, int components, Random rng) {
        Discrete d = mixture(backend, values, variables, components, rng);
        try (ShallowMixture m = (ShallowMixture) d.circuit()) {
            return new Discrete("shallow mixture as DAG, " + m.leafFamily().name() + ", S=" + variables, m.toDag(),
                    d.reference(), values);
        }
    }

    /**
     * A deep DAG over all variables: every region of variables splits at random into two, each region
     * holds {@code width} sum units over {@code width + 1} products of one unit of each half (sum k
     * takes products k - 1, k, ... so that products are shared between sums and every unit is used),
     * a one-variable region holds {@code width} inputs, and the root is one sum.
     */
    static Discrete deep(Backend backend, int values, int variables, int width, Random rng) {
        CircuitBuilder b = new CircuitBuilder(variables);
        List<Integer> vars = new ArrayList<>();
        for (int i = 0; i < variables; i++) {
            vars.add(i);
        }
        int[] top = region(b, vars, width, rng);
        b.normalisedSum(top, randomWeights(top.length, rng));
        return withLeaves(backend, "deep DAG, " + (values == 2 ? "bernoulli" : "categorical") + ", S=" + variables,
                b.build(), values, rng);
    }

    private static int[] region(CircuitBuilder b, List<Integer> vars, int width, Random rng) {
        int[] units = new int[width];
        if (vars.size() == 1) {
            for (int k = 0; k < width; k++) {
                units[k] = b.input(vars.get(0));
            }
            return units;
        }
        List<Integer> shuffled = new ArrayList<>(vars);
        Collections.shuffle(shuffled, rng);
        int cut = 1 + rng.nextInt(vars.size() - 1);
        int[] left = region(b, shuffled.subList(0, cut), width, rng);
        int[] right = region(b, shuffled.subList(cut, shuffled.size()), width, rng);
        int[] products = new int[width + 1];
        for (int p = 0; p < width; p++) {
            products[p] = b.product(left[p], right[(p + 1) % width]);
        }
        products[width] = b.product(left[rng.nextInt(width)], right[rng.nextInt(width)]);
        for (int k = 0; k < width; k++) {
            int arity = 2 + rng.nextInt(products.length - 1);
            int[] kids = new int[arity];
            for (int a = 0; a < arity; a++) {
                kids[a] = products[(k + products.length - 1 + a) % products.length];
            }
            units[k] = b.normalisedSum(kids, randomWeights(arity, rng));
        }
        return units;
    }

    private static double[] randomWeights(int n, Random rng) {
        double[] w = new double[n];
        for (int i = 0; i < n; i++) {
            w[i] = rng.nextGaussian();
        }
        return w;
    }

    /**
     * A root product over two independent parts: a sum of sums over the first half (a sum whose
     * children are a sum and a product) and a deep region over the second half.
     */
    static Discrete productRoot(Backend backend, int values, int variables, Random rng) {
        CircuitBuilder b = new CircuitBuilder(variables);
        int half = variables / 2;
        int[] p = new int[3];
        for (int k = 0; k < 3; k++) {
            int[] ins = new int[half];
            for (int i = 0; i < half; i++) {
                ins[i] = b.input(i);
            }
            p[k] = b.product(ins);
        }
        int inner = b.normalisedSum(new int[] {p[0], p[1]}, randomWeights(2, rng));
        int left = b.normalisedSum(new int[] {inner, p[2]}, randomWeights(2, rng));
        List<Integer> rest = new ArrayList<>();
        for (int i = half; i < variables; i++) {
            rest.add(i);
        }
        int[] right = region(b, rest, 1, rng);
        b.product(left, right[0]);
        return withLeaves(backend, "product root with a sum of sums, S=" + variables, b.build(), values, rng);
    }

    /**
     * An Einsum network over a {@code height x width} image with random weights and random discrete
     * leaves; its reference evaluates the same network built as a DAG ({@link LayeredCircuit#toDag()})
     * unit by unit.
     */
    static Discrete layered(Backend backend, int values, int height, int width, int[] pieces, int leaves, int sums,
                            Random rng) {
        LayeredSpec spec = new LayeredSpec(height, width, pieces, leaves, sums);
        DiscreteLeaves l = discreteLeaves(values, spec.variables() * leaves, rng);
        Map<String, Tensor> params = l.tensors(backend, spec.variables(), leaves);
        List<Tensor> weights = LayeredCircuit.randomWeights(spec, backend, rng);
        try {
            LayeredCircuit c = LayeredCircuit.create(spec, l.family(), params, weights);
            try (DagCircuit dag = c.toDag()) {
                return new Discrete("Einsum network " + spec + ", " + l.family().name(), c,
                        new Reference(dag.structure(), l), values);
            }
        } finally {
            params.values().forEach(Tensor::close);
            weights.forEach(Tensor::close);
        }
    }

    private static Discrete withLeaves(Backend backend, String name, CircuitStructure s, int values, Random rng) {
        DiscreteLeaves leaves = discreteLeaves(values, s.numInputs(), rng);
        Map<String, Tensor> params = leaves.tensors(backend, s.numInputs());
        try {
            return new Discrete(name, DagCircuit.create(s, leaves.family(), params), new Reference(s, leaves), values);
        } finally {
            params.values().forEach(Tensor::close);
        }
    }

    /** Every joint state of {@code variables} variables with {@code values} values, row by row. */
    static double[][] states(int variables, int values) {
        int count = (int) Math.pow(values, variables);
        double[][] out = new double[count][variables];
        for (int s = 0; s < count; s++) {
            int rem = s;
            for (int i = variables - 1; i >= 0; i--) {
                out[s][i] = rem % values;
                rem /= values;
            }
        }
        return out;
    }

    /** Row-major float copy of a matrix. */
    static float[] flat(double[][] rows) {
        int s = rows.length == 0 ? 0 : rows[0].length;
        float[] out = new float[rows.length * s];
        for (int r = 0; r < rows.length; r++) {
            for (int i = 0; i < s; i++) {
                out[r * s + i] = (float) rows[r][i];
            }
        }
        return out;
    }

    /** Row-major copy of a boolean matrix. */
    static boolean[] flat(boolean[][] rows) {
        int s = rows.length == 0 ? 0 : rows[0].length;
        boolean[] out = new boolean[rows.length * s];
        for (int r = 0; r < rows.length; r++) {
            System.arraycopy(rows[r], 0, out, r * s, s);
        }
        return out;
    }

    /** A Gaussian mixture with its parameters on the host (float-rounded, as the tensors hold them). */
    record Gaussian(ShallowMixture mixture, double[][] mean, double[][] logVar, double[] logWeights) {
        int variables() {
            return mean[0].length;
        }

        int components() {
            return mean.length;
        }

        /** log w_n + sum over observed i of log N(x_i; mean, var) in double precision. */
        double componentScore(int n, double[] x, boolean[] observed) {
            double s = logWeights[n];
            for (int i = 0; i < x.length; i++) {
                if (observed == null || observed[i]) {
                    double d = x[i] - mean[n][i];
                    s += -0.5 * (Math.log(2 * Math.PI) + logVar[n][i] + d * d / Math.exp(logVar[n][i]));
                }
            }
            return s;
        }

        /** The direct double-precision log p(x_o). */
        double logLikelihood(double[] x, boolean[] observed) {
            double[] scores = new double[components()];
            for (int n = 0; n < scores.length; n++) {
                scores[n] = componentScore(n, x, observed);
            }
            return Numerics.logSumExp(scores, 0, scores.length);
        }

        /** One draw from component n, rounded to float. */
        double[] draw(int n, Random rng) {
            double[] x = new double[variables()];
            for (int i = 0; i < x.length; i++) {
                x[i] = (float) (mean[n][i] + Math.exp(0.5 * logVar[n][i]) * rng.nextGaussian());
            }
            return x;
        }
    }

    /**
     * A Gaussian mixture with means uniform in [0, 1] (plus {@code clusters} near-copies structure
     * when > 0: component n is centre n mod clusters moved by 1e-4 noise) and standard deviations
     * log-uniform in [minStd, maxStd].
     */
    static Gaussian gaussian(Backend backend, int variables, int components, double minStd, double maxStd,
                             int clusters, Random rng) {
        double[][] centres = new double[Math.max(clusters, 1)][variables];
        for (double[] c : centres) {
            for (int i = 0; i < variables; i++) {
                c[i] = rng.nextDouble();
            }
        }
        double[][] mean = new double[components][variables];
        double[][] logVar = new double[components][variables];
        float[] m = new float[components * variables];
        float[] lv = new float[components * variables];
        for (int n = 0; n < components; n++) {
            for (int i = 0; i < variables; i++) {
                double mu = clusters > 0 ? centres[n % clusters][i] + 1e-4 * rng.nextGaussian() : rng.nextDouble();
                double logStd = Math.log(minStd) + rng.nextDouble() * (Math.log(maxStd) - Math.log(minStd));
                m[n * variables + i] = (float) mu;
                lv[n * variables + i] = (float) Math.max(2 * logStd, 2 * Math.log(minStd));
                mean[n][i] = m[n * variables + i];
                logVar[n][i] = lv[n * variables + i];
            }
        }
        double[] w = logWeights(components, rng);
        Map<String, Tensor> params = new LinkedHashMap<>();
        params.put("mean", backend.of(m, components, variables));
        params.put("log_var", backend.of(lv, components, variables));
        try {
            ShallowMixture mixture = ShallowMixture.builder(new GaussianFamily(minStd, Math.max(maxStd, minStd)))
                    .parameters(params).logWeights(w).build();
            double[] stored = mixture.logWeights();
            return new Gaussian(mixture, mean, logVar, stored);
        } finally {
            params.values().forEach(Tensor::close);
        }
    }
}
