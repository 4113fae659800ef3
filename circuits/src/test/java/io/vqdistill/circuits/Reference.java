package io.vqdistill.circuits;

import io.vqdistill.circuits.CircuitStructure.Kind;
import java.util.Arrays;

/**
 * Ground truth on the host: a circuit structure evaluated unit by unit in double precision, with
 * leaf log-densities given directly by a test. Unobserved inputs count 1 (log 0) in a marginal and
 * their peak in max-product.
 */
final class Reference {
    /** Double-precision log-density and peak of each input (numbered 0..L-1). */
    interface Leaves {
        double logDensity(int input, double x);

        double peak(int input);
    }

    private final CircuitStructure structure;
    private final Leaves leaves;

    Reference(CircuitStructure structure, Leaves leaves) {
        this.structure = structure;
        this.leaves = leaves;
    }

    CircuitStructure structure() {
        return structure;
    }

    /** Log-values of every unit; {@code max} selects max-product. */
    double[] values(double[] x, boolean[] observed, boolean max) {
        double[] v = new double[structure.numUnits()];
        for (int u = 0; u < v.length; u++) {
            Kind k = structure.kind(u);
            if (k == Kind.INPUT) {
                int var = structure.variable(u);
                int l = structure.inputIndex(u);
                v[u] = observed[var] ? leaves.logDensity(l, x[var]) : max ? leaves.peak(l) : 0;
            } else if (k == Kind.PRODUCT) {
                double s = 0;
                for (int c : structure.children(u)) {
                    s += v[c];
                }
                v[u] = s;
            } else {
                int[] ch = structure.children(u);
                double[] w = structure.logWeights(u);
                double[] terms = new double[ch.length];
                double best = Double.NEGATIVE_INFINITY;
                for (int a = 0; a < ch.length; a++) {
                    terms[a] = w[a] + v[ch[a]];
                    best = Math.max(best, terms[a]);
                }
                v[u] = max ? best : Numerics.logSumExp(terms, 0, terms.length);
            }
        }
        return v;
    }

    double logLikelihood(double[] x) {
        boolean[] all = new boolean[x.length];
        Arrays.fill(all, true);
        return values(x, all, false)[structure.root()];
    }

    double marginal(double[] x, boolean[] observed) {
        return values(x, observed, false)[structure.root()];
    }

    /** The max-product value with every variable observed: the best induced tree's log-density at x. */
    double maxProduct(double[] x) {
        boolean[] all = new boolean[x.length];
        Arrays.fill(all, true);
        return values(x, all, true)[structure.root()];
    }
}
