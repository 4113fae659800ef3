package io.vqdistill.circuits;

import io.vqdistill.api.DType;
import io.vqdistill.api.InvalidArgumentException;
import io.vqdistill.api.Shapes;
import io.vqdistill.api.Tensor;
import io.vqdistill.api.TensorScope;
import io.vqdistill.api.circuit.LeafFamily;
import io.vqdistill.circuits.CircuitStructure.Kind;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.random.RandomGenerator;

/**
 * A general circuit (any smooth, decomposable DAG of input, product and sum units) compiled into
 * layers that are evaluated in batch on the backend, in the manner of the tensorised layouts of
 * EinsumNetworks or PyJuice.
 *
 * <h2>Layout</h2>
 * Every unit owns one column of a [B, C] value tensor of log-values: column 0 holds the constant 0
 * (log 1), then the L inputs, then the inner units grouped into layers by depth (longest path to an
 * input) and kind. A layer of w units with at most a children each is evaluated with one gather of
 * its children's columns ([B, w * a], padded with column 0), a reshape to [B, w, a] and a sum
 * (product units) or a logsumexp with the log weights (sum units; padding weighted -inf).
 *
 * <h2>Queries</h2>
 * Marginals replace an unobserved input's log-density by 0. The downward pass computes, in log
 * space, each unit's flow: the posterior probability that it lies in the induced tree that
 * generated x, given x_o. The flow of the edge from a sum unit u to child c is
 * flow(u) w_uc p_c(x_o) / p_u(x_o); a unit's flow is the sum over its incoming edges. For a smooth,
 * decomposable circuit each variable is covered by exactly one input of every induced tree, so
 * E[x_i | x_o] and Var[x_i | x_o] mix the inputs' means and variances by their flows (the law of
 * total variance, no cancellation). Sampling draws each sum unit's child from its posterior and
 * follows the chosen edges down; the mode runs max-product upwards (unobserved inputs at their peak
 * density) and follows each sum unit's best child down. That max-product completion is the MPE of
 * the best single induced tree: exact for deterministic circuits (whose sum children have disjoint
 * supports) and for the shallow mixture's joint MPE over component and variables, otherwise a lower
 * bound on the true MAP value.
 *
 * <p>The circuit owns its tensors and releases them on {@link #close()}. Tensors created inside an
 * open {@link TensorScope} belong to that scope, so create a circuit outside any scope you close
 * before you are done with it. Not thread-safe.
 */
public final class DagCircuit extends BatchedCircuit {

    /** A group of units of one kind and depth, evaluated with one gather. */
    private record Layer(boolean sum, int[] units, int firstColumn, int width, int arity, Tensor children,
                         Tensor logWeights) {
    }

    /** Units of one depth in the downward pass: their incoming edges' parent flows and edge terms. */
    private record Group(int width, int inDegree, Tensor parents, Tensor edges) {
    }

    private final CircuitStructure structure;
    private final int inputs;
    private final long eventSize;
    private final int[] column;
    private final int columns;
    private final List<Layer> layers = new ArrayList<>();
    private final List<Group> groups = new ArrayList<>();
    private final int leafFlowStart;
    private final int perVariable;
    private Tensor leafVariable;
    private Tensor leafPeak;
    private Tensor leafMode;
    private Tensor variableLeaves;
    private Tensor leafIds;
    private Tensor slotBase;
    private Tensor meanTable;
    private Tensor varianceTable;

    private DagCircuit(CircuitStructure structure, LeafFamily family, Map<String, Tensor> leafParameters) {
        super(family, leafParameters, Objects.requireNonNull(structure, "structure").numVariables());
        this.structure = structure;
        this.inputs = structure.numInputs();
        Tensor first = parameters.values().iterator().next();
        this.eventSize = family.parameters().stream().mapToLong(LeafFamily.Parameter::eventSize).max().orElse(1);
        this.column = new int[structure.numUnits()];
        try {
            long[] lead = Arrays.copyOf(first.shape(), first.rank() - family.parameters().get(0).eventShape().length);
            if (lead.length != 1 || lead[0] != inputs) {
                throw new InvalidArgumentException("the circuit has " + inputs + " input units, so its leaf parameters"
                        + " need leading shape [" + inputs + "], found " + Shapes.format(lead));
            }
            int[] depth = depths(structure);
            int maxDepth = Arrays.stream(depth).max().orElse(0);
            this.columns = compileLayers(depth, maxDepth);
            this.leafFlowStart = compileGroups(depth, maxDepth);
            this.perVariable = compileLeaves();
        } catch (RuntimeException e) {
            closeOwned();
            throw e;
        }
    }

