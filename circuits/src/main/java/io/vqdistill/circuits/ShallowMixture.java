package io.vqdistill.circuits;

import io.vqdistill.api.Backend;
import io.vqdistill.api.DType;
import io.vqdistill.api.InvalidArgumentException;
import io.vqdistill.api.Shapes;
import io.vqdistill.api.Tensor;
import io.vqdistill.api.TensorException;
import io.vqdistill.api.TensorScope;
import io.vqdistill.api.circuit.Circuit;
import io.vqdistill.api.circuit.LeafFamily;
import io.vqdistill.api.circuit.MaskedSumKernel;
import io.vqdistill.api.circuit.Precision;
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

/**
 * The shape the distiller produces: one sum unit over N fully factorised product units of one leaf
 * family, p(x) = sum_n w_n prod_i f(x_i; theta_ni). Parameters are held as tensors of leading shape
 * [N, S] (for example Gaussian {@code mean} and {@code log_var} [N, S], categorical {@code logits}
 * [N, S, V]) and log weights [N].
 *
 * <h2>Evaluation</h2>
 * The components are split into blocks of at most 16384, each scored by the family's fused
 * {@link MaskedSumKernel} (matrix products or gathers; a broadcasting evaluation of 256 components
 * for a family without one), prepared on the first query. Examples are processed in batches sized
 * so that no temporary exceeds 2^24 elements (64 MiB): no [B, N, S] tensor is ever built. The
 * log-likelihood reduces each block's [b, n] scores with a logsumexp on the backend and joins the
 * blocks on the host in float64; posteriors are the scores' log-softmax, means and variances their
 * products with the leaves' moments (variances in float64), the MPE an argmax.
 *
 * <h2>Precision</h2>
 * Every query computes its scores at the mixture's {@link #precision()}, {@link Precision#FAST}
 * unless {@linkplain Builder#precision(Precision) built} or {@linkplain #setPrecision set} otherwise;
 * the log-likelihoods also take it per call. FAST uses the kernels' float32 scores
 * ({@link MaskedSumKernel#scores}), DOUBLE their float64 scores
 * ({@link MaskedSumKernel#preciseScores}); the accuracy each promises is stated on {@link Precision}.
 * Nothing is recomputed on the host in either.
 *
 * <p>The mixture owns its tensors and releases them on {@link #close()}. Tensors created inside an
 * open {@link TensorScope} belong to that scope, so build a mixture outside any scope you close
 * before you are done with it. Not thread-safe.
 */
public final class ShallowMixture implements Circuit {
    /** Largest number of elements of one temporary tensor (64 MiB of float32), for every circuit kind. */
    public static final long BUDGET = 1L << 24;
    /** Largest |logsumexp| of normalised log weights. */
    public static final double WEIGHT_TOLERANCE = 1e-4;
    private static final int FUSED_BLOCK = 16384;
    private static final int BROADCAST_BLOCK = 256;

    private record Block(int start, int end, Map<String, Tensor> parameters, Tensor offset, MaskedSumKernel kernel) {
        int width() {
            return end - start;
        }
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
    private Precision precision;
    private boolean closed;

