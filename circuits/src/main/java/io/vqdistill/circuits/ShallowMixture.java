package io.vqdistill.circuits;

import io.vqdistill.api.Backend;
import io.vqdistill.api.CompareOp;
import io.vqdistill.api.DType;
import io.vqdistill.api.InvalidArgumentException;
import io.vqdistill.api.Shapes;
import io.vqdistill.api.Tensor;
import io.vqdistill.api.TensorException;
import io.vqdistill.api.TensorScope;
import io.vqdistill.api.TopK;
import io.vqdistill.api.circuit.Circuit;
import io.vqdistill.api.circuit.LeafFamily;
import io.vqdistill.api.circuit.MaskedSumKernel;
import io.vqdistill.api.search.LatentSet;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.random.RandomGenerator;
import java.util.stream.IntStream;

/**
 * The shape the distiller produces: one sum unit over N fully factorised product units of one leaf
 * family, p(x) = sum_n w_n prod_i f(x_i; theta_ni). Parameters are held as tensors of leading shape
 * [N, S] (for example Gaussian {@code mean} and {@code log_var} [N, S], categorical {@code logits}
 * [N, S, V]) and log weights [N].
 *
 * <h2>Evaluation</h2>
 * The components are split into blocks of at most 16384, each scored by the family's fused
 * {@link MaskedSumKernel} (matrix products; a broadcasting fallback of 256 components otherwise),
 * and examples are processed in batches sized so that no temporary exceeds 2^24 elements: no
 * [B, N, S] tensor is ever built. The log-likelihood streams over the blocks with one logsumexp
 * each. Where a kernel's {@linkplain MaskedSumKernel#errorBound error bound} exceeds 1e-3 nats (the
 * float32 cancellation of the expanded Gaussian square), an argmax (a top-k where several components
 * come close) takes the logsumexp's place: the components within twice that bound plus log N + 20
 * nats of the best are recomputed term by term (the family's log-densities, summed in float64) and
 * the rest, weighing less than e^-20 of the total, are dropped. Posteriors and
 * expectations refine the same way; the MPE rescores every component within twice the bound of the
 * best.
 *
 * <p>The mixture owns its tensors and releases them on {@link #close()}. Tensors created inside an
 * open {@link TensorScope} belong to that scope, so build a mixture outside any scope you close
 * before you are done with it. Not thread-safe.
 */
public final class ShallowMixture implements Circuit {
    /** Largest number of elements of one temporary tensor (64 MiB of float32). */
    static final long BUDGET = 1L << 24;
    /** Largest |logsumexp| of normalised log weights. */
    public static final double WEIGHT_TOLERANCE = 1e-4;
    private static final int FUSED_BLOCK = 16384;
    private static final int BROADCAST_BLOCK = 256;
    private static final double NEGLIGIBLE_NATS = 20;
    private static final double ACCURACY_TARGET = 1e-3;

    private record Block(int start, int end, Map<String, Tensor> parameters, Tensor offset, MaskedSumKernel kernel) {
        int width() {
            return end - start;
        }
    }

    /** A component of approximate score {@code score} worth rescoring for row {@code row}. */
    private record Candidate(int row, int component, float score) {
    }

    private final Backend backend;
    private final LeafFamily family;
    private final int variables;
    private final int components;
    private final long eventSize;
    private final Map<String, Tensor> parameters;
    private final double[] hostLogWeights;
    private final LatentSet latents;
    private final List<Block> blocks = new ArrayList<>();
    private boolean closed;