    /**
     * A circuit of {@code structure} with leaves of {@code family}.
     *
     * @param leafParameters the family's parameters with leading shape [L], row l for input unit
     *                       number l ({@link CircuitStructure#inputIndex}); the circuit keeps
     *                       prepared copies, the caller still owns these
     * @throws InvalidArgumentException for missing, misshaped or non-finite parameters
     */
    public static DagCircuit create(CircuitStructure structure, LeafFamily family, Map<String, Tensor> leafParameters) {
        return new DagCircuit(structure, family, leafParameters);
    }

    private static int[] depths(CircuitStructure s) {
        int[] depth = new int[s.numUnits()];
        for (int u = 0; u < depth.length; u++) {
            for (int c : s.children(u)) {
                depth[u] = Math.max(depth[u], depth[c] + 1);
            }
        }
        return depth;
    }

    private Tensor indices(int[] values) {
        long[] v = new long[values.length];
        for (int i = 0; i < v.length; i++) {
            v[i] = values[i];
        }
        return own(backend.of(v, v.length));
    }

    /** Assigns value columns and builds the upward layers; returns the number of columns. */
    private int compileLayers(int[] depth, int maxDepth) {
        int[] leafVars = new int[inputs];
        for (int u = 0; u < column.length; u++) {
            if (structure.kind(u) == Kind.INPUT) {
                int l = structure.inputIndex(u);
                column[u] = 1 + l;
                leafVars[l] = structure.variable(u);
            }
        }
        leafVariable = indices(leafVars);
        int next = 1 + inputs;
        for (int d = 1; d <= maxDepth; d++) {
            for (Kind kind : List.of(Kind.PRODUCT, Kind.SUM)) {
                List<Integer> units = new ArrayList<>();
                int arity = 0;
                for (int u = 0; u < column.length; u++) {
                    if (depth[u] == d && structure.kind(u) == kind) {
                        units.add(u);
                        arity = Math.max(arity, structure.children(u).length);
                    }
                }
                if (units.isEmpty()) {
                    continue;
                }
                int width = units.size();
                int[] kids = new int[width * arity];
                float[] w = new float[width * arity];
                Arrays.fill(w, Float.NEGATIVE_INFINITY);
                for (int i = 0; i < width; i++) {
                    int u = units.get(i);
                    int[] ch = structure.children(u);
                    for (int a = 0; a < ch.length; a++) {
                        kids[i * arity + a] = column[ch[a]];
                        if (kind == Kind.SUM) {
                            w[i * arity + a] = (float) structure.logWeights(u)[a];
                        }
                    }
                    column[u] = next + i;
                }
                Tensor logWeights = kind == Kind.SUM ? own(backend.of(w, width, arity)) : null;
                int[] members = units.stream().mapToInt(Integer::intValue).toArray();
                layers.add(new Layer(kind == Kind.SUM, members, next, width, arity, indices(kids), logWeights));
                next += width;
            }
        }
        return next;
    }

    /**
     * Builds the downward groups (one per depth below the root, deepest last); returns the flow
     * column of the first input.
     */
    private int compileGroups(int[] depth, int maxDepth) {
        int units = column.length;
        int[] edgeColumn = new int[structure.numEdges()];
        int[] firstEdge = new int[units + 1];
        for (int u = 0; u < units; u++) {
            firstEdge[u + 1] = firstEdge[u] + structure.children(u).length;
        }
        int next = 1;
        for (Layer layer : layers) {
            if (layer.sum()) {
                for (int i = 0; i < layer.width(); i++) {
                    int u = layer.units()[i];
                    for (int a = 0; a < structure.children(u).length; a++) {
                        edgeColumn[firstEdge[u] + a] = next + i * layer.arity() + a;
                    }
                }
                next += layer.width() * layer.arity();
            }
        }
        List<List<int[]>> incoming = new ArrayList<>();
        for (int u = 0; u < units; u++) {
            incoming.add(new ArrayList<>());
        }
        for (int u = 0; u < units; u++) {
            int[] ch = structure.children(u);
            for (int a = 0; a < ch.length; a++) {
                incoming.get(ch[a]).add(new int[] {u, edgeColumn[firstEdge[u] + a]});
            }
        }
        int[] flowColumn = new int[units];
        flowColumn[structure.root()] = 1;
        int nextFlow = 2;
        int leafStart = 1;
        for (int d = maxDepth - 1; d >= 0; d--) {
            List<Integer> members = new ArrayList<>();
            int inDegree = 0;
            for (int u = 0; u < units; u++) {
                if (depth[u] == d) {
                    members.add(u);
                    inDegree = Math.max(inDegree, incoming.get(u).size());
                }
            }
            int[] parents = new int[members.size() * inDegree];
            int[] edges = new int[members.size() * inDegree];
            for (int i = 0; i < members.size(); i++) {
                List<int[]> in = incoming.get(members.get(i));
                for (int e = 0; e < in.size(); e++) {
                    parents[i * inDegree + e] = flowColumn[in.get(e)[0]];
                    edges[i * inDegree + e] = in.get(e)[1];
                }
                flowColumn[members.get(i)] = nextFlow + i;
            }
            if (d == 0) {
                leafStart = nextFlow;
            }
            groups.add(new Group(members.size(), inDegree, indices(parents), indices(edges)));
            nextFlow += members.size();
        }
        return leafStart;
    }

