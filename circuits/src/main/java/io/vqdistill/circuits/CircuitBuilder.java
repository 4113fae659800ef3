package io.vqdistill.circuits;

import io.vqdistill.api.InvalidArgumentException;
import io.vqdistill.circuits.CircuitStructure.Kind;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.BitSet;
import java.util.List;

/**
 * Builds a circuit structure unit by unit: each call adds a unit and returns its number, and a unit
 * can only use units added before it, so the numbering is topological. Scopes are computed as units
 * are added and every rule is checked at once, with an error naming the unit and the scopes:
 * product children must have disjoint scopes (decomposability), sum children equal scopes
 * (smoothness), and sum log weights must be normalised unless {@link #normalisedSum} normalises
 * them. {@link #build()} makes the last unit the root.
 *
 * <pre>{@code
 * CircuitBuilder b = new CircuitBuilder(2);
 * int x0 = b.input(0), x1 = b.input(1), y0 = b.input(0), y1 = b.input(1);
 * b.sum(new int[] {b.product(x0, x1), b.product(y0, y1)}, new double[] {Math.log(0.3), Math.log(0.7)});
 * CircuitStructure s = b.build();
 * }</pre>
 */
public final class CircuitBuilder {
    private final int numVariables;
    private final List<Kind> kinds = new ArrayList<>();
    private final List<Integer> variables = new ArrayList<>();
    private final List<int[]> children = new ArrayList<>();
    private final List<double[]> weights = new ArrayList<>();
    private final List<BitSet> scopes = new ArrayList<>();

    /**
     * A builder of circuits over variables 0..numVariables-1.
     *
     * @param numVariables S >= 1
     */
    public CircuitBuilder(int numVariables) {
        if (numVariables < 1) {
            throw new InvalidArgumentException("a circuit needs at least one variable, found " + numVariables);
        }
        this.numVariables = numVariables;
    }

    /** Number of units added so far. */
    public int size() {
        return kinds.size();
    }

    /** The scope (set of variables) of a unit added before, as a copy. */
    public BitSet scope(int unit) {
        return (BitSet) scopes.get(existing("scope", unit)).clone();
    }

    /** Adds an input unit over {@code variable} (0..S-1). */
    public int input(int variable) {
        if (variable < 0 || variable >= numVariables) {
            throw new InvalidArgumentException("input unit " + size() + ": variable " + variable + " is outside [0, "
                    + numVariables + ")");
        }
        BitSet scope = new BitSet();
        scope.set(variable);
        return add(Kind.INPUT, variable, new int[0], null, scope);
    }

    /** Adds a product unit over children with pairwise disjoint scopes. */
    public int product(int... children) {
        String unit = "product unit " + size();
        checkChildren(unit, children);
        BitSet union = new BitSet();
        for (int i = 0; i < children.length; i++) {
            BitSet s = scopes.get(children[i]);
            if (union.intersects(s)) {
                for (int j = 0; j < i; j++) {
                    BitSet shared = (BitSet) scopes.get(children[j]).clone();
                    shared.and(s);
                    if (!shared.isEmpty()) {
                        throw new InvalidArgumentException(unit + " is not decomposable: children " + children[j]
                                + " (scope " + Scopes.format(scopes.get(children[j])) + ") and " + children[i]
                                + " (scope " + Scopes.format(s) + ") share " + Scopes.format(shared));
                    }
                }
            }
            union.or(s);
        }
        return add(Kind.PRODUCT, -1, children.clone(), null, union);
    }

    /**
     * Adds a sum unit over children with equal scopes, with normalised log weights (logsumexp within
     * {@value ShallowMixture#WEIGHT_TOLERANCE} of 0; -inf allowed, NaN and +inf not).
     */
    public int sum(int[] children, double[] logWeights) {
        return addSum(children, logWeights, false);
    }

    /** Adds a sum unit as {@link #sum}, normalising arbitrary log weights first. */
    public int normalisedSum(int[] children, double[] logWeights) {
        return addSum(children, logWeights, true);
    }

    /** Adds a sum unit with equal weights. */
    public int uniformSum(int... children) {
        double[] w = new double[children.length];
        Arrays.fill(w, -Math.log(children.length));
        return addSum(children, w, false);
    }