    private ShallowMixture(LeafFamily family, Map<String, Tensor> given, double[] weights, boolean normalise,
                           LatentSet latents) {
        this.family = Objects.requireNonNull(family, "family");
        Objects.requireNonNull(given, "parameters");
        this.parameters = new LinkedHashMap<>();
        Map<String, Tensor> prepared = family.prepare(given);
        family.parameters().forEach(p -> parameters.put(p.name(), prepared.get(p.name())));
        Tensor first = parameters.values().iterator().next();
        this.backend = first.backend();
        long[] lead = Arrays.copyOf(first.shape(), first.rank() - family.parameters().get(0).eventShape().length);
        try {
            if (lead.length != 2 || lead[0] < 1 || lead[1] < 1) {
                throw new InvalidArgumentException("mixture parameters need leading shape [N, S] with N, S >= 1, found "
                        + Shapes.format(lead));
            }
            this.components = Math.toIntExact(lead[0]);
            this.variables = Math.toIntExact(lead[1]);
            this.eventSize = family.parameters().stream().mapToLong(LeafFamily.Parameter::eventSize).max().orElse(1);
            this.hostLogWeights = weights == null ? uniform(components) : checkWeights(weights, components, normalise);
            if (latents != null && latents.size() != components) {
                throw new InvalidArgumentException("the latent set has " + latents.size() + " grids but the mixture "
                        + components + " components");
            }
            this.latents = latents;
            buildBlocks();
        } catch (RuntimeException e) {
            closeAll();
            throw e;
        }
    }

    /** A builder of a mixture of {@code family} leaves. */
    public static Builder builder(LeafFamily family) {
        return new Builder(family);
    }

    /** Collects the parts of a {@link ShallowMixture}. */
    public static final class Builder {
        private final LeafFamily family;
        private Map<String, Tensor> parameters;
        private double[] logWeights;
        private boolean normalise;
        private LatentSet latents;

        private Builder(LeafFamily family) {
            this.family = Objects.requireNonNull(family, "family");
        }

        /**
         * The leaf parameters, exactly the family's, FLOAT32 of shape [N, S] + event shape. The
         * mixture keeps prepared copies; the caller still owns these tensors.
         */
        public Builder parameters(Map<String, Tensor> parameters) {
            this.parameters = Map.copyOf(parameters);
            return this;
        }

        /**
         * Log mixture weights, length N, NaN and +inf excluded, -inf allowed (a component that is
         * never used). Without this call the weights are uniform, 1/N each. They must be normalised
         * (logsumexp within {@value ShallowMixture#WEIGHT_TOLERANCE} of 0) unless
         * {@link #normaliseWeights()} is called.
         */
        public Builder logWeights(double[] logWeights) {
            this.logWeights = logWeights.clone();
            return this;
        }

        /** Normalises the log weights instead of requiring them normalised. */
        public Builder normaliseWeights() {
            this.normalise = true;
            return this;
        }

        /** The latent grids the components were decoded from, kept with the mixture and its file. */
        public Builder latents(LatentSet latents) {
            this.latents = latents;
            return this;
        }

        /**
         * Validates and builds; the mixture's tensors live on the parameters' backend.
         *
         * @throws InvalidArgumentException for missing, misshaped or non-finite parameters, bad
         *                                  weights or a latent set of another size
         */
        public ShallowMixture build() {
            if (parameters == null) {
                throw new InvalidArgumentException("a mixture needs parameters: call parameters(...)");
            }
            return new ShallowMixture(family, parameters, logWeights, normalise, latents);
        }
    }

    private static double[] uniform(int n) {
        double[] w = new double[n];
        Arrays.fill(w, -Math.log(n));
        return w;
    }

    private static double[] checkWeights(double[] weights, int n, boolean normalise) {
        if (weights.length != n) {
            throw new InvalidArgumentException("mixture log weights: " + weights.length + " given for " + n
                    + " components");
        }
        for (int i = 0; i < n; i++) {
            if (Double.isNaN(weights[i]) || weights[i] == Double.POSITIVE_INFINITY) {
                throw new InvalidArgumentException("mixture log weight " + i + " is " + weights[i]
                        + "; log weights must be finite or -inf");
            }
        }
        double lse = Numerics.logSumExp(weights, 0, n);
        if (lse == Double.NEGATIVE_INFINITY) {
            throw new InvalidArgumentException("mixture log weights are all -inf");
        }
        double[] out = weights.clone();
        if (normalise) {
            for (int i = 0; i < n; i++) {
                out[i] -= lse;
            }
        } else if (Math.abs(lse) > WEIGHT_TOLERANCE) {
            throw new InvalidArgumentException("mixture log weights must be normalised (logsumexp within "
                    + WEIGHT_TOLERANCE + " of 0), found logsumexp " + lse + "; ask for normalisation instead");
        }
        return out;
    }