    /** Builds the per-variable input tables and the inputs' peaks, modes, means and variances. */
    private int compileLeaves() {
        List<List<Integer>> byVariable = new ArrayList<>();
        for (int i = 0; i < variables; i++) {
            byVariable.add(new ArrayList<>());
        }
        for (int u = 0; u < column.length; u++) {
            if (structure.kind(u) == Kind.INPUT) {
                byVariable.get(structure.variable(u)).add(structure.inputIndex(u));
            }
        }
        int width = byVariable.stream().mapToInt(List::size).max().orElse(1);
        int[] slots = new int[variables * width];
        int[] ids = new int[variables * width];
        int[] base = new int[variables];
        Arrays.fill(slots, inputs);
        for (int i = 0; i < variables; i++) {
            base[i] = i * width;
            List<Integer> leaves = byVariable.get(i);
            for (int a = 0; a < leaves.size(); a++) {
                slots[i * width + a] = leaves.get(a);
                ids[i * width + a] = leaves.get(a);
            }
        }
        variableLeaves = indices(slots);
        leafIds = indices(ids);
        slotBase = indices(base);
        try (TensorScope scope = TensorScope.open()) {
            Tensor mode = own(scope.keep(family.mode(parameters)));
            leafMode = mode;
            leafPeak = own(scope.keep(family.logDensity(parameters, mode)));
            Tensor pad = backend.zeros(DType.FLOAT32, 1);
            meanTable = own(scope.keep(table(family.mean(parameters), pad, width)));
            varianceTable = own(scope.keep(table(family.variance(parameters), pad, width)));
        }
        return width;
    }

    /** Per-input values [L] arranged as [S, A] by variable, padded with 0. */
    private Tensor table(Tensor perInput, Tensor pad, int width) {
        return backend.concat(List.of(perInput, pad), 0).gather(0, variableLeaves).reshape(variables, width);
    }

    // ---- accessors ------------------------------------------------------------------------------

    /** The graph. */
    public CircuitStructure structure() {
        return structure;
    }

    @Override
    public long parameterCount() {
        return structure.freeWeights() + leafParameterCount();
    }

    @Override
    public String toString() {
        return "DagCircuit[" + structure + ", " + layers.size() + " layers, " + family + " leaves on " + backend.name()
                + "]";
    }

    // ---- queries --------------------------------------------------------------------------------

    @Override
    public Tensor logLikelihood(Tensor x) {
        int b = start("logLikelihood", x, null);
        return Batches.run(x, null, rows(b), -1, (xb, mb) -> root(upward(xb, null, false)));
    }

    @Override
    public Tensor marginalLogLikelihood(Tensor x, Tensor observed) {
        int b = start("marginalLogLikelihood", x, Objects.requireNonNull(observed, "observed"));
        return Batches.run(x, observed, rows(b), -1, (xb, mb) -> root(upward(xb, mb, false)));
    }

    @Override
    public Tensor componentPosterior(Tensor x, Tensor observed) {
        int b = start("componentPosterior", x, Objects.requireNonNull(observed, "observed"));
        if (structure.kind(structure.root()) != Kind.SUM) {
            return backend.zeros(DType.FLOAT32, b, 1);
        }
        return Batches.run(x, observed, rows(b), structure.children(structure.root()).length,
                (xb, mb) -> childPosterior(structure.root(), upward(xb, mb, false)));
    }

