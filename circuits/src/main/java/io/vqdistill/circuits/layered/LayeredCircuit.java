package io.vqdistill.circuits.layered;

import io.vqdistill.api.Backend;
import io.vqdistill.api.DType;
import io.vqdistill.api.InvalidArgumentException;
import io.vqdistill.api.ReduceOp;
import io.vqdistill.api.Shapes;
import io.vqdistill.api.Tensor;
import io.vqdistill.api.TensorScope;
import io.vqdistill.api.circuit.LeafFamily;
import io.vqdistill.api.circuit.LeafParameters;
import io.vqdistill.circuits.BatchedCircuit;
import io.vqdistill.circuits.Batches;
import io.vqdistill.circuits.CircuitBuilder;
import io.vqdistill.circuits.DagCircuit;
import io.vqdistill.circuits.ShallowMixture;
import io.vqdistill.circuits.leaf.CategoricalFamily;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.random.RandomGenerator;

/**
 * An Einsum network (Peharz et al., 2020): a circuit over a {@link RegionGraph} whose units are
 * grouped by region and whose regions are grouped into layers by depth, every layer evaluated with a
 * few batched tensor operations, never one object per unit.
 *
 * <h2>Units</h2>
 * Each leaf region holds I input distributions, each fully factorised over the region's pixels: input
 * i of region r has log-density sum over pixels s in r of log f(x_s; theta_{s,i}), with one leaf of
 * the family per pixel and i (leaf parameters of leading shape [S, I]). With several piece sizes leaf
 * regions overlap, and the leaf regions that hold a pixel share its leaves. Each inner region holds K
 * sum units (the root one); sum unit k of region r mixes every product of its partitions, one
 * product per partition p and pair (i, j) of units of the two halves, with weights w[r, p, k, i, j]
 * that sum to 1 over (p, i, j).
 *
 * <h2>Layout and evaluation</h2>
 * Region values are one tensor [regions, B, W] of log-values, W = max(I, K), slots a region does not
 * have at -inf; row 0 is a padding region of -inf. A layer of R regions with at most P partitions
 * gathers the halves of every partition, forms the outer sums [R, P, B, W*W] (log-products), and
 * computes every sum unit with the log-sum-exp trick as one batched matrix product: subtract the
 * maximum over (p, i, j), exponentiate, multiply by the weights [R, P, W*W, K], add over p, take the
 * log and add the maximum back. Padded partitions and slots have weight 0.
 *
 * <h2>Queries</h2>
 * Marginals set the log-density of unobserved pixels to 0. The downward pass computes each unit's
 * flow (the posterior probability that it lies in the induced tree that generated x, given x_o)
 * region by region with the same matrix products; conditional means and variances mix the leaves'
 * moments by the flows of their inputs; the EM statistics are the flows of the edges summed over the
 * batch. The mode runs max-product upwards and backtracks the best child of each active sum unit;
 * sampling draws that child from its posterior. Both follow one active unit per region, so they need
 * only [R, B, P*W*W] scores per layer.
 *
 * <p>The circuit owns its tensors, which belong to no {@link TensorScope} (a scope open while it is
 * created does not close them), and releases them on {@link #close()}. Not thread-safe.
 */
public final class LayeredCircuit extends BatchedCircuit {

    /** One inner layer: the regions of one depth. */
    private record Layer(int[] regions, int width, int partitions, int kOut, int edgeOffset, Tensor left,
                         Tensor right, Tensor weights, Tensor weightsT, Tensor rows, Tensor logRows, Tensor incoming,
                         int maxIn, long freeWeights) {
    }

    /** What the upward pass keeps of one layer for the downward pass. */
    private record Pass(Tensor logProducts, Tensor max, Tensor scaled, Tensor sums) {
    }

    private final LayeredSpec spec;
    private final RegionGraph graph;
    private final int leaves;
    private final int slots;
    private final Map<String, Tensor> columns = new LinkedHashMap<>();
    private final Map<String, Tensor> flat = new LinkedHashMap<>();
    private final List<Layer> layers = new ArrayList<>();
    private final int leafRegions;
    private final int maxLeafSize;
    private Tensor pixelIndex;
    private Tensor pixelCover;
    private int maxCover;
    private Tensor leafIncoming;
    private int leafMaxIn;
    private Tensor rootChildren;
    private Tensor logitsByLevel;
    private Tensor leafPeak;
    private Tensor leafMode;
    private Tensor leafMean;
    private Tensor leafVariance;
    private long perRow;