    private static float[] toFloats(double[] v) {
        float[] f = new float[v.length];
        for (int i = 0; i < v.length; i++) {
            f[i] = (float) v[i];
        }
        return f;
    }

    private void buildBlocks() {
        Block first = newBlock(0, Math.min(components, FUSED_BLOCK), true);
        if (first != null) {
            blocks.add(first);
            for (int start = FUSED_BLOCK; start < components; start += FUSED_BLOCK) {
                blocks.add(newBlock(start, Math.min(components, start + FUSED_BLOCK), true));
            }
        } else {
            for (int start = 0; start < components; start += BROADCAST_BLOCK) {
                blocks.add(newBlock(start, Math.min(components, start + BROADCAST_BLOCK), false));
            }
        }
    }

    /**
     * The block of components [start, end) with the family's fused kernel, or with the broadcasting
     * fallback when {@code fused} is false; null when a fused kernel was asked for and the family has
     * none.
     */
    private Block newBlock(int start, int end, boolean fused) {
        boolean whole = start == 0 && end == components;
        Map<String, Tensor> slice = new LinkedHashMap<>();
        Tensor offset = null;
        MaskedSumKernel kernel = null;
        try {
            parameters.forEach((k, v) -> slice.put(k, whole ? v : v.slice(0, start, end)));
            offset = backend.of(toFloats(Arrays.copyOfRange(hostLogWeights, start, end)), end - start);
            kernel = fused ? family.maskedSumKernel(slice, offset).orElse(null)
                    : new BroadcastKernel(family, slice, offset, eventSize);
        } finally {
            if (kernel == null) {
                if (!whole) {
                    slice.values().forEach(Tensor::close);
                }
                if (offset != null) {
                    offset.close();
                }
            }
        }
        return kernel == null ? null : new Block(start, end, whole ? Map.of() : slice, offset, kernel);
    }

    // ---- accessors ------------------------------------------------------------------------------

    @Override
    public int numVariables() {
        return variables;
    }

    /** N, the number of components. */
    public int components() {
        return components;
    }

    @Override
    public Backend backend() {
        return backend;
    }

    @Override
    public LeafFamily leafFamily() {
        return family;
    }

    /** The prepared leaf parameters by name, in the family's order; owned by the mixture, do not close. */
    public Map<String, Tensor> parameters() {
        return Collections.unmodifiableMap(parameters);
    }

    /** The normalised log weights, a copy, length N. */
    public double[] logWeights() {
        return hostLogWeights.clone();
    }

    /** The latent grids the components were decoded from, if known. */
    public Optional<LatentSet> latents() {
        return Optional.ofNullable(latents);
    }

    @Override
    public long parameterCount() {
        long leaf = 0;
        for (Tensor t : parameters.values()) {
            leaf += t.size();
        }
        return components - 1L + leaf;
    }

    // ---- queries --------------------------------------------------------------------------------

    @Override
    public Tensor logLikelihood(Tensor x) {
        return logLikelihoods("logLikelihood", x, null);
    }

    @Override
    public Tensor marginalLogLikelihood(Tensor x, Tensor observed) {
        return logLikelihoods("marginalLogLikelihood", x, Objects.requireNonNull(observed, "observed"));
    }

    @Override
    public Tensor componentPosterior(Tensor x, Tensor observed) {
        start("componentPosterior", x, Objects.requireNonNull(observed, "observed"));
        return Batches.run(x, observed, posteriorRows(), components, this::logPosterior);
    }