    /**
     * log p(child c | unit active, x_o) = log w_c + log p_c(x_o) - log p_unit(x_o) over the children
     * of a sum unit: which child generated the unit's variables.
     *
     * @param unit a sum unit of {@link #structure()}
     * @return FLOAT32 [B, children of unit]
     */
    public Tensor childPosterior(int unit, Tensor x, Tensor observed) {
        int b = start("childPosterior", x, Objects.requireNonNull(observed, "observed"));
        if (structure.kind(unit) != Kind.SUM) {
            throw new InvalidArgumentException("childPosterior: unit " + unit + " is a " + structure.kind(unit)
                    + " unit, not a sum");
        }
        return Batches.run(x, observed, rows(b), structure.children(unit).length,
                (xb, mb) -> childPosterior(unit, upward(xb, mb, false)));
    }

    private Tensor childPosterior(int unit, Tensor values) {
        int[] ch = structure.children(unit);
        long[] cols = new long[ch.length];
        float[] w = new float[ch.length];
        double[] lw = structure.logWeights(unit);
        for (int a = 0; a < ch.length; a++) {
            cols[a] = column[ch[a]];
            w[a] = (float) lw[a];
        }
        try (TensorScope scope = TensorScope.open()) {
            Tensor children = values.gather(1, backend.of(cols, cols.length)).add(backend.of(w, w.length));
            Tensor self = aboveMinusInfinity(values.slice(1, column[unit], column[unit] + 1));
            return scope.keep(children.sub(self));
        }
    }

    @Override
    public Tensor conditionalMean(Tensor x, Tensor observed) {
        int b = start("conditionalMean", x, Objects.requireNonNull(observed, "observed"));
        return Batches.run(x, observed, rows(b), variables, (xb, mb) -> {
            Tensor weights = leafWeights(xb, mb);
            return mb.where(xb, weights.mul(meanTable).sum(2));
        });
    }

    @Override
    public Tensor conditionalVariance(Tensor x, Tensor observed) {
        int b = start("conditionalVariance", x, Objects.requireNonNull(observed, "observed"));
        return Batches.run(x, observed, rows(b), variables, (xb, mb) -> {
            Tensor weights = leafWeights(xb, mb);
            Tensor mean = weights.mul(meanTable).sum(2).expandDims(2);
            Tensor spread = varianceTable.add(meanTable.sub(mean).square());
            return mb.where(xb.scalarLike(0), weights.mul(spread).sum(2));
        });
    }

    /** P(input active | x_o) arranged per variable: FLOAT32 [b, S, A]. */
    private Tensor leafWeights(Tensor x, Tensor observed) {
        Tensor values = upward(x, observed, false);
        List<Tensor> terms = new ArrayList<>();
        for (Layer layer : layers) {
            if (layer.sum()) {
                Tensor self = aboveMinusInfinity(values.slice(1, layer.firstColumn(),
                        layer.firstColumn() + layer.width())).expandDims(2);
                terms.add(weighted(values, layer).sub(self).reshape(x.shape(0), (long) layer.width() * layer.arity()));
            }
        }
        return perVariable(leafFlows(terms, x.shape(0))).exp();
    }

    @Override
    public Tensor conditionalMode(Tensor x, Tensor observed) {
        int b = start("conditionalMode", x, Objects.requireNonNull(observed, "observed"));
        return Batches.run(x, observed, rows(b), variables, (xb, mb) -> {
            Tensor values = upward(xb, mb, true);
            List<Tensor> terms = new ArrayList<>();
            for (Layer layer : layers) {
                if (layer.sum()) {
                    terms.add(selected(weighted(values, layer).argMax(2), layer));
                }
            }
            Tensor ids = activeLeaves(leafFlows(terms, xb.shape(0)));
            return mb.where(xb, leafMode.gather(0, ids).reshape(xb.shape(0), variables));
        });
    }

    @Override
    protected Tensor draw(Tensor x, Tensor observed, RandomGenerator rng) {
        Tensor values = upward(x, observed, false);
        List<Tensor> terms = new ArrayList<>();
        for (Layer layer : layers) {
            if (layer.sum()) {
                terms.add(selected(backend.sampleCategorical(weighted(values, layer), rng), layer));
            }
        }
        Tensor ids = activeLeaves(leafFlows(terms, x.shape(0)));
        Map<String, Tensor> picked = new LinkedHashMap<>();
        parameters.forEach((k, v) -> picked.put(k, v.gather(0, ids)));
        return observed.where(x, family.sample(picked, rng).reshape(x.shape(0), variables));
    }

    // ---- evaluation -----------------------------------------------------------------------------