    private LayeredCircuit(LayeredSpec spec, LeafFamily family, Map<String, Tensor> leafParameters,
                           List<Tensor> sumWeights) {
        super(family, leafParameters, Objects.requireNonNull(spec, "spec").variables());
        parameters.values().forEach(TensorScope::detach);
        this.spec = spec;
        this.graph = spec.graph();
        this.leaves = spec.leaves();
        this.slots = Math.max(spec.leaves(), spec.sums());
        Tensor first = parameters.values().iterator().next();
        int[] leafIds = graph.regionsAtDepth(0);
        this.leafRegions = leafIds.length;
        this.maxLeafSize = Arrays.stream(leafIds).map(r -> graph.pixels(r).length).max().orElse(1);
        try {
            long[] lead = Arrays.copyOf(first.shape(), first.rank() - family.parameters().get(0).eventShape().length);
            if (!Arrays.equals(lead, new long[] {variables, leaves})) {
                throw new InvalidArgumentException("an Einsum network of " + spec + " needs leaf parameters of leading"
                        + " shape [" + variables + ", " + leaves + "], found " + Shapes.format(lead));
            }
            Objects.requireNonNull(sumWeights, "sumWeights");
            if (sumWeights.size() != graph.maxDepth()) {
                throw new InvalidArgumentException("an Einsum network of " + spec + " has " + graph.maxDepth()
                        + " sum layers, found " + sumWeights.size() + " weight tensors");
            }
            compileLeaves(leafIds);
            compileLayers(sumWeights);
        } catch (RuntimeException e) {
            closeOwned();
            throw e;
        }
    }

    /**
     * An Einsum network of {@code spec} with leaves of {@code family}.
     *
     * @param leafParameters the family's parameters with leading shape [S, I]: row s, column i is the
     *                       leaf of pixel s in input distribution i of the pixel's leaf region; the
     *                       circuit keeps prepared copies, the caller still owns these
     * @param sumWeights     one FLOAT32 tensor per sum layer, bottom up, of the shape
     *                       {@link #weightShape(LayeredSpec, int)} gives: non-negative, 0 at padded
     *                       partitions and slots, summing to 1 (within 1e-3; renormalised) per sum unit;
     *                       the circuit keeps copies, the caller still owns these
     * @throws InvalidArgumentException for missing, misshaped, negative or non-normalised parameters
     */
    public static LayeredCircuit create(LayeredSpec spec, LeafFamily family, Map<String, Tensor> leafParameters,
                                        List<Tensor> sumWeights) {
        return new LayeredCircuit(spec, family, leafParameters, sumWeights);
    }

    /**
     * The shape of the weights of sum layer {@code layer} (0 for the lowest): [R, P, K_out, W, W] for R
     * regions with at most P partitions, K_out sum units per region (1 at the root) and W = max(I, K).
     */
    public static long[] weightShape(LayeredSpec spec, int layer) {
        RegionGraph g = spec.graph();
        return weightShape(spec, g, g.regionsAtDepth(layer + 1));
    }

    private static long[] weightShape(LayeredSpec spec, RegionGraph g, int[] regions) {
        int p = Arrays.stream(regions).map(r -> g.partitions(r).size()).max().orElse(1);
        int w = Math.max(spec.leaves(), spec.sums());
        int kOut = regions.length == 1 && regions[0] == g.root() ? 1 : spec.sums();
        return new long[] {regions.length, p, kOut, w, w};
    }

    /**
     * Random sum weights for {@code spec}: every real weight drawn from U(0.01, 0.99) and normalised
     * per sum unit, padding 0. One FLOAT32 tensor per layer, owned by the caller.
     */
    public static List<Tensor> randomWeights(LayeredSpec spec, Backend backend, RandomGenerator rng) {
        RegionGraph g = spec.graph();
        List<Tensor> out = new ArrayList<>();
        for (int d = 1; d <= g.maxDepth(); d++) {
            int[] regions = g.regionsAtDepth(d);
            long[] shape = weightShape(spec, g, regions);
            float[] mask = mask(spec, g, regions, shape);
            float[] w = new float[mask.length];
            for (int i = 0; i < w.length; i++) {
                w[i] = mask[i] * (0.01f + 0.98f * rng.nextFloat());
            }
            normalise(w, shape, "random weights");
            out.add(backend.of(w, shape));
        }
        return out;
    }

    /** 1 where a weight of a layer of {@code shape} exists, 0 at padded partitions and slots. */
    private static float[] mask(LayeredSpec spec, RegionGraph g, int[] regions, long[] shape) {
        int p = (int) shape[1];
        int k = (int) shape[2];
        int w = (int) shape[3];
        float[] mask = new float[(int) Shapes.size(shape)];
        for (int r = 0; r < regions.length; r++) {
            List<RegionGraph.Partition> parts = g.partitions(regions[r]);
            for (int q = 0; q < parts.size(); q++) {
                int wl = width(spec, g, parts.get(q).left());
                int wr = width(spec, g, parts.get(q).right());
                for (int o = 0; o < k; o++) {
                    int base = (((r * p + q) * k) + o) * w * w;
                    for (int i = 0; i < wl; i++) {
                        for (int j = 0; j < wr; j++) {
                            mask[base + i * w + j] = 1;
                        }
                    }
                }
            }
        }
        return mask;
    }

    /** The units a region holds: I for a leaf region, 1 for the root, K otherwise. */
    private static int width(LayeredSpec spec, RegionGraph g, int region) {
        return g.depth(region) == 0 ? spec.leaves() : region == g.root() ? 1 : spec.sums();
    }