    @Override
    public Tensor conditionalMean(Tensor x, Tensor observed) {
        start("conditionalMean", x, Objects.requireNonNull(observed, "observed"));
        try (Tensor means = family.mean(parameters)) {
            return Batches.run(x, observed, posteriorRows(), variables, (xb, mb) -> {
                Tensor expected = logPosterior(xb, mb).exp().matmul(means);
                return mb.where(xb, expected);
            });
        }
    }

    @Override
    public Tensor conditionalVariance(Tensor x, Tensor observed) {
        start("conditionalVariance", x, Objects.requireNonNull(observed, "observed"));
        try (TensorScope scope = TensorScope.open()) {
            Map<String, Tensor> wide = new LinkedHashMap<>();
            parameters.forEach((k, v) -> wide.put(k, v.toType(DType.FLOAT64)));
            Tensor means = family.mean(wide);
            Tensor second = family.variance(wide).add(means.square());
            return scope.keep(Batches.run(x, observed, posteriorRows(), variables, (xb, mb) -> {
                Tensor p = logPosterior(xb, mb).toType(DType.FLOAT64).exp();
                Tensor m1 = p.matmul(means);
                Tensor variance = p.matmul(second).sub(m1.square()).clamp(0, Double.POSITIVE_INFINITY);
                return mb.where(xb.scalarLike(0), variance.toType(DType.FLOAT32));
            }));
        }
    }

    @Override
    public Tensor conditionalMode(Tensor x, Tensor observed) {
        start("conditionalMode", x, Objects.requireNonNull(observed, "observed"));
        try (TensorScope scope = TensorScope.open()) {
            Tensor modes = family.mode(parameters);
            Tensor peaks = family.logDensity(parameters, modes).transposeLast();
            return scope.keep(Batches.run(x, observed, posteriorRows(), variables, (xb, mb) -> {
                long[] best = bestComponents(xb, mb, peaks);
                return mb.where(xb, modes.gather(0, backend.of(best, best.length)));
            }));
        }
    }

    @Override
    public Tensor conditionalSample(Tensor x, Tensor observed, RandomGenerator rng) {
        Objects.requireNonNull(rng, "rng");
        start("conditionalSample", x, Objects.requireNonNull(observed, "observed"));
        return Batches.run(x, observed, posteriorRows(), variables, (xb, mb) -> {
            float[] posterior = logPosterior(xb, mb).toFloatArray();
            int rows = Math.toIntExact(xb.shape(0));
            long[] chosen = new long[rows];
            double[] p = new double[components];
            for (int r = 0; r < rows; r++) {
                for (int n = 0; n < components; n++) {
                    p[n] = Math.exp(posterior[r * components + n]);
                }
                chosen[r] = Numerics.draw(p, rng);
            }
            return mb.where(xb, drawLeaves(chosen, rng));
        });
    }

    @Override
    public Tensor sample(int n, RandomGenerator rng) {
        Objects.requireNonNull(rng, "rng");
        requireOpen("sample");
        Evidence.checkCount("sample", n);
        if (n == 0) {
            return backend.zeros(DType.FLOAT32, 0, variables);
        }
        double[] p = new double[components];
        for (int i = 0; i < components; i++) {
            p[i] = Math.exp(hostLogWeights[i]);
        }
        long[] chosen = new long[n];
        for (int i = 0; i < n; i++) {
            chosen[i] = Numerics.draw(p, rng);
        }
        int rows = (int) Math.max(1, Math.min(n, BUDGET / (variables * (eventSize + 2))));
        try (TensorScope scope = TensorScope.open()) {
            List<Tensor> parts = new ArrayList<>();
            for (int start = 0; start < n; start += rows) {
                parts.add(drawLeaves(Arrays.copyOfRange(chosen, start, Math.min(n, start + rows)), rng));
            }
            return scope.keep(parts.size() == 1 ? parts.get(0) : backend.concat(parts, 0));
        }
    }