    private int addSum(int[] children, double[] logWeights, boolean normalise) {
        String unit = "sum unit " + size();
        checkChildren(unit, children);
        if (logWeights.length != children.length) {
            throw new InvalidArgumentException(unit + ": " + children.length + " children but " + logWeights.length
                    + " log weights");
        }
        BitSet first = scopes.get(children[0]);
        for (int i = 1; i < children.length; i++) {
            BitSet s = scopes.get(children[i]);
            if (!s.equals(first)) {
                throw new InvalidArgumentException(unit + " is not smooth: child " + children[0] + " has scope "
                        + Scopes.format(first) + " but child " + children[i] + " has scope " + Scopes.format(s));
            }
        }
        for (int i = 0; i < logWeights.length; i++) {
            if (Double.isNaN(logWeights[i]) || logWeights[i] == Double.POSITIVE_INFINITY) {
                throw new InvalidArgumentException(unit + ": log weight " + i + " is " + logWeights[i]
                        + "; log weights must be finite or -inf");
            }
        }
        double lse = Numerics.logSumExp(logWeights, 0, logWeights.length);
        if (lse == Double.NEGATIVE_INFINITY) {
            throw new InvalidArgumentException(unit + ": every log weight is -inf");
        }
        double[] w = logWeights.clone();
        if (normalise) {
            for (int i = 0; i < w.length; i++) {
                w[i] -= lse;
            }
        } else if (Math.abs(lse) > ShallowMixture.WEIGHT_TOLERANCE) {
            throw new InvalidArgumentException(unit + ": log weights must be normalised (logsumexp within "
                    + ShallowMixture.WEIGHT_TOLERANCE + " of 0), found logsumexp " + lse + "; use normalisedSum");
        }
        return add(Kind.SUM, -1, children.clone(), w, (BitSet) first.clone());
    }

    private void checkChildren(String unit, int[] children) {
        if (children.length == 0) {
            throw new InvalidArgumentException(unit + " needs at least one child");
        }
        for (int c : children) {
            if (c < 0 || c >= size()) {
                throw new InvalidArgumentException(unit + ": child " + c + " does not exist (units 0.." + (size() - 1)
                        + " were added before it)");
            }
        }
    }

    private int existing(String what, int unit) {
        if (unit < 0 || unit >= size()) {
            throw new InvalidArgumentException(what + ": unit " + unit + " does not exist (units 0.." + (size() - 1)
                    + ")");
        }
        return unit;
    }

    private int add(Kind kind, int variable, int[] kids, double[] logWeights, BitSet scope) {
        kinds.add(kind);
        variables.add(variable);
        children.add(kids);
        weights.add(logWeights);
        scopes.add(scope);
        return kinds.size() - 1;
    }

    /**
     * The structure with the last unit added as its root.
     *
     * @throws InvalidArgumentException when nothing was added, when a unit is not reachable from the
     *                                  root, or when the root's scope misses a variable
     */
    public CircuitStructure build() {
        int u = size();
        if (u == 0) {
            throw new InvalidArgumentException("the circuit has no units");
        }
        int root = u - 1;
        BitSet all = new BitSet();
        all.set(0, numVariables);
        if (!scopes.get(root).equals(all)) {
            BitSet missing = (BitSet) all.clone();
            missing.andNot(scopes.get(root));
            throw new InvalidArgumentException("the root (unit " + root + ") has scope " + Scopes.format(scopes.get(root))
                    + " but the circuit has " + numVariables + " variables: " + Scopes.format(missing) + " missing");
        }
        boolean[] reached = new boolean[u];
        reached[root] = true;
        for (int v = root; v >= 0; v--) {
            if (reached[v]) {
                for (int c : children.get(v)) {
                    reached[c] = true;
                }
            }
        }
        for (int v = 0; v < u; v++) {
            if (!reached[v]) {
                throw new InvalidArgumentException("unit " + v + " is not reachable from the root (unit " + root
                        + ", the last one added)");
            }
        }
        int[] offsets = new int[u + 1];
        for (int v = 0; v < u; v++) {
            offsets[v + 1] = offsets[v] + children.get(v).length;
        }
        int[] flat = new int[offsets[u]];
        double[] flatWeights = new double[offsets[u]];
        int[] vars = new int[u];
        for (int v = 0; v < u; v++) {
            System.arraycopy(children.get(v), 0, flat, offsets[v], children.get(v).length);
            if (weights.get(v) != null) {
                System.arraycopy(weights.get(v), 0, flatWeights, offsets[v], weights.get(v).length);
            }
            vars[v] = variables.get(v);
        }
        return new CircuitStructure(numVariables, kinds.toArray(new Kind[0]), vars, offsets, flat, flatWeights);
    }
}
