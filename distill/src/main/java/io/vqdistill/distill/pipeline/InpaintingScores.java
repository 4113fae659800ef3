package io.vqdistill.distill.pipeline;

import io.vqdistill.api.Backend;
import io.vqdistill.api.DType;
import io.vqdistill.api.InvalidArgumentException;
import io.vqdistill.api.Tensor;
import io.vqdistill.api.TensorScope;
import io.vqdistill.api.circuit.Circuit;
import io.vqdistill.api.circuit.LeafFamily;
import io.vqdistill.api.circuit.Precision;
import io.vqdistill.circuits.MixtureEm;
import io.vqdistill.circuits.ShallowMixture;
import io.vqdistill.circuits.leaf.CategoricalFamily;
import io.vqdistill.circuits.leaf.GaussianFamily;
import io.vqdistill.distill.eval.PixelEncoding;
import io.vqdistill.models.data.ImageSet;
import java.util.ArrayList;
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
 * @param rows    one row per mask and model: the circuit's, then the baseline's
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

    /** Copies. */
    public InpaintingScores {
        rows = List.copyOf(rows);
    }

    /**
     * One mask and model.
     *
     * @param mask           the hidden region
     * @param model          {@value #CIRCUIT} or {@value #MEAN_IMAGE}
     * @param hiddenPixels   pixels hidden per image
     * @param mse            the conditional mean's mean squared error over the hidden pixels, [0, 1] scale
     * @param conditionalBpd -log2 p(x_u | x_o) per hidden pixel, averaged over the images, plus the offset
     */
    public record Row(Inpainting.Mask mask, String model, int hiddenPixels, double mse, double conditionalBpd) {
    }

    /**
     * Scores {@code circuit} and the mean-image baseline fitted on {@code train} on {@code images} for
     * each of {@code masks}; {@code seed} seeds the dequantisation noise of the images.
     *
     * @throws InvalidArgumentException when the circuit's variables are not the images' pixels, or its
     *                                  leaves are neither Gaussian nor categorical
     */
    public static InpaintingScores run(Backend backend, Circuit circuit, ImageSet train, ImageSet images,
                                       List<Inpainting.Mask> masks, long seed, ProgressListener progress) {
        Objects.requireNonNull(backend, "backend");
        Objects.requireNonNull(circuit, "circuit");
        Objects.requireNonNull(progress, "progress");
        int s = images.shape().pixels();
        if (circuit.numVariables() != s) {
            throw new InvalidArgumentException("the circuit has " + circuit.numVariables() + " variables but the"
                    + " images " + s + " pixels");
        }
        long t0 = System.nanoTime();
        PixelEncoding encoding = PixelEncoding.forLeafFamily(circuit.leafFamily().name());
        int n = images.size();
        float[] x = encoding.values(images, range(n), new SplittableRandom(seed));
        int[] levels = images.levels(range(n));
        List<Row> rows = new ArrayList<>();
        try (ShallowMixture baseline = meanImage(backend, circuit.leafFamily(), train, encoding);
                Tensor xs = backend.of(x, n, s)) {
            List<Circuit> models = List.of(circuit, baseline);
            double[][] joint = new double[2][];
            for (int m = 0; m < 2; m++) {
                try (Tensor ll = models.get(m).logLikelihood(xs)) {
                    joint[m] = ll.toDoubleArray();
                }
            }
            ProgressListener.track(progress, TASK, masks.size(), "masks", done -> {
                int finished = 0;
                for (Inpainting.Mask mask : masks) {
                    boolean[] observed = observed(mask, images, n);
                    for (int m = 0; m < 2; m++) {
                        rows.add(score(models.get(m), m == 0 ? CIRCUIT : MEAN_IMAGE, mask, backend, xs, levels,
                                observed, joint[m], encoding, n, s));
                    }
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
        int hidden = 0;
        for (int p = 0; p < s; p++) {
            hidden += observed[p] ? 0 : 1;
        }
        double squared = 0;
        double conditional = 0;
        for (int i = 0; i < n; i++) {
            conditional += joint[i] - marginal[i];
            for (int p = 0; p < s; p++) {
                if (!observed[i * s + p]) {
                    double level = encoding == PixelEncoding.DEQUANTISED ? 256.0 * mean[i * s + p] - 0.5
                            : mean[i * s + p];
                    double error = (level - levels[i * s + p]) / 255.0;
                    squared += error * error;
                }
            }
        }
        double bpd = -conditional / n / hidden / Math.log(2) + encoding.offsetBits();
        return new Row(mask, name, hidden, squared / ((double) n * hidden), bpd);
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

    /** The rows as CSV with a header: mask, model, hidden pixels, images, MSE, MSE / mean image's, conditional BPD. */
    public String csv() {
        StringBuilder out = new StringBuilder("mask,model,hidden_pixels,images,mse,mse_vs_mean_image,"
                + "conditional_bpd\n");
        for (Row r : rows) {
            double base = rows.stream().filter(o -> o.mask() == r.mask() && o.model().equals(MEAN_IMAGE))
                    .mapToDouble(Row::mse).findFirst().orElse(Double.NaN);
            out.append(String.format(Locale.ROOT, "%s,%s,%d,%d,%.6f,%.4f,%.4f%n", r.mask().label(), r.model(),
                    r.hiddenPixels(), images, r.mse(), r.mse() / base, r.conditionalBpd()));
        }
        return out.toString();
    }
}
