package io.vqdistill.distill.pipeline;

import io.vqdistill.api.Backend;
import io.vqdistill.api.DType;
import io.vqdistill.api.InvalidArgumentException;
import io.vqdistill.api.Tensor;
import io.vqdistill.api.TensorScope;
import io.vqdistill.api.TopK;
import io.vqdistill.api.circuit.Circuit;
import io.vqdistill.api.circuit.LeafFamily;
import io.vqdistill.api.circuit.Precision;
import io.vqdistill.circuits.MixtureEm;
import io.vqdistill.circuits.ShallowMixture;
import io.vqdistill.circuits.leaf.CategoricalFamily;
import io.vqdistill.circuits.leaf.GaussianFamily;
import io.vqdistill.distill.eval.PixelEncoding;
import io.vqdistill.models.data.ImageSet;
import java.math.BigDecimal;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.SplittableRandom;

/**
 * Inpainting as numbers: for each mask, on every given image, the conditional mean's mean squared
 * error on the hidden pixels and the conditional log-likelihood log p(x_u | x_o) = log p(x) - log p(x_o),
 * for a circuit and for the mean-image baseline, a fully factorised model fitted on the training
 * images (one component: per-pixel Gaussians with standard deviations of at least
 * {@value #BASELINE_MIN_STD}, or per-pixel level histograms with Dirichlet smoothing
 * {@value #BASELINE_SMOOTHING}), whose conditional mean is the training set's mean image. Errors
 * are on the [0, 1] scale of level / 255 (a Gaussian value v is the level 256 v - 1/2), log-likelihoods
 * in bits per hidden pixel with the encoding's offset (as bits per dimension are).
 *
 * <p>Two optional kinds of rows sit beside them ({@link Settings}):
 * <ul>
 *   <li><b>tempered posteriors</b> of a shallow mixture: the components' posterior given the visible
 *   pixels raised to the power 1/T and renormalised, p_T(k | x_o) ∝ p(k | x_o)^(1/T), which mixes the
 *   components' means into the completion; its conditional likelihood is that of the predictive
 *   density sum_k p_T(k | x_o) p_k(x_u), a normalised density of the hidden pixels (T = 1 is the
 *   circuit's own conditional);</li>
 *   <li><b>the k nearest training images</b>, a nonparametric reference line that no circuit enters:
 *   the mean of the hidden pixels of the k training images closest to the image on its visible pixels
 *   (Euclidean, on level / 255); it has no likelihood (NaN).</li>
 * </ul>
 * Choose T and k on validation images, not on the test images.
 *
 * @param rows    per mask: the circuit's row, its tempered rows, the nearest-neighbour rows, the baseline's
 * @param images  images scored
 * @param seconds wall time
 */
public record InpaintingScores(List<Row> rows, int images, double seconds) {
    /** The name of the circuit's rows. */
    public static final String CIRCUIT = "circuit";
    /** The name of the baseline's rows. */
    public static final String MEAN_IMAGE = "mean image";
    /** The task {@link ProgressListener}s hear about, in masks. */
    public static final String TASK = "inpaint";
    /** The baseline's floor on the standard deviation (Gaussian leaves). */
    public static final double BASELINE_MIN_STD = 0.01;
    /** The baseline's categorical smoothing. */
    public static final double BASELINE_SMOOTHING = 0.1;
    /** Seeds the training images' dequantisation noise for the baseline. */
    private static final long BASELINE_NOISE_SEED = 13;
    /** Images the tempered and nearest-neighbour rows process together. */
    private static final int CHUNK = 128;

    /** Copies. */
    public InpaintingScores {
        rows = List.copyOf(rows);
    }

