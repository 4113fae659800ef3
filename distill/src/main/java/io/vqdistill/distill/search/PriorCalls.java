package io.vqdistill.distill.search;

import io.vqdistill.api.Backend;
import io.vqdistill.api.DType;
import io.vqdistill.api.InvalidArgumentException;
import io.vqdistill.api.Shapes;
import io.vqdistill.api.Tensor;
import io.vqdistill.api.TensorScope;
import io.vqdistill.api.VqdistillException;
import io.vqdistill.api.model.LatentShape;
import io.vqdistill.api.model.PrefixBatch;
import io.vqdistill.api.model.Prior;
import io.vqdistill.api.search.SearchRequest;
import io.vqdistill.circuits.Numerics;
import java.util.Arrays;
import java.util.Objects;

/**
 * A prior together with one request's fixed prefix, and the batched calls the searches make: the
 * request is checked against the prior once, and every prior answer is checked for its shape.
 * The backend is the one holding the prior's tensors.
 */
final class PriorCalls {
    private static final double CLASS_PRIOR_TOLERANCE = 1e-3;

    private final Prior prior;
    private final Backend backend;
    private final LatentShape shape;
    private final int classes;
    private final int[] prefix;
    private final double[] classLogPrior;

    private PriorCalls(Prior prior, Backend backend, int[] prefix, double[] classLogPrior) {
        this.prior = prior;
        this.backend = backend;
        this.shape = prior.latentShape();
        this.classes = prior.numClasses();
        this.prefix = prefix;
        this.classLogPrior = classLogPrior;
    }

    /**
     * Checks {@code request} against {@code prior}: the fixed prefix must fit in a grid and hold codes
     * in [0, K); the class prior must have |C| finite-or-minus-infinity entries summing to 1.
     *
     * @param search names the search (or enumeration) in messages
     */
    static PriorCalls of(String search, Prior prior, SearchRequest request) {
        Objects.requireNonNull(prior, "prior");
        Objects.requireNonNull(request, "request");
        LatentShape shape = prior.latentShape();
        int[] prefix = request.fixedPrefix();
        if (prefix.length > shape.positions()) {
            throw new InvalidArgumentException(search + ": the fixed prefix has " + prefix.length
                    + " codes but a " + shape + " grid has " + shape.positions() + " positions");
        }
        for (int i = 0; i < prefix.length; i++) {
            if (prefix[i] < 0 || prefix[i] >= shape.codebookSize()) {
                throw new InvalidArgumentException(search + ": fixed prefix code " + prefix[i] + " at position "
                        + i + " is outside [0, " + shape.codebookSize() + ")");
            }
        }
        if (prior.numClasses() < 1) {
            throw new InvalidArgumentException(search + ": the prior has " + prior.numClasses()
                    + " classes, expected >= 1");
        }
        Backend backend;
        double[] logPc;
        try (Tensor t = prior.classLogPrior()) {
            if (t.rank() != 1 || t.shape(0) != prior.numClasses()) {
                throw new InvalidArgumentException(search + ": the prior's class log-prior has shape "
                        + Shapes.format(t.shape()) + ", expected [" + prior.numClasses() + "]");
            }
            backend = t.backend();
            logPc = t.toDoubleArray();
        }
        double total = 0;
        for (double v : logPc) {
            total += Math.exp(v);
        }
        if (!(Math.abs(total - 1) <= CLASS_PRIOR_TOLERANCE)) {
            throw new InvalidArgumentException(search + ": the prior's class probabilities sum to " + total
                    + ", expected 1");
        }
        return new PriorCalls(prior, backend, prefix, logPc);
    }

    Prior prior() {
        return prior;
    }

    Backend backend() {
        return backend;
    }

    LatentShape shape() {
        return shape;
    }

    int classes() {
        return classes;
    }

    int codebookSize() {
        return shape.codebookSize();
    }

    int positions() {
        return shape.positions();
    }

    /** The fixed prefix, a copy. */
    int[] prefix() {
        return prefix.clone();
    }

    /** The first free position, the prefix length. */
    int firstFree() {
        return prefix.length;
    }

    /** log p(c), a copy. */
    double[] classLogPrior() {
        return classLogPrior.clone();
    }

    /** K^(free positions), the number of grids that keep the prefix; Long.MAX_VALUE when larger. */
    long completions() {
        return power(codebookSize(), positions() - firstFree());
    }

    /** base^exponent, saturating at Long.MAX_VALUE. */
    static long power(int base, int exponent) {
        long n = 1;
        for (int i = 0; i < exponent; i++) {
            if (n > Long.MAX_VALUE / base) {
                return Long.MAX_VALUE;
            }
            n *= base;
        }
        return n;
    }