    /**
     * Divides the weights of each sum unit by their total in place.
     *
     * @return the largest |total - 1| seen
     */
    private static double normalise(float[] w, long[] shape, String what) {
        int p = (int) shape[1];
        int k = (int) shape[2];
        int ww = (int) (shape[3] * shape[4]);
        double worst = 0;
        for (int r = 0; r < shape[0]; r++) {
            for (int o = 0; o < k; o++) {
                double total = 0;
                for (int q = 0; q < p; q++) {
                    int base = ((r * p + q) * k + o) * ww;
                    for (int e = 0; e < ww; e++) {
                        total += w[base + e];
                    }
                }
                if (!(total > 0)) {
                    throw new InvalidArgumentException(what + ": the weights of sum unit " + o + " of region " + r
                            + " of its layer sum to " + total);
                }
                worst = Math.max(worst, Math.abs(total - 1));
                for (int q = 0; q < p; q++) {
                    int base = ((r * p + q) * k + o) * ww;
                    for (int e = 0; e < ww; e++) {
                        w[base + e] = (float) (w[base + e] / total);
                    }
                }
            }
        }
        return worst;
    }

    /** Owns {@code t}, detached from any open scope. */
    private Tensor detached(Tensor t) {
        own(TensorScope.detach(t));
        return t;
    }

    private Tensor indices(int[] values, long... shape) {
        long[] v = new long[values.length];
        for (int i = 0; i < v.length; i++) {
            v[i] = values[i];
        }
        return detached(backend.of(v, shape.length == 0 ? new long[] {v.length} : shape));
    }

    private void compileLeaves(int[] leafIds) {
        int[] index = new int[leafRegions * maxLeafSize];
        List<List<Integer>> cover = new ArrayList<>();
        for (int s = 0; s < variables; s++) {
            cover.add(new ArrayList<>());
        }
        Arrays.fill(index, variables);
        for (int r = 0; r < leafRegions; r++) {
            int[] px = graph.pixels(leafIds[r]);
            for (int a = 0; a < px.length; a++) {
                index[r * maxLeafSize + a] = px[a];
                cover.get(px[a]).add(r);
            }
        }
        pixelIndex = indices(index);
        maxCover = cover.stream().mapToInt(List::size).max().orElse(1);
        int[] covering = new int[variables * maxCover];
        Arrays.fill(covering, leafRegions);
        for (int s = 0; s < variables; s++) {
            for (int a = 0; a < cover.get(s).size(); a++) {
                covering[s * maxCover + a] = cover.get(s).get(a);
            }
        }
        pixelCover = indices(covering);
        try (TensorScope scope = TensorScope.open()) {
            for (LeafFamily.Parameter p : family.parameters()) {
                Tensor t = parameters.get(p.name());
                long[] shape = t.shape();
                long[] col = new long[shape.length + 1];
                col[0] = variables;
                col[1] = 1;
                System.arraycopy(shape, 1, col, 2, shape.length - 1);
                columns.put(p.name(), detached(scope.keep(t.reshape(col))));
                long[] f = new long[shape.length - 1];
                f[0] = (long) variables * leaves;
                System.arraycopy(shape, 2, f, 1, shape.length - 2);
                flat.put(p.name(), detached(scope.keep(t.reshape(f))));
            }
            if (family instanceof CategoricalFamily) {
                logitsByLevel = detached(scope.keep(parameters.get("logits").transpose(0, 2, 1)));
            }
            Tensor mode = family.mode(parameters);
            leafMode = detached(scope.keep(mode.reshape(-1)));
            leafPeak = detached(scope.keep(family.logDensity(parameters, mode).reshape(variables, 1, leaves)));
            leafMean = detached(scope.keep(family.mean(parameters).reshape(variables, 1, leaves)));
            leafVariance = detached(scope.keep(family.variance(parameters).reshape(variables, 1, leaves)));
        }
    }