    /**
     * What to score.
     *
     * @param masks        the hidden parts, at least one
     * @param temperatures posterior temperatures T (finite, positive) for tempered rows; empty: none
     * @param neighbours   numbers k of nearest training images for reference rows; empty: none
     * @param seed         seeds the dequantisation noise of the images
     */
    public record Settings(List<Inpainting.Mask> masks, List<Double> temperatures, List<Integer> neighbours,
                           long seed) {
        /**
         * Copies and checks.
         *
         * @throws InvalidArgumentException when there is no mask, a temperature is not finite and
         *                                  positive, or a number of neighbours is below 1
         */
        public Settings {
            masks = List.copyOf(masks);
            temperatures = List.copyOf(temperatures);
            neighbours = List.copyOf(neighbours);
            if (masks.isEmpty()) {
                throw new InvalidArgumentException("inpainting scores need at least one mask");
            }
            for (double t : temperatures) {
                if (!(t > 0) || Double.isInfinite(t)) {
                    throw new InvalidArgumentException("a posterior temperature must be finite and positive, found "
                            + t);
                }
            }
            for (int k : neighbours) {
                if (k < 1) {
                    throw new InvalidArgumentException("the number of nearest training images must be at least 1,"
                            + " found " + k);
                }
            }
        }

        /** The circuit's and the baseline's rows only. */
        public static Settings of(List<Inpainting.Mask> masks, long seed) {
            return new Settings(masks, List.of(), List.of(), seed);
        }
    }

    /**
     * One mask and model.
     *
     * @param mask           the hidden region
     * @param model          {@value #CIRCUIT}, {@link #tempered(double)}, {@link #nearest(int)} or {@value #MEAN_IMAGE}
     * @param hiddenPixels   pixels hidden per image
     * @param mse            the conditional mean's mean squared error over the hidden pixels, [0, 1] scale
     * @param conditionalBpd -log2 p(x_u | x_o) per hidden pixel, averaged over the images, plus the offset;
     *                       NaN for the nearest-neighbour rows
     */
    public record Row(Inpainting.Mask mask, String model, int hiddenPixels, double mse, double conditionalBpd) {
    }

    /** The name of the rows of the posterior tempered by {@code t}, e.g. {@code circuit T=8}. */
    public static String tempered(double t) {
        return CIRCUIT + " T=" + BigDecimal.valueOf(t).stripTrailingZeros().toPlainString();
    }

    /** The name of the rows of the {@code k} nearest training images, e.g. {@code 20 nearest}. */
    public static String nearest(int k) {
        return k + " nearest";
    }

    /**
     * Scores {@code circuit} and the mean-image baseline fitted on {@code train} on {@code images}, with
     * the tempered and nearest-neighbour rows {@code settings} asks for.
     *
     * @throws InvalidArgumentException when the circuit's variables are not the images' pixels, its
     *                                  leaves are neither Gaussian nor categorical, temperatures are asked
     *                                  of a circuit that is not a shallow mixture, or more neighbours than
     *                                  training images
     */
    public static InpaintingScores run(Backend backend, Circuit circuit, ImageSet train, ImageSet images,
                                       Settings settings, ProgressListener progress) {
        Objects.requireNonNull(backend, "backend");
        Objects.requireNonNull(circuit, "circuit");
        Objects.requireNonNull(settings, "settings");
        Objects.requireNonNull(progress, "progress");
        int s = images.shape().pixels();
        if (circuit.numVariables() != s) {
            throw new InvalidArgumentException("the circuit has " + circuit.numVariables() + " variables but the"
                    + " images " + s + " pixels");
        }
        if (!settings.temperatures().isEmpty() && !(circuit instanceof ShallowMixture)) {
            throw new InvalidArgumentException("tempered posteriors need a shallow mixture, whose components are"
                    + " products of leaves; this circuit is a " + circuit.getClass().getSimpleName());
        }
        for (int k : settings.neighbours()) {
            if (k > train.size()) {
                throw new InvalidArgumentException("asked for the " + k + " nearest training images but there are "
                        + train.size());
            }
        }
        long t0 = System.nanoTime();
        PixelEncoding encoding = PixelEncoding.forLeafFamily(circuit.leafFamily().name());
        int n = images.size();
        float[] x = encoding.values(images, range(n), new SplittableRandom(settings.seed()));
        int[] levels = images.levels(range(n));
        List<Row> rows = new ArrayList<>();
        try (ShallowMixture baseline = meanImage(backend, circuit.leafFamily(), train, encoding);
                Tensor xs = backend.of(x, n, s);
                Nearest nearest = settings.neighbours().isEmpty() ? null : new Nearest(backend, train)) {
            List<Circuit> models = List.of(circuit, baseline);
            double[][] joint = new double[2][];
            for (int m = 0; m < 2; m++) {
                try (Tensor ll = models.get(m).logLikelihood(xs)) {
                    joint[m] = ll.toDoubleArray();
                }
            }
            ProgressListener.track(progress, TASK, settings.masks().size(), "masks", done -> {
                int finished = 0;
                for (Inpainting.Mask mask : settings.masks()) {
                    boolean[] observed = observed(mask, images, n);
                    rows.add(score(circuit, CIRCUIT, mask, backend, xs, levels, observed, joint[0], encoding, n, s));
                    if (!settings.temperatures().isEmpty()) {
                        rows.addAll(tempered((ShallowMixture) circuit, settings.temperatures(), mask, backend, xs,
                                levels, observed, encoding, n, s));
                    }
                    if (nearest != null) {
                        rows.addAll(nearest.score(settings.neighbours(), mask, images, levels, observed));
                    }
                    rows.add(score(baseline, MEAN_IMAGE, mask, backend, xs, levels, observed, joint[1], encoding, n,
                            s));
                    done.accept(++finished);
                }
                return null;
            });
        }
        return new InpaintingScores(rows, n, (System.nanoTime() - t0) / 1e9);
    }

