package io.vqdistill.models.train;

import io.vqdistill.api.Backend;
import io.vqdistill.api.DType;
import io.vqdistill.api.FormatException;
import io.vqdistill.api.InvalidArgumentException;
import io.vqdistill.api.ReduceOp;
import io.vqdistill.api.Tensor;
import io.vqdistill.api.TensorScope;
import io.vqdistill.formats.SafeTensors;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.function.Supplier;

/**
 * The codebook updates of {@link CodebookTraining} that happen outside the optimiser: EMA updates
 * and dead-code restarts after each training step, and the k-means initialisation before the first.
 * Engine-free: the sums run on any backend's {@link Tensor} (the one-hot assignment matrix of a
 * batch times its encoder outputs), the few per-code scalars on the host. Encoder outputs and
 * codebooks are passed as row-major float arrays, one row of D values per vector.
 *
 * <p>Its state (the EMA's hidden sums and step count, the steps since each code was last used) is
 * saved beside the optimiser's in the resume file under names starting with {@link #STATE_PREFIX},
 * so a resumed run continues exactly.
 */
public final class CodebookUpdates {
    /** The prefix of this state's tensor names in a resume file. */
    public static final String STATE_PREFIX = "codebook_training.";
    private static final String EMA_SIZE = STATE_PREFIX + "ema_cluster_size";
    private static final String EMA_SUM = STATE_PREFIX + "ema_embedding_sum";
    private static final String EMA_STEPS = STATE_PREFIX + "ema_steps";
    private static final String UNUSED = STATE_PREFIX + "steps_unused";

    private final CodebookTraining options;
    private final int k;
    private final int d;
    private final Backend backend;
    private final long seed;
    private final float[] hiddenSize;
    private final float[] hiddenSum;
    private final long[] unused;
    private long steps;

    /**
     * Updates of a codebook of {@code k} codes of {@code d} values under {@code options}, computed on
     * {@code backend}; {@code seed} draws the restarted codes' encoder outputs.
     */
    public CodebookUpdates(CodebookTraining options, int k, int d, Backend backend, long seed) {
        if (k < 1 || d < 1) {
            throw new InvalidArgumentException("a codebook needs k >= 1 and d >= 1, found " + k + " and " + d);
        }
        this.options = options;
        this.k = k;
        this.d = d;
        this.backend = backend;
        this.seed = seed;
        this.hiddenSize = new float[k];
        this.hiddenSum = new float[k * d];
        this.unused = new long[k];
    }

    /** True when anything happens after a training step (EMA updates or restarts). */
    public boolean afterEveryStep() {
        return options.ema() || options.restarts();
    }

    /**
     * Applies the step's updates given the encoder outputs {@code encoded} (N rows) of the batch the
     * optimiser just stepped on and their {@code codes} (N, the nearest code of each before the
     * step). Returns the new codebook (K rows), or null when it did not change; {@code current}
     * reads the codebook as it is, and is called only when needed.
     */
    public float[] afterStep(float[] encoded, long[] codes, Supplier<float[]> current) {
        int n = codes.length;
        if (encoded.length != (long) n * d) {
            throw new InvalidArgumentException("expected " + n + " encoder outputs of " + d + " values, found "
                    + encoded.length + " values");
        }
        steps++;
        float[] counts;
        float[] sums = null;
        try (TensorScope scope = TensorScope.open()) {
            Tensor onehot = oneHot(codes);
            counts = onehot.sum(0).toFloatArray();
            if (options.ema()) {
                sums = onehot.transposeLast().matmul(backend.of(encoded, n, d)).toFloatArray();
            }
        }
        float[] codebook = null;
        if (options.ema()) {
            codebook = emaUpdate(counts, sums);
        }
        if (options.restarts()) {
            codebook = restartDeadCodes(counts, encoded, n, codebook, current);
        }
        return codebook;
    }

    /** One-hot rows [N, K] FLOAT32 of the codes. */
    private Tensor oneHot(long[] codes) {
        for (long c : codes) {
            if (c < 0 || c >= k) {
                throw new InvalidArgumentException("code " + c + " is outside 0.." + (k - 1));
            }
        }
        return backend.of(codes, codes.length, 1).eq(backend.arange(k).reshape(1, k)).toType(DType.FLOAT32);
    }

    /** The EMA step of the hidden sums; returns the codebook they give. */
    private float[] emaUpdate(float[] counts, float[] sums) {
        float keep = (float) options.emaDecay();
        float take = 1 - keep;
        for (int j = 0; j < k; j++) {
            hiddenSize[j] = keep * hiddenSize[j] + take * counts[j];
        }
        for (int i = 0; i < hiddenSum.length; i++) {
            hiddenSum[i] = keep * hiddenSum[i] + take * sums[i];
        }
        double debias = debias();
        double[] size = new double[k];
        double total = 0;
        for (int j = 0; j < k; j++) {
            size[j] = hiddenSize[j] / debias;
            total += size[j];
        }
        double eps = CodebookTraining.EMA_EPSILON;
        float[] codebook = new float[k * d];
        for (int j = 0; j < k; j++) {
            double smoothed = (size[j] + eps) / (total + k * eps) * total;
            for (int c = 0; c < d; c++) {
                codebook[j * d + c] = (float) (hiddenSum[j * d + c] / debias / smoothed);
            }
        }
        return codebook;
    }

    /** 1 - gamma^t after t EMA steps: divides the zero-started hidden sums into averages. */
    private double debias() {
        return 1 - Math.pow(options.emaDecay(), steps);
    }