    private void compileLayers(List<Tensor> sumWeights) {
        int depth = graph.maxDepth();
        int[] row = new int[graph.numRegions()];
        int[] leafIds = graph.regionsAtDepth(0);
        for (int i = 0; i < leafIds.length; i++) {
            row[leafIds[i]] = 1 + i;
        }
        int next = 1 + leafIds.length;
        List<int[]> byDepth = new ArrayList<>();
        byDepth.add(leafIds);
        for (int d = 1; d <= depth; d++) {
            int[] regions = graph.regionsAtDepth(d);
            byDepth.add(regions);
            for (int i = 0; i < regions.length; i++) {
                row[regions[i]] = next + i;
            }
            next += regions.length;
        }
        int[] edgeOffset = new int[depth + 1];
        int off = 1;
        for (int d = depth; d >= 1; d--) {
            edgeOffset[d] = off;
            long[] shape = weightShape(spec, graph, byDepth.get(d));
            off += (int) (2 * shape[0] * shape[1]);
        }
        List<List<Integer>> incoming = new ArrayList<>();
        for (int i = 0; i < graph.numRegions(); i++) {
            incoming.add(new ArrayList<>());
        }
        for (int d = 1; d <= depth; d++) {
            int[] regions = byDepth.get(d);
            long[] shape = weightShape(spec, graph, regions);
            int p = (int) shape[1];
            for (int r = 0; r < regions.length; r++) {
                List<RegionGraph.Partition> parts = graph.partitions(regions[r]);
                for (int q = 0; q < parts.size(); q++) {
                    incoming.get(parts.get(q).left()).add(edgeOffset[d] + r * p + q);
                    incoming.get(parts.get(q).right()).add(edgeOffset[d] + regions.length * p + r * p + q);
                }
            }
        }
        long ww = (long) slots * slots;
        perRow = (long) variables * leaves * 4 + (long) leafRegions * maxLeafSize * leaves + off * (long) slots;
        for (int d = 1; d <= depth; d++) {
            int[] regions = byDepth.get(d);
            long[] shape = weightShape(spec, graph, regions);
            int r = regions.length;
            int p = (int) shape[1];
            int kOut = (int) shape[2];
            Tensor given = sumWeights.get(d - 1);
            if (given.dtype() != DType.FLOAT32 || !Arrays.equals(given.shape(), shape)) {
                throw new InvalidArgumentException("sum layer " + (d - 1) + " needs float32 weights of shape "
                        + Shapes.format(shape) + ", found " + given.dtype().label() + " " + Shapes.format(given.shape()));
            }
            float[] w = given.toFloatArray();
            float[] mask = mask(spec, graph, regions, shape);
            long free = 0;
            for (int i = 0; i < w.length; i++) {
                if (!(w[i] >= 0) || Float.isInfinite(w[i])) {
                    throw new InvalidArgumentException("sum layer " + (d - 1) + " has weight " + w[i] + " at "
                            + LeafParameters.position(i, shape) + "; weights must be finite"
                            + " and >= 0");
                }
                if (mask[i] == 0 && w[i] != 0) {
                    throw new InvalidArgumentException("sum layer " + (d - 1) + " has weight " + w[i] + " at "
                            + LeafParameters.position(i, shape) + ", a padded partition or"
                            + " slot, which must be 0");
                }
                free += (long) mask[i];
            }
            free -= (long) r * kOut;
            double worst = normalise(w, shape, "sum layer " + (d - 1));
            if (worst > 1e-3) {
                throw new InvalidArgumentException("sum layer " + (d - 1) + ": the weights of a sum unit sum to 1 +- "
                        + worst + ", expected within 1e-3 of 1");
            }
            int[] left = new int[r * p];
            int[] right = new int[r * p];
            for (int i = 0; i < r; i++) {
                List<RegionGraph.Partition> parts = graph.partitions(regions[i]);
                for (int q = 0; q < parts.size(); q++) {
                    left[i * p + q] = row[parts.get(q).left()];
                    right[i * p + q] = row[parts.get(q).right()];
                }
            }
            int maxIn = Math.max(1, Arrays.stream(regions).map(x -> incoming.get(x).size()).max().orElse(1));
            int[] in = new int[r * maxIn];
            for (int i = 0; i < r; i++) {
                List<Integer> list = incoming.get(regions[i]);
                for (int a = 0; a < list.size(); a++) {
                    in[i * maxIn + a] = list.get(a);
                }
            }
            Tensor weights;
            Tensor weightsT;
            Tensor rows;
            Tensor logRows;
            try (TensorScope scope = TensorScope.open()) {
                weights = detached(scope.keep(backend.of(w, r, p, kOut, ww)));
                weightsT = detached(scope.keep(weights.transposeLast()));
                rows = detached(scope.keep(weights.transpose(0, 2, 1, 3).reshape((long) r * kOut, p * ww)));
                logRows = detached(scope.keep(rows.log().reshape(r, 1, kOut, p * ww)));
            }
            layers.add(new Layer(regions, r, p, kOut, edgeOffset[d], indices(left), indices(right), weights, weightsT,
                    rows, logRows, indices(in), maxIn, free));
            perRow += (long) r * p * ww * 4 + (long) r * kOut * (p * ww + 4);
        }
        int maxIn = Math.max(1, Arrays.stream(leafIds).map(x -> incoming.get(x).size()).max().orElse(1));
        int[] in = new int[leafIds.length * maxIn];
        for (int i = 0; i < leafIds.length; i++) {
            List<Integer> list = incoming.get(leafIds[i]);
            for (int a = 0; a < list.size(); a++) {
                in[i * maxIn + a] = list.get(a);
            }
        }
        leafIncoming = indices(in);
        leafMaxIn = maxIn;
        List<Integer> children = new ArrayList<>();
        List<RegionGraph.Partition> parts = graph.partitions(graph.root());
        for (int q = 0; q < parts.size(); q++) {
            int wl = width(spec, graph, parts.get(q).left());
            int wr = width(spec, graph, parts.get(q).right());
            for (int i = 0; i < wl; i++) {
                for (int j = 0; j < wr; j++) {
                    children.add((int) (q * ww + (long) i * slots + j));
                }
            }
        }
        rootChildren = indices(children.stream().mapToInt(Integer::intValue).toArray());
    }

    // ---- accessors ------------------------------------------------------------------------------

    /** The shape of this network. */
    public LayeredSpec spec() {
        return spec;
    }

    /** The region graph. */
    public RegionGraph graph() {
        return graph;
    }

    /**
     * The normalised sum weights, one new tensor per layer bottom up, each of shape
     * {@link #weightShape(LayeredSpec, int)}; owned by the caller.
     */
    public List<Tensor> sumWeights() {
        requireOpen("sumWeights");
        List<Tensor> out = new ArrayList<>();
        for (Layer l : layers) {
            out.add(l.weights().reshape(weightShape(spec, graph, l.regions())));
        }
        return out;
    }