    /** A grid of the request: the prefix followed by zeros. */
    int[] prefixGrid() {
        return Arrays.copyOf(prefix, positions());
    }

    /** log p(c) + log p(prefix | c) for every class; log p(c) alone when the prefix is empty. */
    double[] prefixLogJoint() {
        double[] joint = prefixLogProbs();
        for (int c = 0; c < classes; c++) {
            joint[c] += classLogPrior[c];
        }
        return joint;
    }

    /**
     * log p(prefix | c) for every class, from one call per prefix position with one row per class;
     * zeros when the prefix is empty.
     */
    double[] prefixLogProbs() {
        double[] joint = new double[classes];
        int k = codebookSize();
        long[] grids = new long[classes * positions()];
        long[] cls = new long[classes];
        for (int c = 0; c < classes; c++) {
            cls[c] = c;
            for (int i = 0; i < prefix.length; i++) {
                grids[c * positions() + i] = prefix[i];
            }
        }
        for (int i = 0; i < prefix.length; i++) {
            try (TensorScope scope = TensorScope.open()) {
                double[] lp = nextLogProbs(grids, cls, i).toDoubleArray();
                for (int c = 0; c < classes; c++) {
                    joint[c] += lp[c * k + prefix[i]];
                }
            }
        }
        return joint;
    }

    /**
     * One prior call: log p(z_i | z_&lt;i, c) for rows of host grids.
     *
     * @param grids   rows * h*w codes, row after row
     * @param classes one class per row
     * @return FLOAT32 [rows, K], checked
     */
    Tensor nextLogProbs(long[] grids, long[] classes, int position) {
        int rows = classes.length;
        try (TensorScope scope = TensorScope.open()) {
            Tensor g = backend.of(grids, rows, positions());
            Tensor c = backend.of(classes, rows);
            return scope.keep(checked(prior.nextLogProbs(g, c, position), rows, position));
        }
    }

    /**
     * A batch of prefixes at {@code position} for repeated next-code answers and extensions: the
     * prior's own (which may keep per-row state) when {@code cached}, else the stateless one.
     *
     * @param grids   rows * h*w codes, row after row; positions from {@code position} on are ignored
     * @param classes one class per row
     */
    PrefixBatch prefixes(long[] grids, long[] classes, int position, boolean cached) {
        int rows = classes.length;
        try (TensorScope scope = TensorScope.open()) {
            Tensor g = backend.of(grids, rows, positions());
            Tensor c = backend.of(classes, rows);
            return cached ? prior.prefixes(g, c, position) : PrefixBatch.uncached(prior, g, c, position);
        }
    }

    /** {@code logProbs}, a next-code answer for {@code rows} rows, after checking that it is FLOAT32 [rows, K]. */
    Tensor checked(Tensor logProbs, int rows, int position) {
        if (logProbs.dtype() != DType.FLOAT32 || logProbs.rank() != 2 || logProbs.shape(0) != rows
                || logProbs.shape(1) != codebookSize()) {
            throw new VqdistillException("the prior's next-code answer at position " + position + " is "
                    + logProbs.dtype().label() + " " + Shapes.format(logProbs.shape()) + ", expected float32 ["
                    + rows + ", " + codebookSize() + "]");
        }
        return logProbs;
    }

    /**
     * The class-marginal log p(z) of grids, in chunks of {@code chunk} grids per prior call.
     *
     * @param codes n * h*w codes, grid after grid
     */
    double[] marginalLogProbs(int[] codes, int chunk) {
        return marginalLogProbs(codes, chunk, null);
    }

    /**
     * {@link #marginalLogProbs(int[], int)}, counting |C| prior rows per grid on {@code progress}
     * (which may be null) after each chunk.
     */
    double[] marginalLogProbs(int[] codes, int chunk, Progress progress) {
        int p = positions();
        int n = codes.length / p;
        double[] out = new double[n];
        for (int start = 0; start < n; start += chunk) {
            int len = Math.min(chunk, n - start);
            long[] part = new long[len * p];
            for (int i = 0; i < part.length; i++) {
                part[i] = codes[start * p + i];
            }
            try (TensorScope scope = TensorScope.open()) {
                Tensor lp = prior.marginalLogProb(backend.of(part, len, p));
                if (lp.rank() != 1 || lp.shape(0) != len) {
                    throw new VqdistillException("the prior's marginalLogProb returned " + Shapes.format(lp.shape())
                            + ", expected [" + len + "]");
                }
                System.arraycopy(lp.toDoubleArray(), 0, out, start, len);
            }
            if (progress != null) {
                progress.advance((long) len * classes);
            }
        }
        return out;
    }