    private static Row score(Circuit model, String name, Inpainting.Mask mask, Backend backend, Tensor xs,
                             int[] levels, boolean[] observed, double[] joint, PixelEncoding encoding, int n, int s) {
        double[] marginal;
        float[] mean;
        try (TensorScope scope = TensorScope.open()) {
            Tensor obs = backend.of(observed, n, s);
            marginal = model.marginalLogLikelihood(xs, obs).toDoubleArray();
            mean = model.conditionalMean(xs, obs).toFloatArray();
        }
        double conditional = 0;
        for (int i = 0; i < n; i++) {
            conditional += joint[i] - marginal[i];
        }
        int hidden = hidden(observed, s);
        return new Row(mask, name, hidden, squaredError(mean, levels, observed, encoding, 0, n, s) / ((double) n
                * hidden), bits(conditional, n, hidden, encoding));
    }

    /**
     * The rows of the tempered posteriors, in the order of {@code temperatures}: per chunk of images,
     * log p(k | x_o) and log p(k | x_u) from the circuit, log p_k(x_u) = log p(k | x_u) - log w_k + log p(x_u),
     * then for each T the completion p_T(. | x_o) . means and the predictive log sum_k p_T(k | x_o) p_k(x_u).
     */
    private static List<Row> tempered(ShallowMixture mixture, List<Double> temperatures, Inpainting.Mask mask,
                                      Backend backend, Tensor xs, int[] levels, boolean[] observed,
                                      PixelEncoding encoding, int n, int s) {
        int t = temperatures.size();
        double[] squared = new double[t];
        double[] conditional = new double[t];
        boolean[] hiddenPart = new boolean[observed.length];
        for (int i = 0; i < observed.length; i++) {
            hiddenPart[i] = !observed[i];
        }
        double[] logWeights = mixture.logWeights().clone();
        for (int k = 0; k < logWeights.length; k++) {
            logWeights[k] = Double.isFinite(logWeights[k]) ? logWeights[k] : 0;
        }
        try (TensorScope scope = TensorScope.open()) {
            Tensor means = mixture.leafFamily().mean(mixture.parameters());
            Tensor negLogWeights = backend.of(logWeights, 1, logWeights.length).toType(DType.FLOAT32).neg();
            for (int from = 0; from < n; from += CHUNK) {
                int to = Math.min(n, from + CHUNK);
                try (TensorScope chunk = TensorScope.open()) {
                    Tensor xb = xs.slice(0, from, to);
                    Tensor obs = backend.of(Arrays.copyOfRange(observed, from * s, to * s), to - from, s);
                    Tensor hid = backend.of(Arrays.copyOfRange(hiddenPart, from * s, to * s), to - from, s);
                    Tensor visiblePosterior = mixture.componentPosterior(xb, obs);
                    Tensor hiddenLikelihoods = mixture.componentPosterior(xb, hid).add(negLogWeights)
                            .add(mixture.marginalLogLikelihood(xb, hid).expandDims(1));
                    for (int j = 0; j < t; j++) {
                        Tensor logTempered = visiblePosterior.div(temperatures.get(j)).logSoftmax(1);
                        float[] mean = logTempered.exp().matmul(means).toFloatArray();
                        squared[j] += squaredError(mean, levels, observed, encoding, from, to, s);
                        for (double c : logTempered.add(hiddenLikelihoods).logSumExp(1).toDoubleArray()) {
                            conditional[j] += c;
                        }
                    }
                }
            }
        }
        int hidden = hidden(observed, s);
        List<Row> rows = new ArrayList<>();
        for (int j = 0; j < t; j++) {
            rows.add(new Row(mask, tempered(temperatures.get(j)), hidden, squared[j] / ((double) n * hidden),
                    bits(conditional[j], n, hidden, encoding)));
        }
        return rows;
    }