    /** One draw of every variable from each chosen component: FLOAT32 [chosen.length, S]. */
    private Tensor drawLeaves(long[] chosen, RandomGenerator rng) {
        try (TensorScope scope = TensorScope.open()) {
            Tensor index = backend.of(chosen, chosen.length);
            Map<String, Tensor> picked = new LinkedHashMap<>();
            parameters.forEach((k, v) -> picked.put(k, v.gather(0, index)));
            return scope.keep(family.sample(picked, rng));
        }
    }

    /**
     * A DAG circuit computing the same distribution (one sum over N products of S inputs, input
     * (n, i) numbered n * S + i), on the same backend; meant for small mixtures (tests, export).
     */
    public DagCircuit toDag() {
        requireOpen("toDag");
        CircuitBuilder b = new CircuitBuilder(variables);
        int[] products = new int[components];
        int[] inputs = new int[variables];
        for (int n = 0; n < components; n++) {
            for (int i = 0; i < variables; i++) {
                inputs[i] = b.input(i);
            }
            products[n] = b.product(inputs);
        }
        b.sum(products, hostLogWeights);
        Map<String, Tensor> flat = new LinkedHashMap<>();
        try {
            for (LeafFamily.Parameter p : family.parameters()) {
                long[] event = p.eventShape();
                long[] shape = new long[1 + event.length];
                shape[0] = (long) components * variables;
                System.arraycopy(event, 0, shape, 1, event.length);
                flat.put(p.name(), parameters.get(p.name()).reshape(shape));
            }
            return DagCircuit.create(b.build(), family, flat);
        } finally {
            flat.values().forEach(Tensor::close);
        }
    }

    @Override
    public void close() {
        if (!closed) {
            closed = true;
            closeAll();
        }
    }

    private void closeAll() {
        for (Block b : blocks) {
            b.kernel().close();
            b.offset().close();
            b.parameters().values().forEach(Tensor::close);
        }
        blocks.clear();
        parameters.values().forEach(Tensor::close);
    }

    @Override
    public String toString() {
        return "ShallowMixture[" + components + " components of " + variables + " " + family + " leaves on "
                + backend.name() + "]";
    }

    // ---- evaluation -----------------------------------------------------------------------------

    private void requireOpen(String query) {
        if (closed) {
            throw new TensorException(query + ": the mixture is closed");
        }
        for (Map.Entry<String, Tensor> e : parameters.entrySet()) {
            if (e.getValue().isClosed()) {
                throw new TensorException(query + ": the mixture's parameter '" + e.getKey() + "' was closed;"
                        + " was the mixture built inside a TensorScope that has since closed?");
            }
        }
    }

    private int start(String query, Tensor x, Tensor observed) {
        requireOpen(query);
        return Evidence.check(query, backend, family, variables, x, observed);
    }

    /** Rows per batch of the queries that hold every component's score of a row at once ([b, N] several times). */
    private int posteriorRows() {
        return (int) Math.max(1, BUDGET / (3L * components + maxWorkspace()));
    }

    /** Temporary elements per row while one block is scored: its kernel's workspace and the [b, n] scores. */
    private long maxWorkspace() {
        long w = 0;
        for (Block b : blocks) {
            w = Math.max(w, b.kernel().workspacePerExample() + b.width());
        }
        return w;
    }