    /**
     * Counts the steps each code went unused and sets every code unused for
     * {@link CodebookTraining#deadCodeSteps()} steps to a distinct random row of {@code encoded}
     * (rows repeat only when more codes are dead than there are rows). Returns the codebook, or
     * null when no code was dead and {@code codebook} was null.
     */
    private float[] restartDeadCodes(float[] counts, float[] encoded, int n, float[] codebook,
            Supplier<float[]> current) {
        List<Integer> dead = new ArrayList<>();
        for (int j = 0; j < k; j++) {
            unused[j] = counts[j] > 0 ? 0 : unused[j] + 1;
            if (unused[j] >= options.deadCodeSteps()) {
                dead.add(j);
            }
        }
        if (dead.isEmpty()) {
            return codebook;
        }
        float[] out = codebook != null ? codebook : current.get().clone();
        int[] rows = permutation(n, new SplittableRandom(EpochRunner.mix(seed, steps)));
        double debias = options.ema() ? debias() : 0;
        for (int i = 0; i < dead.size(); i++) {
            int j = dead.get(i);
            int row = rows[i % n];
            System.arraycopy(encoded, row * d, out, j * d, d);
            unused[j] = 0;
            if (options.ema()) {
                // hidden sums whose debiased averages are one vector equal to the new code
                hiddenSize[j] = (float) debias;
                for (int c = 0; c < d; c++) {
                    hiddenSum[j * d + c] = (float) (debias * encoded[row * d + c]);
                }
            }
        }
        return out;
    }

    /** A uniformly random permutation of 0..n-1 (Fisher-Yates). */
    private static int[] permutation(int n, SplittableRandom rng) {
        int[] p = new int[n];
        for (int i = 0; i < n; i++) {
            p[i] = i;
        }
        for (int i = n - 1; i > 0; i--) {
            int j = rng.nextInt(i + 1);
            int t = p[i];
            p[i] = p[j];
            p[j] = t;
        }
        return p;
    }

    /**
     * The k-means codebook of {@code points} (N rows of {@code d} values): K distinct random points
     * drawn with {@code rng} (repeating only when N < K), then {@code iterations} Lloyd iterations
     * (assign each point to its nearest centre, move each centre to the mean of its points; a centre
     * without points stays). {@code errors}, when not null, receives the mean squared quantisation
     * error per point before each iteration and after the last ({@code iterations + 1} values).
     */
    public static float[] kmeans(Backend backend, float[] points, int d, int k, int iterations, SplittableRandom rng,
            double[] errors) {
        int n = points.length / d;
        if (n < 1 || points.length != n * d) {
            throw new InvalidArgumentException("k-means needs at least one point of " + d + " values, found "
                    + points.length + " values");
        }
        int[] rows = permutation(n, rng);
        float[] centres = new float[k * d];
        for (int j = 0; j < k; j++) {
            System.arraycopy(points, rows[j % n] * d, centres, j * d, d);
        }
        try (TensorScope scope = TensorScope.open()) {
            Tensor x = backend.of(points, n, d);
            Tensor squares = x.square().reduce(ReduceOp.SUM, 1, true);
            for (int it = 0; it <= iterations; it++) {
                try (TensorScope step = TensorScope.open()) {
                    Tensor c = backend.of(centres, k, d);
                    Tensor dist = squares.sub(x.matmul(c.transposeLast()).mul(2))
                            .add(c.square().sum(1).reshape(1, k));
                    Tensor nearest = dist.neg().argMax(1);
                    if (errors != null) {
                        errors[it] = dist.takeAlong(1, nearest.reshape(n, 1)).clamp(0, Double.MAX_VALUE)
                                .sumAll().item() / n;
                    }
                    if (it == iterations) {
                        break;
                    }
                    Tensor onehot = nearest.reshape(n, 1).eq(backend.arange(k).reshape(1, k)).toType(DType.FLOAT32);
                    float[] counts = onehot.sum(0).toFloatArray();
                    float[] sums = onehot.transposeLast().matmul(x).toFloatArray();
                    for (int j = 0; j < k; j++) {
                        if (counts[j] > 0) {
                            for (int c2 = 0; c2 < d; c2++) {
                                centres[j * d + c2] = sums[j * d + c2] / counts[j];
                            }
                        }
                    }
                }
            }
        }
        return centres;
    }

    /** The state to save beside the optimiser's, named under {@link #STATE_PREFIX}. */
    public List<SafeTensors.Entry> state() {
        return List.of(SafeTensors.Entry.of(EMA_SIZE, hiddenSize.clone(), k),
                SafeTensors.Entry.of(EMA_SUM, hiddenSum.clone(), k, d),
                SafeTensors.Entry.of(EMA_STEPS, new long[] {steps}, 1),
                SafeTensors.Entry.of(UNUSED, unused.clone(), k));
    }

    /** Restores {@link #state()} from a resume file; a missing or misshapen tensor names the file. */
    public void restore(SafeTensors file) {
        if (!file.contains(EMA_STEPS)) {
            throw FormatException.of(file.file(), EMA_STEPS, "missing: the run was saved without its codebook"
                    + " training state");
        }
        System.arraycopy(file.get(EMA_SIZE, DType.FLOAT32, k).toFloats(), 0, hiddenSize, 0, k);
        System.arraycopy(file.get(EMA_SUM, DType.FLOAT32, k, d).toFloats(), 0, hiddenSum, 0, k * d);
        steps = file.get(EMA_STEPS, DType.INT64, 1).buffer().getLong(0);
        long[] u = new long[k];
        file.get(UNUSED, DType.INT64, k).buffer().asLongBuffer().get(u);
        System.arraycopy(u, 0, unused, 0, k);
    }
}