    /**
     * The training images on the device, for the nearest-neighbour rows: their pixels on the level / 255
     * scale, [T, S], and their levels on the host.
     */
    private static final class Nearest implements AutoCloseable {
        private final Backend backend;
        private final Tensor pixels;
        private final int[] levels;
        private final int size;

        Nearest(Backend backend, ImageSet train) {
            this.backend = backend;
            this.size = train.size();
            this.levels = train.levels(range(size));
            this.pixels = backend.of(scaled(levels), size, train.shape().pixels());
        }

        /**
         * For each k, the mean squared error of the mean of the k training images nearest on the visible
         * pixels: squared distances |x_o|^2 + |t_o|^2 - 2 x_o . t_o by one product per chunk of images,
         * the largest k of their negatives, then the neighbours' hidden levels averaged on the host.
         */
        List<Row> score(List<Integer> neighbours, Inpainting.Mask mask, ImageSet images, int[] imageLevels,
                        boolean[] observed) {
            int s = images.shape().pixels();
            int n = images.size();
            int most = neighbours.stream().mapToInt(Integer::intValue).max().orElseThrow();
            float[] visible = new float[s];
            for (int p = 0; p < s; p++) {
                visible[p] = observed[p] ? 1f : 0f;
            }
            double[] squared = new double[neighbours.size()];
            float[] x = scaled(imageLevels);
            try (TensorScope scope = TensorScope.open()) {
                Tensor keep = backend.of(visible, 1, s);
                Tensor train = pixels.mul(keep);
                Tensor trainNorms = train.square().sum(1).expandDims(0);
                Tensor trainT = train.transposeLast();
                for (int from = 0; from < n; from += CHUNK) {
                    int to = Math.min(n, from + CHUNK);
                    int[] order;
                    try (TensorScope chunk = TensorScope.open()) {
                        Tensor xb = backend.of(Arrays.copyOfRange(x, from * s, to * s), to - from, s).mul(keep);
                        Tensor negDistances = xb.matmul(trainT).mul(2.0).sub(trainNorms)
                                .sub(xb.square().sum(1).expandDims(1));
                        TopK top = negDistances.topK(most, 1);
                        order = top.indices().toType(DType.INT32).toIntArray();
                    }
                    for (int i = from; i < to; i++) {
                        double[] sum = new double[s];
                        int r = (i - from) * most;
                        for (int used = 1; used <= most; used++) {
                            int base = order[r + used - 1] * s;
                            for (int p = 0; p < s; p++) {
                                sum[p] += levels[base + p];
                            }
                            for (int q = 0; q < neighbours.size(); q++) {
                                if (neighbours.get(q) == used) {
                                    squared[q] += squaredLevelError(sum, used, imageLevels, observed, i, s);
                                }
                            }
                        }
                    }
                }
            }
            int hidden = hidden(observed, s);
            List<Row> rows = new ArrayList<>();
            for (int q = 0; q < neighbours.size(); q++) {
                rows.add(new Row(mask, nearest(neighbours.get(q)), hidden, squared[q] / ((double) n * hidden),
                        Double.NaN));
            }
            return rows;
        }

        @Override
        public void close() {
            pixels.close();
        }

        private static double squaredLevelError(double[] sum, int count, int[] truth, boolean[] observed, int i,
                                                int s) {
            double squared = 0;
            for (int p = 0; p < s; p++) {
                if (!observed[i * s + p]) {
                    double error = (sum[p] / count - truth[i * s + p]) / 255.0;
                    squared += error * error;
                }
            }
            return squared;
        }

        private static float[] scaled(int[] levels) {
            float[] out = new float[levels.length];
            for (int i = 0; i < levels.length; i++) {
                out[i] = levels[i] / 255f;
            }
            return out;
        }
    }