    /**
     * The joint log p(c) + log p(z | c) of grids with their classes, in chunks of {@code chunk} grids
     * per prior call, counting one prior row per grid on {@code progress}.
     *
     * @param codes   n * h*w codes, grid after grid
     * @param classes n classes, each in [0, |C|)
     */
    double[] jointLogProbs(int[] codes, int[] classes, int chunk, Progress progress) {
        int p = positions();
        int n = classes.length;
        double[] out = new double[n];
        for (int start = 0; start < n; start += chunk) {
            int len = Math.min(chunk, n - start);
            long[] part = new long[len * p];
            long[] cls = new long[len];
            for (int i = 0; i < part.length; i++) {
                part[i] = codes[start * p + i];
            }
            for (int i = 0; i < len; i++) {
                cls[i] = classes[start + i];
            }
            try (TensorScope scope = TensorScope.open()) {
                Tensor lp = prior.logProb(backend.of(part, len, p), backend.of(cls, len));
                if (lp.rank() != 1 || lp.shape(0) != len) {
                    throw new VqdistillException("the prior's logProb returned " + Shapes.format(lp.shape())
                            + ", expected [" + len + "]");
                }
                double[] got = lp.toDoubleArray();
                for (int i = 0; i < len; i++) {
                    out[start + i] = got[i] + classLogPrior[classes[start + i]];
                }
            }
            progress.advance(len);
        }
        return out;
    }

    /**
     * The class-marginal log p(z) of grids listed so that grids differing only in the last code are
     * adjacent (as an enumeration lists them): each such run is scored from two prior calls per class,
     * log p(z_&lt;last, 0 | c) and log p(z_last | z_&lt;last, c), instead of one per grid, since
     * log p(z | c) = log p(z_&lt;last, 0 | c) - log p(0 | z_&lt;last, c) + log p(z_last | z_&lt;last, c).
     * Counts |C| prior rows per grid on {@code progress} (which may be null), as
     * {@link #marginalLogProbs(int[], int, Progress)} does.
     *
     * @param codes n * h*w codes, grid after grid
     * @param chunk the most rows per prior call, >= 1
     */
    double[] marginalLogProbsByLastCode(int[] codes, int chunk, Progress progress) {
        int p = positions();
        int k = codebookSize();
        int last = p - 1;
        int n = codes.length / p;
        int[] runStart = new int[n + 1];
        int runs = 0;
        for (int j = 0; j < n; j++) {
            if (j == 0 || !Arrays.equals(codes, j * p, j * p + last, codes, (j - 1) * p, (j - 1) * p + last)) {
                runStart[runs++] = j;
            }
        }
        runStart[runs] = n;
        int rows = runs * classes;
        double[] whole = new double[rows];
        double[] next = new double[rows * k];
        for (int from = 0; from < rows; from += chunk) {
            int len = Math.min(chunk, rows - from);
            long[] grids = new long[len * p];
            long[] cls = new long[len];
            for (int r = 0; r < len; r++) {
                int run = (from + r) / classes;
                cls[r] = (from + r) % classes;
                for (int i = 0; i < last; i++) {
                    grids[r * p + i] = codes[runStart[run] * p + i];
                }
            }
            try (TensorScope scope = TensorScope.open()) {
                Tensor g = backend.of(grids, len, p);
                Tensor c = backend.of(cls, len);
                Tensor lp = prior.logProb(g, c);
                if (lp.rank() != 1 || lp.shape(0) != len) {
                    throw new VqdistillException("the prior's logProb returned " + Shapes.format(lp.shape())
                            + ", expected [" + len + "]");
                }
                System.arraycopy(lp.toDoubleArray(), 0, whole, from, len);
                System.arraycopy(checked(prior.nextLogProbs(g, c, last), len, last).toDoubleArray(), 0, next,
                        from * k, len * k);
            }
        }
        double[] out = new double[n];
        double[] joint = new double[classes];
        for (int run = 0; run < runs; run++) {
            for (int j = runStart[run]; j < runStart[run + 1]; j++) {
                int code = codes[j * p + last];
                for (int c = 0; c < classes; c++) {
                    int row = run * classes + c;
                    joint[c] = classLogPrior[c] + whole[row] - next[row * k] + next[row * k + code];
                }
                out[j] = Numerics.logSumExp(joint);
            }
        }
        if (progress != null) {
            progress.advance((long) n * classes);
        }
        return out;
    }
}