    /**
     * log p(x_o) of every row: batches of rows are scored block by block; rows whose kernel bound
     * is within the accuracy target take a logsumexp of the approximate scores, the others collect
     * the components that matter, which are then rescored term by term for all batches at once.
     */
    private Tensor logLikelihoods(String query, Tensor x, Tensor observed) {
        int b = start(query, x, observed);
        double[] bound = errorBounds(x, observed);
        double[] out = new double[b];
        Arrays.fill(out, Double.NEGATIVE_INFINITY);
        List<int[]> pairs = new ArrayList<>();
        int rows = (int) Math.max(1, BUDGET / maxWorkspace());
        for (int from = 0; from < b; from += rows) {
            int to = Math.min(b, from + rows);
            try (TensorScope scope = TensorScope.open()) {
                Tensor xb = x.slice(0, from, to);
                Tensor mb = observed == null ? null : observed.slice(0, from, to);
                batchLogLikelihood(xb, mb, from, bound, out, pairs);
            }
        }
        double[] exact = exactScores(pairs, x, observed, false);
        for (int[] pair : pairs) {
            out[pair[0]] = Double.NEGATIVE_INFINITY;
        }
        for (int p = 0; p < exact.length; p++) {
            int r = pairs.get(p)[0];
            out[r] = Numerics.logAddExp(out[r], exact[p]);
        }
        return backend.of(toFloats(out), b);
    }

    /**
     * Whether a row's scores must be recomputed exactly: its kernel error bound exceeds the accuracy
     * target (a NaN or infinite bound counts as exceeding it).
     */
    private static boolean needsRefinement(double bound) {
        return !(bound <= ACCURACY_TARGET);
    }

    /** The largest error bound any block's kernel reports for each row, in batches of rows. */
    private double[] errorBounds(Tensor x, Tensor observed) {
        int b = Math.toIntExact(x.shape(0));
        double[] bound = new double[b];
        int rows = (int) Math.max(1, BUDGET / (4L * variables));
        for (int start = 0; start < b; start += rows) {
            int end = Math.min(b, start + rows);
            try (TensorScope scope = TensorScope.open()) {
                Tensor xb = x.slice(0, start, end);
                Tensor mb = observed == null ? null : observed.slice(0, start, end);
                for (Block blk : blocks) {
                    double[] v = blk.kernel().errorBound(xb, mb).toDoubleArray();
                    for (int r = 0; r < v.length; r++) {
                        bound[start + r] = Math.max(bound[start + r], v[r]);
                    }
                }
            }
        }
        return bound;
    }

    /**
     * One batch of the log-likelihood, rows {@code first}.. of the whole: a logsumexp of every
     * block's approximate scores into {@code out} for the rows within the accuracy target; for the
     * others, the components within 2 * bound + log N + 20 nats of the best are added to
     * {@code pairs} (as whole-batch row, component) for exact rescoring. A batch with no row of one
     * kind skips that reduction.
     */
    private void batchLogLikelihood(Tensor x, Tensor observed, int first, double[] bound, double[] out,
                                    List<int[]> pairs) {
        int b = Math.toIntExact(x.shape(0));
        int[] refine = IntStream.range(0, b).filter(r -> needsRefinement(bound[first + r])).toArray();
        double[] window = new double[b];
        for (int r : refine) {
            window[r] = 2 * bound[first + r] + Math.log(components) + NEGLIGIBLE_NATS;
        }
        List<Candidate> found = new ArrayList<>();
        for (Block blk : blocks) {
            try (TensorScope scope = TensorScope.open()) {
                Tensor scores = blk.kernel().scores(x, observed);
                if (refine.length < b) {
                    double[] l = scores.logSumExp(1).toDoubleArray();
                    for (int r = 0; r < b; r++) {
                        out[first + r] = Numerics.logAddExp(out[first + r], l[r]);
                    }
                }
                if (refine.length > 0) {
                    found.addAll(candidates(scores, blk.start(), refine, window));
                }
            }
        }
        double[] best = new double[b];
        Arrays.fill(best, Double.NEGATIVE_INFINITY);
        for (Candidate c : found) {
            best[c.row()] = Math.max(best[c.row()], c.score());
        }
        for (Candidate c : found) {
            if (c.score() >= best[c.row()] - window[c.row()]) {
                pairs.add(new int[] {first + c.row(), c.component()});
            }
        }
    }