    /** The number of sum layers. */
    public int numLayers() {
        return layers.size();
    }

    @Override
    public long parameterCount() {
        long count = leafParameterCount();
        for (Layer l : layers) {
            count += l.freeWeights();
        }
        return count;
    }

    @Override
    public String toString() {
        return "LayeredCircuit[" + spec + ", " + graph.numRegions() + " regions, " + layers.size() + " sum layers, "
                + family + " leaves on " + backend.name() + "]";
    }

    // ---- queries --------------------------------------------------------------------------------

    @Override
    public Tensor logLikelihood(Tensor x) {
        int b = start("logLikelihood", x, null);
        return Batches.run(x, null, rows(b), -1, (xb, mb) -> rootValue(upward(xb, null, false, null)));
    }

    @Override
    public Tensor marginalLogLikelihood(Tensor x, Tensor observed) {
        int b = start("marginalLogLikelihood", x, Objects.requireNonNull(observed, "observed"));
        return Batches.run(x, observed, rows(b), -1, (xb, mb) -> rootValue(upward(xb, mb, false, null)));
    }

    @Override
    public Tensor componentPosterior(Tensor x, Tensor observed) {
        int b = start("componentPosterior", x, Objects.requireNonNull(observed, "observed"));
        Layer root = layers.get(layers.size() - 1);
        return Batches.run(x, observed, rows(b), rootChildren.size(), (xb, mb) -> {
            List<Pass> passes = new ArrayList<>();
            upward(xb, mb, false, passes);
            Pass top = passes.get(passes.size() - 1);
            Tensor inverse = top.sums().scalarLike(1).div(top.sums()).expandDims(1);
            Tensor flows = top.scaled().mul(inverse.matmul(root.weights()));
            long all = (long) root.partitions() * slots * slots;
            return flows.log().transpose(0, 2, 1, 3).reshape(xb.shape(0), all).gather(1, rootChildren);
        });
    }

    @Override
    public Tensor conditionalMean(Tensor x, Tensor observed) {
        int b = start("conditionalMean", x, Objects.requireNonNull(observed, "observed"));
        return Batches.run(x, observed, rows(b), variables, (xb, mb) -> {
            Tensor w = pixelFlows(xb, mb);
            return mb.where(xb, w.mul(leafMean).sum(2).transpose(1, 0));
        });
    }

    @Override
    public Tensor conditionalVariance(Tensor x, Tensor observed) {
        int b = start("conditionalVariance", x, Objects.requireNonNull(observed, "observed"));
        return Batches.run(x, observed, rows(b), variables, (xb, mb) -> {
            Tensor w = pixelFlows(xb, mb);
            Tensor mean = w.mul(leafMean).sum(2).expandDims(2);
            Tensor spread = leafVariance.add(leafMean.sub(mean).square());
            return mb.where(xb.scalarLike(0), w.mul(spread).sum(2).transpose(1, 0));
        });
    }

    @Override
    public Tensor conditionalMode(Tensor x, Tensor observed) {
        int b = start("conditionalMode", x, Objects.requireNonNull(observed, "observed"));
        return Batches.run(x, observed, rows(b), variables, (xb, mb) -> {
            Tensor chosen = select(xb, mb, true, null);
            return mb.where(xb, leafMode.gather(0, chosen).reshape(variables, xb.shape(0)).transpose(1, 0));
        });
    }

    @Override
    protected Tensor draw(Tensor x, Tensor observed, RandomGenerator rng) {
        Tensor chosen = select(x, observed, false, rng);
        Map<String, Tensor> picked = new LinkedHashMap<>();
        flat.forEach((k, v) -> picked.put(k, v.gather(0, chosen)));
        Tensor drawn = family.sample(picked, rng).reshape(variables, x.shape(0)).transpose(1, 0);
        return observed.where(x, drawn);
    }

    // ---- EM -------------------------------------------------------------------------------------

    /**
     * The expected sufficient statistics of complete observations {@code x} (one E-step over a batch):
     * for every sum unit the expected number of times each child is chosen, for every leaf the
     * flow-weighted statistics of its pixel, and the batch's log-likelihood. The caller closes them.
     *
     * @param x FLOAT32 [B, S]
     * @throws InvalidArgumentException for leaves other than gaussian and categorical
     */
    public EmStatistics expectedStatistics(Tensor x) {
        int b = start("expectedStatistics", x, null);
        EmStatistics.requireSupported(family);
        if (b == 0) {
            throw new InvalidArgumentException("expectedStatistics: no images");
        }
        EmStatistics total = null;
        int rows = rows(b);
        try {
            for (long start = 0; start < b; start += rows) {
                long from = start;
                long to = Math.min(b, start + rows);
                EmStatistics part = TensorScope.outside(() -> {
                    try (TensorScope scope = TensorScope.open()) {
                        Tensor xb = x.slice(0, from, to);
                        List<Pass> passes = new ArrayList<>();
                        Tensor logLikelihood = rootValue(upward(xb, null, false, passes)).sumAll();
                        List<Tensor> counts = new ArrayList<>();
                        Tensor flows = perPixel(downward(passes, xb.shape(0), counts));
                        return EmStatistics.of(family, xb, flows, counts, logLikelihood, to - from).keptBy(scope);
                    }
                });
                if (total == null) {
                    total = part;
                } else {
                    total.add(part);
                }
            }
            return total;
        } catch (RuntimeException e) {
            if (total != null) {
                total.close();
            }
            throw e;
        }
    }