    /** The squared error on the hidden pixels of images [from, to), whose completions {@code mean} holds. */
    private static double squaredError(float[] mean, int[] levels, boolean[] observed, PixelEncoding encoding,
                                       int from, int to, int s) {
        double squared = 0;
        for (int i = from; i < to; i++) {
            for (int p = 0; p < s; p++) {
                if (!observed[i * s + p]) {
                    float v = mean[(i - from) * s + p];
                    double level = encoding == PixelEncoding.DEQUANTISED ? 256.0 * v - 0.5 : v;
                    double error = (level - levels[i * s + p]) / 255.0;
                    squared += error * error;
                }
            }
        }
        return squared;
    }

    private static int hidden(boolean[] observed, int s) {
        int hidden = 0;
        for (int p = 0; p < s; p++) {
            hidden += observed[p] ? 0 : 1;
        }
        return hidden;
    }

    private static double bits(double conditional, int n, int hidden, PixelEncoding encoding) {
        return -conditional / n / hidden / Math.log(2) + encoding.offsetBits();
    }

    /** Which pixels of every image the mask leaves observed, [n * S]. */
    private static boolean[] observed(Inpainting.Mask mask, ImageSet images, int n) {
        int s = images.shape().pixels();
        int w = images.shape().width();
        int h = images.shape().height();
        boolean[] out = new boolean[n * s];
        for (int p = 0; p < s; p++) {
            boolean seen = !mask.hides(p / w, p % w, h, w);
            for (int i = 0; i < n; i++) {
                out[i * s + p] = seen;
            }
        }
        return out;
    }

    /**
     * The fully factorised model of the training images, fitted by maximum likelihood: one EM update of
     * a one-component mixture, whose responsibilities are all 1.
     */
    private static ShallowMixture meanImage(Backend backend, LeafFamily family, ImageSet train,
                                            PixelEncoding encoding) {
        int s = train.shape().pixels();
        Map<String, Tensor> start;
        double minStd;
        if (family instanceof GaussianFamily) {
            start = Map.of("mean", backend.full(DType.FLOAT32, 0.5, 1, s), "log_var", backend.zeros(DType.FLOAT32, 1,
                    s));
            minStd = BASELINE_MIN_STD;
        } else if (family instanceof CategoricalFamily c) {
            start = Map.of("logits", backend.zeros(DType.FLOAT32, 1, s, c.categories()));
            minStd = 1;
        } else {
            throw new InvalidArgumentException("the mean-image baseline fits gaussian and categorical leaves, not "
                    + family.name());
        }
        MixtureEm.Settings settings = new MixtureEm.Settings(Precision.FAST, minStd,
                BASELINE_SMOOTHING);
        try (ShallowMixture one = ShallowMixture.builder(family).parameters(start).build();
                Tensor data = backend.of(encoding.values(train, range(train.size()),
                        new SplittableRandom(BASELINE_NOISE_SEED)), train.size(), s)) {
            return MixtureEm.step(one, data, settings, done -> { }).next();
        } finally {
            start.values().forEach(Tensor::close);
        }
    }

    private static int[] range(int n) {
        int[] idx = new int[n];
        for (int i = 0; i < n; i++) {
            idx[i] = i;
        }
        return idx;
    }

    /**
     * The rows as CSV with a header: mask, model, hidden pixels, images, MSE, MSE / mean image's, conditional
     * BPD (empty for the nearest-neighbour rows).
     */
    public String csv() {
        StringBuilder out = new StringBuilder("mask,model,hidden_pixels,images,mse,mse_vs_mean_image,"
                + "conditional_bpd\n");
        for (Row r : rows) {
            double base = rows.stream().filter(o -> o.mask() == r.mask() && o.model().equals(MEAN_IMAGE))
                    .mapToDouble(Row::mse).findFirst().orElse(Double.NaN);
            out.append(String.format(Locale.ROOT, "%s,%s,%d,%d,%.6f,%.4f,%s%n", r.mask().label(), r.model(),
                    r.hiddenPixels(), images, r.mse(), r.mse() / base, Double.isNaN(r.conditionalBpd()) ? ""
                    : String.format(Locale.ROOT, "%.4f", r.conditionalBpd())));
        }
        return out.toString();
    }
}