    /**
     * The components of one block whose approximate score lies within {@code window[r]} of the
     * block's best, for each row r in {@code refine}: the argmax, and for the rows with more than one
     * such component a top-k of exactly the largest count over just those rows.
     */
    private List<Candidate> candidates(Tensor scores, int offset, int[] refine, double[] window) {
        int b = Math.toIntExact(scores.shape(0));
        Tensor argMax = scores.argMax(1);
        long[] arg = argMax.toLongArray();
        float[] top = scores.takeAlong(1, argMax.reshape(b, 1)).toFloatArray();
        float[] threshold = new float[b];
        Arrays.fill(threshold, Float.POSITIVE_INFINITY);
        for (int r : refine) {
            threshold[r] = (float) (top[r] - window[r]);
        }
        Tensor within = scores.compare(CompareOp.GE, backend.of(threshold, b, 1))
                .where(scores.scalarLike(1), scores.scalarLike(0)).sum(1);
        double[] count = within.toDoubleArray();
        List<Candidate> out = new ArrayList<>();
        int k = 1;
        List<Integer> crowded = new ArrayList<>();
        for (int r : refine) {
            if (count[r] > 1) {
                crowded.add(r);
                k = (int) Math.max(k, count[r]);
            } else {
                out.add(new Candidate(r, offset + (int) arg[r], top[r]));
            }
        }
        if (crowded.isEmpty()) {
            return out;
        }
        long[] rows = crowded.stream().mapToLong(Integer::longValue).toArray();
        try (TopK t = scores.gather(0, backend.of(rows, rows.length)).topK(k, 1)) {
            float[] values = t.values().toFloatArray();
            long[] index = t.indices().toLongArray();
            for (int c = 0; c < rows.length; c++) {
                int r = (int) rows[c];
                for (int i = 0; i < k && values[c * k + i] >= threshold[r]; i++) {
                    out.add(new Candidate(r, offset + (int) index[c * k + i], values[c * k + i]));
                }
            }
        }
        return out;
    }

    /**
     * Scores log w_n + sum_i log f(x_ri; theta_ni) of (row, component) pairs, term by term: the
     * family's log-densities (no algebraic rewrite, so no cancellation) summed in float64; observed
     * entries only, or, with {@code completeWithMode}, every variable with the unobserved ones set to
     * the component's mode (the MPE score).
     */
    private double[] exactScores(List<int[]> pairs, Tensor x, Tensor observed, boolean completeWithMode) {
        double[] out = new double[pairs.size()];
        int chunk = (int) Math.max(1, BUDGET / (variables * (eventSize + 4)));
        for (int start = 0; start < out.length; start += chunk) {
            int len = Math.min(chunk, out.length - start);
            long[] rows = new long[len];
            long[] comps = new long[len];
            for (int i = 0; i < len; i++) {
                rows[i] = pairs.get(start + i)[0];
                comps[i] = pairs.get(start + i)[1];
            }
            try (TensorScope scope = TensorScope.open()) {
                Tensor comp = backend.of(comps, len);
                Tensor row = backend.of(rows, len);
                Map<String, Tensor> picked = new LinkedHashMap<>();
                parameters.forEach((k, v) -> picked.put(k, v.gather(0, comp)));
                Tensor values = x.gather(0, row);
                Tensor seen = observed == null ? null : observed.gather(0, row);
                if (completeWithMode && seen != null) {
                    values = seen.where(values, family.mode(picked));
                }
                Tensor logDensity = family.logDensity(picked, values);
                if (!completeWithMode && seen != null) {
                    logDensity = seen.where(logDensity, logDensity.scalarLike(0));
                }
                double[] sums = logDensity.toType(DType.FLOAT64).sum(1).toDoubleArray();
                for (int i = 0; i < len; i++) {
                    out[start + i] = sums[i] + hostLogWeights[(int) comps[i]];
                }
            }
        }
        return out;
    }