    /**
     * One stepwise M-step: every parameter moves from its current value towards the maximum of the
     * expected log-likelihood, {@code new = (1 - step) old + step * argmax}, on the sum weights and on
     * the leaves' expectation parameters (Gaussian: E[x] and E[x^2], the variance then clamped by the
     * family; categorical: the level probabilities, with {@code pseudoCount} added to every level's
     * expected count). A unit or leaf that no statistic reached keeps its value.
     *
     * @param step        in (0, 1]; 1 is a full EM step
     * @param pseudoCount >= 0, categorical leaves only
     * @return a new circuit, owned by the caller; this one stays open
     */
    public LayeredCircuit emStep(EmStatistics statistics, double step, double pseudoCount) {
        requireOpen("emStep");
        if (!(step > 0 && step <= 1)) {
            throw InvalidArgumentException.of("EM step size", step, "in (0, 1]");
        }
        if (!(pseudoCount >= 0) || Double.isInfinite(pseudoCount)) {
            throw InvalidArgumentException.of("pseudo-count", pseudoCount, "finite and >= 0");
        }
        List<Tensor> weights = new ArrayList<>();
        Map<String, Tensor> leaf;
        try (TensorScope scope = TensorScope.open()) {
            for (int i = 0; i < layers.size(); i++) {
                Tensor old = layers.get(i).weights();
                Tensor counts = statistics.weightCounts().get(i);
                Tensor total = counts.sum(3).sum(1).reshape(old.shape(0), 1, old.shape(2), 1);
                Tensor reached = total.gt(total.scalarLike(0));
                Tensor target = reached.where(counts.div(total.maximum(total.scalarLike(Float.MIN_NORMAL))), old);
                Tensor mixed = old.mul(1 - step).add(target.mul(step));
                long[] shape = weightShape(spec, graph, layers.get(i).regions());
                weights.add(scope.keep(mixed.reshape(shape)));
            }
            leaf = statistics.leafUpdate(family, parameters, step, pseudoCount);
            leaf.values().forEach(scope::keep);
        }
        try {
            return TensorScope.outside(() -> create(spec, family, leaf, weights));
        } finally {
            weights.forEach(Tensor::close);
            leaf.values().forEach(Tensor::close);
        }
    }

    // ---- the same structure as a DAG ------------------------------------------------------------

    /**
     * This network as a {@link DagCircuit}, one unit per input, product and sum: the same
     * distribution in the general representation (S * I inputs, one product per leaf-region input,
     * one product per partition and pair of units, one sum unit per region and slot). For
     * cross-checks and for timing the general representation; it holds one object per unit, so keep
     * the structure small. The caller closes it.
     */
    public DagCircuit toDag() {
        requireOpen("toDag");
        CircuitBuilder b = new CircuitBuilder(variables);
        int[][] inputOf = new int[variables][leaves];
        for (int s = 0; s < variables; s++) {
            for (int i = 0; i < leaves; i++) {
                inputOf[s][i] = b.input(s);
            }
        }
        int[][] unit = new int[graph.numRegions()][];
        for (int r : graph.regionsAtDepth(0)) {
            int[] px = graph.pixels(r);
            unit[r] = new int[leaves];
            for (int i = 0; i < leaves; i++) {
                int[] kids = new int[px.length];
                for (int a = 0; a < px.length; a++) {
                    kids[a] = inputOf[px[a]][i];
                }
                unit[r][i] = b.product(kids);
            }
        }
        for (Layer layer : layers) {
            float[] w = layer.weights().toFloatArray();
            long ww = (long) slots * slots;
            for (int ri = 0; ri < layer.width(); ri++) {
                int region = layer.regions()[ri];
                List<RegionGraph.Partition> parts = graph.partitions(region);
                List<Integer> products = new ArrayList<>();
                List<Integer> position = new ArrayList<>();
                for (int q = 0; q < parts.size(); q++) {
                    int[] l = unit[parts.get(q).left()];
                    int[] r = unit[parts.get(q).right()];
                    for (int i = 0; i < l.length; i++) {
                        for (int j = 0; j < r.length; j++) {
                            products.add(b.product(l[i], r[j]));
                            position.add((int) (q * ww + (long) i * slots + j));
                        }
                    }
                }
                int[] kids = products.stream().mapToInt(Integer::intValue).toArray();
                unit[region] = new int[layer.kOut()];
                for (int k = 0; k < layer.kOut(); k++) {
                    double[] lw = new double[kids.length];
                    for (int c = 0; c < kids.length; c++) {
                        int q = (int) (position.get(c) / ww);
                        int e = (int) (position.get(c) % ww);
                        long at = (((long) ri * layer.partitions() + q) * layer.kOut() + k) * ww + e;
                        lw[c] = Math.log(w[(int) at]);
                    }
                    unit[region][k] = b.normalisedSum(kids, lw);
                }
            }
        }
        return DagCircuit.create(b.build(), family, flat);
    }