    private ShallowMixture(LeafFamily family, Map<String, Tensor> given, double[] weights, boolean normalise,
                           LatentSet latents, Precision precision) {
        this.precision = Objects.requireNonNull(precision, "precision");
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
        private Precision precision = Precision.FAST;

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

        /** The precision of the mixture's queries, {@link Precision#FAST} unless set; see {@link Precision}. */
        public Builder precision(Precision precision) {
            this.precision = Objects.requireNonNull(precision, "precision");
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
            return new ShallowMixture(family, parameters, logWeights, normalise, latents, precision);
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

    /**
     * The blocks of components with their kernels, prepared on first use, outside the caller's
     * scopes (they live until {@link #close()}).
     */
    private List<Block> blocks() {
        if (blocks.isEmpty()) {
            try {
                TensorScope.outside(() -> {
                    buildBlocks();
                    return null;
                });
            } catch (RuntimeException e) {
                closeBlocks();
                throw e;
            }
        }
        return blocks;
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
            offset = backend.of(Arrays.copyOfRange(hostLogWeights, start, end), end - start);
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

    /** The precision of the queries: {@link Precision#FAST} unless built or set otherwise. */
    public Precision precision() {
        return precision;
    }

    /**
     * Chooses the precision of the queries that follow (see {@link Precision}); the float64 form of a
     * kernel is prepared on the first query that needs it and kept until {@link #close()}.
     */
    public void setPrecision(Precision precision) {
        this.precision = Objects.requireNonNull(precision, "precision");
    }

    // ---- queries --------------------------------------------------------------------------------

    /** log p(x) at the mixture's {@link #precision()}. */
    @Override
    public Tensor logLikelihood(Tensor x) {
        return logLikelihood(x, precision);
    }

    /**
     * log p(x) for complete observations at the given precision, whatever the mixture's.
     *
     * @param x         FLOAT32 [B, S]
     * @param precision FAST or DOUBLE, see {@link Precision}
     * @return FLOAT32 [B]
     */
    public Tensor logLikelihood(Tensor x, Precision precision) {
        return logLikelihoods("logLikelihood", x, null, precision);
    }

    /** log p(x_o) at the mixture's {@link #precision()}. */
    @Override
    public Tensor marginalLogLikelihood(Tensor x, Tensor observed) {
        return marginalLogLikelihood(x, observed, precision);
    }

    /**
     * log p(x_o) at the given precision, whatever the mixture's.
     *
     * @param x         FLOAT32 [B, S]
     * @param observed  BOOL [B, S]
     * @param precision FAST or DOUBLE, see {@link Precision}
     * @return FLOAT32 [B]
     */
    public Tensor marginalLogLikelihood(Tensor x, Tensor observed, Precision precision) {
        return logLikelihoods("marginalLogLikelihood", x, Objects.requireNonNull(observed, "observed"), precision);
    }

    @Override
    public Tensor componentPosterior(Tensor x, Tensor observed) {
        start("componentPosterior", x, Objects.requireNonNull(observed, "observed"));
        Precision p = precision;
        return Batches.run(x, observed, posteriorRows(p), components, (xb, mb) -> {
            try (Tensor post = logPosterior(xb, mb, p)) {
                return post.toType(DType.FLOAT32);
            }
        });
    }

    @Override
    public Tensor conditionalMean(Tensor x, Tensor observed) {
        start("conditionalMean", x, Objects.requireNonNull(observed, "observed"));
        Precision p = precision;
        try (TensorScope scope = TensorScope.open()) {
            Tensor means = family.mean(parameters).toType(dtype(p));
            return scope.keep(Batches.run(x, observed, posteriorRows(p), variables, (xb, mb) -> {
                Tensor expected = logPosterior(xb, mb, p).exp().matmul(means).toType(DType.FLOAT32);
                return mb.where(xb, expected);
            }));
        }
    }

    @Override
    public Tensor conditionalVariance(Tensor x, Tensor observed) {
        start("conditionalVariance", x, Objects.requireNonNull(observed, "observed"));
        Precision p = precision;
        try (TensorScope scope = TensorScope.open()) {
            Map<String, Tensor> wide = new LinkedHashMap<>();
            parameters.forEach((k, v) -> wide.put(k, v.toType(DType.FLOAT64)));
            Tensor means = family.mean(wide);
            Tensor second = family.variance(wide).add(means.square());
            return scope.keep(Batches.run(x, observed, posteriorRows(p), variables, (xb, mb) -> {
                Tensor post = logPosterior(xb, mb, p).toType(DType.FLOAT64).exp();
                Tensor m1 = post.matmul(means);
                Tensor variance = post.matmul(second).sub(m1.square()).clamp(0, Double.POSITIVE_INFINITY);
                return mb.where(xb.scalarLike(0), variance.toType(DType.FLOAT32));
            }));
        }
    }

    @Override
    public Tensor conditionalMode(Tensor x, Tensor observed) {
        start("conditionalMode", x, Objects.requireNonNull(observed, "observed"));
        Precision p = precision;
        try (TensorScope scope = TensorScope.open()) {
            Tensor modes = family.mode(parameters);
            Map<String, Tensor> typed = new LinkedHashMap<>();
            parameters.forEach((k, v) -> typed.put(k, v.toType(dtype(p))));
            Tensor peaks = family.logDensity(typed, modes.toType(dtype(p))).transposeLast();
            return scope.keep(Batches.run(x, observed, posteriorRows(p), variables, (xb, mb) -> {
                long[] best = bestComponents(xb, mb, peaks, p);
                return mb.where(xb, modes.gather(0, backend.of(best, best.length)));
            }));
        }
    }

    /**
     * The class posterior of a mixture whose components carry class tags (the classes their latent
     * grids were searched under): p(c | x_o) = sum over the components n of class c of p(n | x_o),
     * which is Bayes' rule with p(c) = sum of the weights of class c and p(x | c) the mixture of its
     * components. Exact and batched like every other query.
     *
     * @param x          FLOAT32 [B, S]
     * @param observed   BOOL [B, S]
     * @param numClasses C, >= 1; every component's tag must be in [0, C)
     * @return FLOAT32 [B, C] log p(c | x_o); a class without components has -inf
     * @throws InvalidArgumentException when the mixture has no latents, or a component has no class
     *                                  (tag -1) or one outside [0, C)
     */
    public Tensor classPosterior(Tensor x, Tensor observed, int numClasses) {
        start("classPosterior", x, Objects.requireNonNull(observed, "observed"));
        if (numClasses < 1) {
            throw InvalidArgumentException.of("numClasses", numClasses, ">= 1");
        }
        int[] tags = latents().orElseThrow(() -> new InvalidArgumentException("classPosterior: the mixture has no"
                + " latent grids, so its components have no classes")).classes();
        double[] member = new double[components * numClasses];
        for (int n = 0; n < components; n++) {
            if (tags[n] < 0 || tags[n] >= numClasses) {
                throw new InvalidArgumentException("classPosterior: component " + n + " has class " + tags[n]
                        + ", outside [0, " + numClasses + ")" + (tags[n] == -1 ? " (it was found without a class)"
                        : ""));
            }
            member[n * numClasses + tags[n]] = 1;
        }
        Precision p = precision;
        try (Tensor membership = backend.of(member, components, numClasses)) {
            return Batches.run(x, observed, posteriorRows(p), numClasses, (xb, mb) -> {
                try (TensorScope scope = TensorScope.open()) {
                    Tensor post = logPosterior(xb, mb, p).toType(DType.FLOAT64).exp();
                    return scope.keep(post.matmul(membership).log().toType(DType.FLOAT32));
                }
            });
        }
    }

    @Override
    public Tensor conditionalSample(Tensor x, Tensor observed, RandomGenerator rng) {
        Objects.requireNonNull(rng, "rng");
        start("conditionalSample", x, Objects.requireNonNull(observed, "observed"));
        Precision p = precision;
        return Batches.run(x, observed, posteriorRows(p), variables, (xb, mb) -> {
            double[] posterior = logPosterior(xb, mb, p).toDoubleArray();
            int rows = Math.toIntExact(xb.shape(0));
            long[] chosen = new long[rows];
            double[] weights = new double[components];
            for (int r = 0; r < rows; r++) {
                for (int n = 0; n < components; n++) {
                    weights[n] = Math.exp(posterior[r * components + n]);
                }
                chosen[r] = Numerics.draw(weights, rng);
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
        closeBlocks();
        parameters.values().forEach(Tensor::close);
    }

    private void closeBlocks() {
        for (Block b : blocks) {
            b.kernel().close();
            b.offset().close();
            b.parameters().values().forEach(Tensor::close);
        }
        blocks.clear();
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

    /** The score dtype of a precision. */
    private static DType dtype(Precision precision) {
        return precision == Precision.DOUBLE ? DType.FLOAT64 : DType.FLOAT32;
    }

    /** Elements per temporary: the budget, halved for float64 so that the bytes stay the same. */
    private static long budget(Precision precision) {
        return precision == Precision.DOUBLE ? BUDGET / 2 : BUDGET;
    }

    /** Rows per batch of the queries that hold every component's score of a row at once ([b, N] several times). */
    private int posteriorRows(Precision precision) {
        return (int) Math.max(1, budget(precision) / (3L * components + maxWorkspace()));
    }

    /** Temporary elements per row while one block is scored: its kernel's workspace and the [b, n] scores. */
    private long maxWorkspace() {
        long w = 0;
        for (Block b : blocks()) {
            w = Math.max(w, b.kernel().workspacePerExample() + b.width());
        }
        return w;
    }

    /** The scores log w_n + log p(x_o | n) of one block's components, [b, n] in the precision's dtype. */
    private static Tensor scores(Block block, Tensor x, Tensor observed, Precision precision) {
        return precision == Precision.DOUBLE ? block.kernel().preciseScores(x, observed)
                : block.kernel().scores(x, observed);
    }

    /**
     * log p(x_o) of every row: batches of rows are scored block by block, each block reduced by a
     * logsumexp on the backend and the blocks joined on the host in float64.
     */
    private Tensor logLikelihoods(String query, Tensor x, Tensor observed, Precision precision) {
        Objects.requireNonNull(precision, "precision");
        int b = start(query, x, observed);
        double[] out = new double[b];
        Arrays.fill(out, Double.NEGATIVE_INFINITY);
        int rows = (int) Math.max(1, budget(precision) / maxWorkspace());
        for (int from = 0; from < b; from += rows) {
            int to = Math.min(b, from + rows);
            try (TensorScope scope = TensorScope.open()) {
                Tensor xb = x.slice(0, from, to);
                Tensor mb = observed == null ? null : observed.slice(0, from, to);
                for (Block blk : blocks()) {
                    try (TensorScope inner = TensorScope.open()) {
                        double[] l = scores(blk, xb, mb, precision).logSumExp(1).toDoubleArray();
                        for (int r = 0; r < l.length; r++) {
                            out[from + r] = Numerics.logAddExp(out[from + r], l[r]);
                        }
                    }
                }
            }
        }
        return backend.of(toFloats(out), b);
    }

    /**
     * The joint scores log w_n + log p(x | n) of complete observations, [b, N] in the precision's
     * dtype, for a batch of at most {@link #rowsPerBatch(Precision, long)} rows; no checks (the
     * caller has checked the evidence).
     */
    Tensor jointScores(Tensor x, Precision precision) {
        return allScores(x, null, precision);
    }

    /**
     * Rows per batch for work that holds every component's score of a row several times plus
     * {@code extraPerRow} elements of its own per row.
     */
    int rowsPerBatch(Precision precision, long extraPerRow) {
        return (int) Math.max(1, budget(precision) / (3L * components + maxWorkspace() + extraPerRow));
    }

    /** Checks a query's evidence, as every public query does, and returns B. */
    int check(String query, Tensor x, Tensor observed) {
        return start(query, x, observed);
    }

    /** The scores of every component, [b, N] in the precision's dtype. */
    private Tensor allScores(Tensor x, Tensor observed, Precision precision) {
        List<Block> all = blocks();
        if (all.size() == 1) {
            return scores(all.get(0), x, observed, precision);
        }
        try (TensorScope scope = TensorScope.open()) {
            List<Tensor> parts = new ArrayList<>();
            for (Block blk : all) {
                parts.add(scores(blk, x, observed, precision));
            }
            return scope.keep(backend.concat(parts, 1));
        }
    }

    /** log p(n | x_o), [b, N] in the precision's dtype. */
    private Tensor logPosterior(Tensor x, Tensor observed, Precision precision) {
        try (Tensor scores = allScores(x, observed, precision)) {
            return scores.logSoftmax(1);
        }
    }

    /**
     * The component of the joint MPE for each row: argmax_n log w_n + log p(x_o | n) + sum over the
     * unobserved i of the leaf's peak log-density ({@code peaks}, [S, N] in the precision's dtype).
     */
    private long[] bestComponents(Tensor x, Tensor observed, Tensor peaks, Precision precision) {
        try (TensorScope scope = TensorScope.open()) {
            Tensor zero = backend.full(peaks.dtype(), 0);
            Tensor one = backend.full(peaks.dtype(), 1);
            Tensor total = allScores(x, observed, precision).add(observed.where(zero, one).matmul(peaks));
            return total.argMax(1).toLongArray();
        }
    }
}
