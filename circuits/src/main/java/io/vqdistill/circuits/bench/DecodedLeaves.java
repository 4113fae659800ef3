package io.vqdistill.circuits.bench;

import io.vqdistill.api.Backend;
import io.vqdistill.api.InvalidArgumentException;
import io.vqdistill.api.Tensor;
import io.vqdistill.circuits.ShallowMixture;
import io.vqdistill.circuits.leaf.GaussianFamily;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * Gaussian leaves that look like a VQ-VAE decoder's, and images that look like the data, for
 * benchmarks and accuracy tests of the mixture evaluation without a trained model.
 *
 * <p>Each component draws a stroke image (two to four thick line segments on a grid ceil(sqrt(S))
 * pixels wide, read row by row up to S pixels; 28 x 28 for S = 784) from one of a few prototypes. A pixel the strokes leave empty or fill is confident: level 0 or 255, mean
 * (level + 0.5)/256 moved by less than 0.3/256, standard deviation at the 1e-3 clamp, as a decoder
 * trained on dequantised pixels gives them. A pixel on a stroke's edge is uncertain: mean the ink
 * density, standard deviation log-uniform in [0.02, 0.2]. With {@code nearDuplicates} every
 * component of a prototype shares its confident pixels and differs only in the uncertain ones (the
 * hard case for ranking); otherwise each is shifted by up to one pixel and its edges move.
 *
 * <p>{@link #image} draws data near a component: its confident levels kept, the uncertain ones drawn
 * around the mean, every level dequantised to (p + u)/256 with u ~ U[0, 1).
 */
public final class DecodedLeaves {
    private static final double MIN_STD = GaussianFamily.DEFAULT_MIN_STD;

    private final int variables;
    private final int components;
    private final float[] mean;
    private final float[] logVar;
    private final int[] levels;

    private DecodedLeaves(int variables, int components, float[] mean, float[] logVar, int[] levels) {
        this.variables = variables;
        this.components = components;
        this.mean = mean;
        this.logVar = logVar;
        this.levels = levels;
    }

    /**
     * Generates the leaves of {@code components} components over {@code variables} pixels.
     *
     * @param variables      S >= 1
     * @param components     N >= 1
     * @param prototypes     distinct stroke images the components vary, >= 1
     * @param nearDuplicates whether components of one prototype share their confident pixels
     * @param seed           the seed of every random choice
     */
    public static DecodedLeaves generate(int variables, int components, int prototypes, boolean nearDuplicates,
                                         long seed) {
        if (variables < 1 || components < 1 || prototypes < 1) {
            throw new InvalidArgumentException("decoded leaves need variables, components and prototypes >= 1,"
                    + " found " + variables + ", " + components + " and " + prototypes);
        }
        int s = variables;
        int side = (int) Math.ceil(Math.sqrt(s));
        SplittableRandom rng = new SplittableRandom(seed);
        double[][] shapes = new double[prototypes][];
        for (int p = 0; p < prototypes; p++) {
            shapes[p] = strokes(side, rng);
        }
        float[] mean = new float[Math.multiplyExact(components, s)];
        float[] logVar = new float[mean.length];
        int[] levels = new int[mean.length];
        for (int j = 0; j < components; j++) {
            double[] ink = nearDuplicates ? shapes[j % prototypes]
                    : shift(shapes[rng.nextInt(prototypes)], side, rng.nextInt(3) - 1, rng.nextInt(3) - 1);
            // the grid holds side * side >= S pixels; the first S count
            for (int i = 0; i < s; i++) {
                double v = nearDuplicates ? ink[i] : ink[i] + 0.08 * rng.nextGaussian();
                boolean confident = nearDuplicates ? ink[i] < 0.1 || ink[i] > 0.9 : v < 0.1 || v > 0.9;
                int k = j * s + i;
                if (confident) {
                    int level = v < 0.5 ? 0 : 255;
                    levels[k] = level;
                    mean[k] = (float) ((level + 0.5 + (level == 0 ? 0.2 : -0.3) * rng.nextDouble()) / 256);
                    logVar[k] = (float) (2 * Math.log(MIN_STD));
                } else {
                    double m = nearDuplicates ? Math.min(0.9, Math.max(0.1, v + 0.05 * rng.nextGaussian())) : v;
                    levels[k] = -1;
                    mean[k] = (float) m;
                    logVar[k] = (float) (2 * (Math.log(0.02) + rng.nextDouble() * Math.log(10)));
                }
            }
        }
        return new DecodedLeaves(s, components, mean, logVar, levels);
    }

    /** A stroke image: two to four segments, values in [0, 1] (ink density). */
    private static double[] strokes(int side, SplittableRandom rng) {
        double[] img = new double[side * side];
        int count = 2 + rng.nextInt(3);
        for (int c = 0; c < count; c++) {
            double x0 = side * (0.2 + 0.6 * rng.nextDouble());
            double y0 = side * (0.2 + 0.6 * rng.nextDouble());
            double x1 = side * (0.2 + 0.6 * rng.nextDouble());
            double y1 = side * (0.2 + 0.6 * rng.nextDouble());
            double width = 1 + side / 28.0 * 1.2 * rng.nextDouble();
            for (int y = 0; y < side; y++) {
                for (int x = 0; x < side; x++) {
                    double d = segmentDistance(x + 0.5, y + 0.5, x0, y0, x1, y1);
                    double v = Math.min(1, Math.max(0, width + 0.5 - d));
                    img[y * side + x] = Math.max(img[y * side + x], v);
                }
            }
        }
        return img;
    }

    private static double segmentDistance(double px, double py, double x0, double y0, double x1, double y1) {
        double dx = x1 - x0;
        double dy = y1 - y0;
        double l2 = dx * dx + dy * dy;
        double t = l2 == 0 ? 0 : Math.max(0, Math.min(1, ((px - x0) * dx + (py - y0) * dy) / l2));
        double qx = x0 + t * dx - px;
        double qy = y0 + t * dy - py;
        return Math.sqrt(qx * qx + qy * qy);
    }

    private static double[] shift(double[] img, int side, int sx, int sy) {
        double[] out = new double[img.length];
        for (int y = 0; y < side; y++) {
            for (int x = 0; x < side; x++) {
                int xx = x - sx;
                int yy = y - sy;
                out[y * side + x] = xx < 0 || yy < 0 || xx >= side || yy >= side ? 0 : img[yy * side + xx];
            }
        }
        return out;
    }

    /** S. */
    public int variables() {
        return variables;
    }

    /** N. */
    public int components() {
        return components;
    }

    /** The means, row-major [N, S], a copy. */
    public float[] mean() {
        return mean.clone();
    }

    /** The log variances, row-major [N, S], a copy. */
    public float[] logVar() {
        return logVar.clone();
    }

    /** The share of leaves whose standard deviation is at the 1e-3 clamp. */
    public double clampedShare() {
        long clamped = 0;
        for (int k = 0; k < levels.length; k++) {
            clamped += levels[k] >= 0 ? 1 : 0;
        }
        return (double) clamped / levels.length;
    }

    /** The leaves as the Gaussian family's parameters on {@code backend}, owned by the caller. */
    public Map<String, Tensor> tensors(Backend backend) {
        Map<String, Tensor> p = new LinkedHashMap<>();
        p.put("mean", backend.of(mean, components, variables));
        try {
            p.put("log_var", backend.of(logVar, components, variables));
        } catch (RuntimeException e) {
            p.values().forEach(Tensor::close);
            throw e;
        }
        return p;
    }

    /** A uniformly weighted mixture of these leaves on {@code backend}, with the paper's std clamp. */
    public ShallowMixture mixture(Backend backend) {
        Map<String, Tensor> p = tensors(backend);
        try {
            return ShallowMixture.builder(new GaussianFamily()).parameters(p).build();
        } finally {
            p.values().forEach(Tensor::close);
        }
    }

    /**
     * An image near component {@code component}: its confident levels, uncertain pixels at a level
     * drawn from the leaf, each level dequantised to (p + u)/256; S values.
     */
    public float[] image(int component, SplittableRandom rng) {
        float[] x = new float[variables];
        for (int i = 0; i < variables; i++) {
            int k = component * variables + i;
            int level = levels[k];
            if (level < 0) {
                double v = mean[k] + Math.exp(0.5 * logVar[k]) * rng.nextGaussian();
                level = (int) Math.max(0, Math.min(255, Math.floor(256 * v)));
            }
            x[i] = (float) ((level + rng.nextDouble()) / 256);
        }
        return x;
    }

    /** {@code count} images, each near a component drawn uniformly; row-major [count, S]. */
    public float[] images(int count, SplittableRandom rng) {
        float[] out = new float[Math.multiplyExact(count, variables)];
        for (int r = 0; r < count; r++) {
            System.arraycopy(image(rng.nextInt(components), rng), 0, out, r * variables, variables);
        }
        return out;
    }
}