    // ---- evaluation -----------------------------------------------------------------------------

    /** Rows per batch, so that the layers' temporaries stay within the memory budget. */
    @Override
    protected int rows(int b) {
        return (int) Math.max(1, Math.min(Math.max(b, 1), ShallowMixture.BUDGET / Math.max(1, perRow)));
    }

    /** log f(x_s; theta_{s,i}): [S, b, I]; x already [S, b, 1] and inside the support. */
    private Tensor leafLogDensity(Tensor column) {
        if (logitsByLevel != null) {
            Tensor levels = column.toType(DType.INT64).add(backend.zeros(DType.INT64, 1, 1, leaves));
            return logitsByLevel.takeAlong(1, levels);
        }
        return family.logDensity(columns, column);
    }

    /** Leaf-region values [R_leaf, b, W]. */
    private Tensor leafValues(Tensor x, Tensor observed, boolean max) {
        long b = x.shape(0);
        Tensor clean = observed == null ? x : observed.where(x, x.scalarLike(0));
        Tensor logDensity = leafLogDensity(clean.transpose(1, 0).expandDims(2));
        if (observed != null) {
            Tensor mask = observed.transpose(1, 0).expandDims(2);
            logDensity = mask.where(logDensity, max ? leafPeak : logDensity.scalarLike(0));
        }
        Tensor padded = backend.concat(List.of(logDensity, backend.zeros(DType.FLOAT32, 1, b, leaves)), 0);
        Tensor sums = padded.gather(0, pixelIndex).reshape(leafRegions, maxLeafSize, b, leaves).sum(1);
        return pad(sums, leaves);
    }

    /** [R, b, width] padded to [R, b, W] with -inf. */
    private Tensor pad(Tensor t, int width) {
        if (width == slots) {
            return t;
        }
        return backend.concat(List.of(t, backend.full(DType.FLOAT32, Double.NEGATIVE_INFINITY, t.shape(0),
                t.shape(1), slots - width)), 2);
    }

    /**
     * The log-values of every region, bottom up: marginal (unobserved leaves at 0) or, with
     * {@code max}, max-product (unobserved leaves at their peak, sums taking the best child). Returns
     * the root's values [1, b, 1]; with {@code passes} it records what the downward pass needs.
     */
    private Tensor upward(Tensor x, Tensor observed, boolean max, List<Pass> passes) {
        long b = x.shape(0);
        Tensor values = backend.concat(List.of(backend.full(DType.FLOAT32, Double.NEGATIVE_INFINITY, 1, b, slots),
                leafValues(x, observed, max)), 0);
        Tensor out = null;
        long ww = (long) slots * slots;
        for (Layer layer : layers) {
            int r = layer.width();
            int p = layer.partitions();
            Tensor left = values.gather(0, layer.left()).reshape(r, p, b, slots, 1);
            Tensor right = values.gather(0, layer.right()).reshape(r, p, b, 1, slots);
            Tensor logProducts = left.add(right).reshape(r, p, b, ww);
            if (max) {
                Tensor scores = logProducts.transpose(0, 2, 1, 3).reshape(r, b, 1, p * ww).add(layer.logRows());
                out = scores.max(3);
                if (passes != null) {
                    passes.add(new Pass(logProducts, null, null, null));
                }
            } else {
                Tensor m = logProducts.reduce(ReduceOp.MAX, 3, true)
                        .reduce(ReduceOp.MAX, 1, true)
                        .clamp(-Float.MAX_VALUE, Double.POSITIVE_INFINITY);
                Tensor scaled = logProducts.sub(m).exp();
                Tensor sums = scaled.matmul(layer.weightsT()).sum(1);
                out = sums.log().add(m.squeeze(1));
                if (passes != null) {
                    passes.add(new Pass(logProducts, m, scaled, sums));
                }
            }
            values = backend.concat(List.of(values, pad(out, layer.kOut())), 0);
        }
        return out;
    }

    private static Tensor rootValue(Tensor root) {
        return root.reshape(root.shape(1));
    }

    /** Sum over each region's incoming edges: [R, b, W]. */
    private static Tensor gatherFlows(Tensor edges, Tensor incoming, int regions, int maxIn, long b, int slots) {
        return edges.gather(0, incoming).reshape(regions, maxIn, b, slots).sum(1);
    }