    /** Approximate scores log w_n + log p(x_o | n) of every component, FLOAT32 [b, N]. */
    private Tensor allScores(Tensor x, Tensor observed) {
        if (blocks.size() == 1) {
            return blocks.get(0).kernel().scores(x, observed);
        }
        try (TensorScope scope = TensorScope.open()) {
            List<Tensor> parts = new ArrayList<>();
            for (Block blk : blocks) {
                parts.add(blk.kernel().scores(x, observed));
            }
            return scope.keep(backend.concat(parts, 1));
        }
    }

    /** log p(n | x_o), FLOAT32 [b, N], with the leading components exact where the kernel bound demands. */
    private Tensor logPosterior(Tensor x, Tensor observed) {
        int b = Math.toIntExact(x.shape(0));
        try (TensorScope scope = TensorScope.open()) {
            double[] bound = errorBounds(x, observed);
            Tensor scores = allScores(x, observed);
            double[] lse = scores.logSumExp(1).toDoubleArray();
            int[] refine = IntStream.range(0, b).filter(r -> needsRefinement(bound[r])).toArray();
            if (refine.length == 0) {
                return scope.keep(scores.sub(backend.of(toFloats(lse), b, 1)));
            }
            float[] host = scores.toFloatArray();
            List<int[]> pairs = new ArrayList<>();
            for (int r : refine) {
                double best = max(host, r);
                double threshold = best - 2 * bound[r] - Math.log(components) - NEGLIGIBLE_NATS;
                for (int n = 0; n < components; n++) {
                    if (host[r * components + n] >= threshold) {
                        pairs.add(new int[] {r, n});
                    }
                }
            }
            double[] exact = exactScores(pairs, x, observed, false);
            for (int r : refine) {
                lse[r] = Double.NEGATIVE_INFINITY;
            }
            for (int p = 0; p < exact.length; p++) {
                int[] rn = pairs.get(p);
                host[rn[0] * components + rn[1]] = (float) exact[p];
                lse[rn[0]] = Numerics.logAddExp(lse[rn[0]], exact[p]);
            }
            for (int r = 0; r < b; r++) {
                for (int n = 0; n < components; n++) {
                    host[r * components + n] -= (float) lse[r];
                }
            }
            return scope.keep(backend.of(host, b, components));
        }
    }

    private double max(float[] host, int row) {
        double best = Double.NEGATIVE_INFINITY;
        for (int n = 0; n < components; n++) {
            best = Math.max(best, host[row * components + n]);
        }
        return best;
    }

    /**
     * The component of the joint MPE for each row: argmax_n log w_n + log p(x_o | n) + sum over the
     * unobserved i of the leaf's peak log-density ({@code peaks}, [S, N]). Where the kernel bound is
     * positive, every component within twice the bound of the best is rescored exactly.
     */
    private long[] bestComponents(Tensor x, Tensor observed, Tensor peaks) {
        try (TensorScope scope = TensorScope.open()) {
            Tensor hidden = observed.where(x.scalarLike(0), x.scalarLike(1));
            Tensor total = allScores(x, observed).add(hidden.matmul(peaks));
            double[] bound = errorBounds(x, observed);
            if (Arrays.stream(bound).allMatch(e -> e == 0)) {
                return total.argMax(1).toLongArray();
            }
            float[] host = total.toFloatArray();
            int b = bound.length;
            List<int[]> pairs = new ArrayList<>();
            for (int r = 0; r < b; r++) {
                double best = max(host, r);
                double threshold = best - 2 * bound[r] - 1e-5 * (1 + Math.abs(best));
                for (int n = 0; n < components; n++) {
                    if (host[r * components + n] >= threshold) {
                        pairs.add(new int[] {r, n});
                    }
                }
            }
            double[] exact = exactScores(pairs, x, observed, true);
            long[] chosen = new long[b];
            double[] score = new double[b];
            Arrays.fill(score, Double.NEGATIVE_INFINITY);
            for (int p = 0; p < exact.length; p++) {
                int r = pairs.get(p)[0];
                if (exact[p] > score[r]) {
                    score[r] = exact[p];
                    chosen[r] = pairs.get(p)[1];
                }
            }
            return chosen;
        }
    }
}
