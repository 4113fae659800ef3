package io.vqdistill.circuits;

import io.vqdistill.api.InvalidArgumentException;
import java.util.Arrays;

/**
 * The validated, immutable graph of a circuit: units 0..U-1 in topological order (children before
 * parents), the last one the root, every unit reachable from it. Input units each hold one variable;
 * product units have children with pairwise disjoint scopes (decomposable); sum units have children
 * with equal scopes (smooth) and normalised log weights; the root's scope is every variable.
 * Input units are numbered 0..L-1 in unit order, the order of their parameters. Built by
 * {@link CircuitBuilder}.
 */
public final class CircuitStructure {
    /** The kinds of unit. */
    public enum Kind {
        /** A leaf: a distribution of the leaf family over one variable. */
        INPUT,
        /** The product of its children's distributions (over disjoint scopes). */
        PRODUCT,
        /** A weighted mixture of its children (over one scope). */
        SUM
    }

    private final int numVariables;
    private final Kind[] kinds;
    private final int[] variables;
    private final int[] offsets;
    private final int[] children;
    private final double[] logWeights;
    private final int[] inputIndex;
    private final int inputs;

    CircuitStructure(int numVariables, Kind[] kinds, int[] variables, int[] offsets, int[] children,
                     double[] logWeights) {
        this.numVariables = numVariables;
        this.kinds = kinds;
        this.variables = variables;
        this.offsets = offsets;
        this.children = children;
        this.logWeights = logWeights;
        this.inputIndex = new int[kinds.length];
        int l = 0;
        for (int u = 0; u < kinds.length; u++) {
            inputIndex[u] = kinds[u] == Kind.INPUT ? l++ : -1;
        }
        this.inputs = l;
    }

    /** S, the number of variables; the root's scope is 0..S-1. */
    public int numVariables() {
        return numVariables;
    }

    /** U, the number of units. */
    public int numUnits() {
        return kinds.length;
    }

    /** The root unit, U - 1. */
    public int root() {
        return kinds.length - 1;
    }

    /** L, the number of input units. */
    public int numInputs() {
        return inputs;
    }

    /** The number of edges (children of all units). */
    public int numEdges() {
        return children.length;
    }

    /** The kind of {@code unit}. */
    public Kind kind(int unit) {
        return kinds[check(unit)];
    }

    /** The variable of an input unit. */
    public int variable(int unit) {
        if (kind(unit) != Kind.INPUT) {
            throw new InvalidArgumentException("unit " + unit + " is a " + kinds[unit] + " unit, not an input");
        }
        return variables[unit];
    }

    /** The position of an input unit among the inputs, 0..L-1: its row in the leaf parameters. */
    public int inputIndex(int unit) {
        if (kind(unit) != Kind.INPUT) {
            throw new InvalidArgumentException("unit " + unit + " is a " + kinds[unit] + " unit, not an input");
        }
        return inputIndex[unit];
    }

    /** The children of {@code unit}, in order (empty for an input). */
    public int[] children(int unit) {
        check(unit);
        return Arrays.copyOfRange(children, offsets[unit], offsets[unit + 1]);
    }

    /** The log weights of a sum unit, aligned with its children. */
    public double[] logWeights(int unit) {
        if (kind(unit) != Kind.SUM) {
            throw new InvalidArgumentException("unit " + unit + " is a " + kinds[unit] + " unit, not a sum");
        }
        return Arrays.copyOfRange(logWeights, offsets[unit], offsets[unit + 1]);
    }

    /** Free weights: sum over sum units of (children - 1). */
    public long freeWeights() {
        long n = 0;
        for (int u = 0; u < kinds.length; u++) {
            if (kinds[u] == Kind.SUM) {
                n += offsets[u + 1] - offsets[u] - 1;
            }
        }
        return n;
    }

    private int check(int unit) {
        if (unit < 0 || unit >= kinds.length) {
            throw new InvalidArgumentException("unit " + unit + " does not exist (units 0.." + (kinds.length - 1) + ")");
        }
        return unit;
    }

    @Override
    public String toString() {
        return "CircuitStructure[" + kinds.length + " units, " + children.length + " edges, " + inputs + " inputs over "
                + numVariables + " variables]";
    }
}