    /**
     * The posterior flows of the leaf-region inputs, [R_leaf, b, I], from a marginal upward pass;
     * with {@code counts} it appends each layer's expected edge counts [R, P, K_out, W*W], bottom up.
     */
    private Tensor downward(List<Pass> passes, long b, List<Tensor> counts) {
        List<Tensor> edges = new ArrayList<>();
        edges.add(backend.zeros(DType.FLOAT32, 1, b, slots));
        Tensor[] layerCounts = new Tensor[layers.size()];
        for (int li = layers.size() - 1; li >= 0; li--) {
            Layer layer = layers.get(li);
            Pass pass = passes.get(li);
            int r = layer.width();
            int p = layer.partitions();
            Tensor f = li == layers.size() - 1 ? backend.full(DType.FLOAT32, 1, 1, b, 1)
                    : gatherFlows(backend.concat(edges, 0), layer.incoming(), r, layer.maxIn(), b, slots)
                    .slice(2, 0, layer.kOut());
            Tensor positive = pass.sums().gt(pass.sums().scalarLike(0));
            Tensor a = positive.where(f.div(pass.sums().maximum(pass.sums().scalarLike(Float.MIN_NORMAL))),
                    f.scalarLike(0)).expandDims(1);
            Tensor flows = pass.scaled().mul(a.matmul(layer.weights()));
            if (counts != null) {
                layerCounts[li] = layer.weights().mul(a.transposeLast().matmul(pass.scaled()));
            }
            Tensor five = flows.reshape(r, p, b, slots, slots);
            edges.add(five.sum(4).reshape((long) r * p, b, slots));
            edges.add(five.sum(3).reshape((long) r * p, b, slots));
        }
        if (counts != null) {
            counts.addAll(Arrays.asList(layerCounts));
        }
        return gatherFlows(backend.concat(edges, 0), leafIncoming, leafRegions, leafMaxIn, b, slots)
                .slice(2, 0, leaves);
    }

    /** P(the leaf of pixel s and input i is active | x_o): [S, b, I]. */
    private Tensor pixelFlows(Tensor x, Tensor observed) {
        List<Pass> passes = new ArrayList<>();
        upward(x, observed, false, passes);
        return perPixel(downward(passes, x.shape(0), null));
    }

    /**
     * Leaf-region flows [R_leaf, b, I] summed per pixel over the leaf regions that hold it (with
     * several piece sizes leaf regions overlap, and the leaves of a pixel are shared): [S, b, I].
     */
    private Tensor perPixel(Tensor leafFlows) {
        long b = leafFlows.shape(1);
        Tensor padded = backend.concat(List.of(leafFlows, backend.zeros(DType.FLOAT32, 1, b, leaves)), 0);
        return padded.gather(0, pixelCover).reshape(variables, maxCover, b, leaves).sum(1);
    }

    /**
     * Follows one child of every active sum unit from the root down (the best one after a max-product
     * pass, or one drawn from its posterior) and returns, per pixel and example, the row of its active
     * leaf in the flattened [S * I] parameters: INT64 [S * b], pixel-major.
     */
    private Tensor select(Tensor x, Tensor observed, boolean mode, RandomGenerator rng) {
        long b = x.shape(0);
        List<Pass> passes = new ArrayList<>();
        upward(x, observed, mode, passes);
        long ww = (long) slots * slots;
        List<Tensor> edges = new ArrayList<>();
        edges.add(backend.zeros(DType.FLOAT32, 1, b, slots));
        Tensor slotRange = backend.arange(slots).reshape(1, 1, 1, slots);
        for (int li = layers.size() - 1; li >= 0; li--) {
            Layer layer = layers.get(li);
            int r = layer.width();
            int p = layer.partitions();
            Tensor f = li == layers.size() - 1 ? backend.full(DType.FLOAT32, 1, 1, b, 1)
                    : gatherFlows(backend.concat(edges, 0), layer.incoming(), r, layer.maxIn(), b, slots)
                    .slice(2, 0, layer.kOut());
            Tensor unit = f.argMax(2);
            Tensor active = f.max(2).reshape(r, 1, b, 1);
            Tensor base = backend.arange(r).mul((double) layer.kOut()).reshape(r, 1);
            Tensor rows = layer.rows().gather(0, unit.add(base).reshape(-1)).reshape(r, b, p * ww);
            Tensor scores = rows.log().add(passes.get(li).logProducts().transpose(0, 2, 1, 3).reshape(r, b, p * ww));
            Tensor child = mode ? scores.argMax(2) : backend.sampleCategorical(scores, rng);
            Tensor part = child.div((double) ww);
            Tensor rest = child.sub(part.mul((double) ww));
            Tensor i = rest.div((double) slots);
            Tensor j = rest.sub(i.mul((double) slots));
            Tensor hitPart = part.reshape(r, 1, b, 1).eq(backend.arange(p).reshape(1, p, 1, 1)).toType(DType.FLOAT32)
                    .mul(active);
            Tensor leftFlow = hitPart.mul(i.reshape(r, 1, b, 1).eq(slotRange).toType(DType.FLOAT32));
            Tensor rightFlow = hitPart.mul(j.reshape(r, 1, b, 1).eq(slotRange).toType(DType.FLOAT32));
            edges.add(leftFlow.reshape((long) r * p, b, slots));
            edges.add(rightFlow.reshape((long) r * p, b, slots));
        }
        Tensor leafFlows = gatherFlows(backend.concat(edges, 0), leafIncoming, leafRegions, leafMaxIn, b, slots)
                .slice(2, 0, leaves);
        Tensor input = perPixel(leafFlows).argMax(2);
        Tensor base = backend.arange(variables).mul((double) leaves).reshape(variables, 1);
        return input.add(base).reshape(-1);
    }
}