    /** Rows per batch, so that the layers' temporaries stay within the memory budget. */
    @Override
    protected int rows(int b) {
        long perRow = columns + 2L * structure.numEdges() + (long) inputs * (eventSize + 3)
                + 3L * variables * perVariable + variables + 1;
        return (int) Math.max(1, Math.min(Math.max(b, 1), ShallowMixture.BUDGET / perRow));
    }

    /**
     * The log-values of every unit, [b, C]: marginal (unobserved inputs at 0) or, with {@code max},
     * max-product (unobserved inputs at their peak log-density, sums taking the best child).
     */
    private Tensor upward(Tensor x, Tensor observed, boolean max) {
        long b = x.shape(0);
        Tensor logDensity = family.logDensity(parameters, x.gather(1, leafVariable));
        if (observed != null) {
            logDensity = observed.gather(1, leafVariable).where(logDensity, max ? leafPeak : x.scalarLike(0));
        }
        Tensor values = backend.concat(List.of(backend.zeros(DType.FLOAT32, b, 1), logDensity), 1);
        for (Layer layer : layers) {
            Tensor out;
            if (layer.sum()) {
                Tensor w = weighted(values, layer);
                out = max ? w.max(2) : w.logSumExp(2);
            } else {
                out = values.gather(1, layer.children()).reshape(b, layer.width(), layer.arity()).sum(2);
            }
            values = backend.concat(List.of(values, out), 1);
        }
        return values;
    }

    /**
     * A parent's log-value with -inf raised to the lowest float, so that child - parent is -inf, not
     * NaN, for evidence of probability zero.
     */
    private static Tensor aboveMinusInfinity(Tensor parentValues) {
        return parentValues.clamp(-Float.MAX_VALUE, Double.POSITIVE_INFINITY);
    }

    /** log w_uc + value(c) for the children of a sum layer: [b, w, a]. */
    private static Tensor weighted(Tensor values, Layer layer) {
        return values.gather(1, layer.children()).reshape(values.shape(0), layer.width(), layer.arity())
                .add(layer.logWeights());
    }

    private Tensor root(Tensor values) {
        int c = column[structure.root()];
        return values.slice(1, c, c + 1).reshape(values.shape(0));
    }

    /** Edge terms 0 for the chosen child of each sum unit of a layer and -inf for the others: [b, w * a]. */
    private Tensor selected(Tensor choice, Layer layer) {
        Tensor slots = backend.arange(layer.arity());
        Tensor hit = choice.expandDims(2).eq(slots);
        return hit.where(backend.full(DType.FLOAT32, 0), backend.full(DType.FLOAT32, Double.NEGATIVE_INFINITY))
                .reshape(choice.shape(0), (long) layer.width() * layer.arity());
    }

    /** The log-flows of the inputs, [b, L], given the sum layers' edge terms in layer order. */
    private Tensor leafFlows(List<Tensor> sumEdgeTerms, long b) {
        List<Tensor> all = new ArrayList<>();
        all.add(backend.zeros(DType.FLOAT32, b, 1));
        all.addAll(sumEdgeTerms);
        Tensor edges = all.size() == 1 ? all.get(0) : backend.concat(all, 1);
        Tensor flows = backend.concat(List.of(backend.full(DType.FLOAT32, Double.NEGATIVE_INFINITY, b, 1),
                backend.zeros(DType.FLOAT32, b, 1)), 1);
        for (Group g : groups) {
            Tensor in = flows.gather(1, g.parents()).add(edges.gather(1, g.edges()));
            flows = backend.concat(List.of(flows, in.reshape(b, g.width(), g.inDegree()).logSumExp(2)), 1);
        }
        return flows.slice(1, leafFlowStart, leafFlowStart + inputs);
    }

    /** Input log-flows [b, L] arranged per variable, [b, S, A], padding at -inf. */
    private Tensor perVariable(Tensor leafFlows) {
        long b = leafFlows.shape(0);
        Tensor padded = backend.concat(List.of(leafFlows, backend.full(DType.FLOAT32, Double.NEGATIVE_INFINITY, b, 1)),
                1);
        return padded.gather(1, variableLeaves).reshape(b, variables, perVariable);
    }

    /** The active input of every variable given 0/-inf flows: INT64 [b * S] input numbers. */
    private Tensor activeLeaves(Tensor leafFlows) {
        Tensor slot = perVariable(leafFlows).argMax(2).add(slotBase);
        return leafIds.gather(0, slot.reshape(-1));
    }
}
