package io.vqdistill.circuits.leaf;

import java.util.Arrays;
import java.util.stream.IntStream;

/**
 * The per-pixel centres of the fast {@link GaussianKernel}: for every pixel i, centres
 * c_i1 < c_i2 < ... and an assignment of each component's leaf (j, i) to one of them such that
 * a_ji (mu_ji - c)^2 <= T, with a = 1/s^2. T is {@link #target()}: the requested one, or a larger
 * one (multiplied by 4 until it fits, at most 24 times, then one centre per pixel) where the centres
 * would exceed the budget.
 *
 * <p>Per pixel, the leaves are sorted by mean and swept once: leaf j accepts any centre in
 * [mu - s sqrt(T), mu + s sqrt(T)], and a centre is opened anew whenever the running intersection of
 * those intervals becomes empty, so that every centre serves a run of neighbouring means. A centre is
 * the a-weighted mean of its leaves' means, clamped into their intersection and rounded to float32,
 * the value the kernel subtracts. Pixels are processed in parallel.
 *
 * <p>Parameters and assignment are pixel-major: the n leaves of pixel i at [i n, (i + 1) n).
 */
final class Centres {
    /** How often T is multiplied by 4 before one centre per pixel is taken instead (T infinite). */
    private static final int MAX_RAISES = 24;

    private final float[] mean;
    private final float[] std;
    private final int[] order;
    private final int n;
    private final int s;
    private final int[] first;
    private final int[] assignment;
    private double[] value;
    private double target;

    private Centres(float[] mean, float[] logVar, int n, int s) {
        this.mean = mean;
        this.n = n;
        this.s = s;
        this.std = new float[mean.length];
        this.order = new int[mean.length];
        this.first = new int[s + 1];
        this.assignment = new int[mean.length];
        IntStream.range(0, s).parallel().forEach(i -> {
            for (int k = i * n; k < (i + 1) * n; k++) {
                std[k] = (float) Math.exp(0.5 * logVar[k]);
            }
            sortByMean(i);
        });
    }

    /**
     * Centres for n components over s pixels.
     *
     * @param mean   pixel-major [s, n]
     * @param logVar pixel-major [s, n]
     * @param target the requested T, > 0
     * @param budget the most centres in all, >= s
     */
    static Centres of(float[] mean, float[] logVar, int n, int s, double target, long budget) {
        Centres c = new Centres(mean, logVar, n, s);
        double t = target;
        int[] counts = c.counts(Math.sqrt(t));
        for (int tries = 0; IntStream.of(counts).asLongStream().sum() > budget; tries++) {
            t = tries < MAX_RAISES ? t * 4 : Double.POSITIVE_INFINITY;
            counts = c.counts(Math.sqrt(t));
        }
        c.target = t;
        for (int i = 0; i < s; i++) {
            c.first[i + 1] = c.first[i] + counts[i];
        }
        c.value = new double[c.first[s]];
        double scale = Math.sqrt(t);
        IntStream.range(0, s).parallel().forEach(i -> c.sweep(i, scale, true));
        return c;
    }

    /** The number of centres of every pixel for interval half-widths s * scale. */
    private int[] counts(double scale) {
        return IntStream.range(0, s).parallel().map(i -> sweep(i, scale, false)).toArray();
    }

    /**
     * The greedy sweep over pixel i's leaves in order of their means, for half-widths s * scale
     * (infinite: one centre); with {@code fill}, records the assignment and the centres from
     * {@code first[i]} on. Returns the number of centres.
     */
    private int sweep(int i, double scale, boolean fill) {
        boolean one = Double.isInfinite(scale);
        int g = first[i];
        int count = 0;
        double lo = Double.NEGATIVE_INFINITY;
        double hi = Double.POSITIVE_INFINITY;
        double weight = 0;
        double sum = 0;
        double opening = 0;
        for (int p = i * n; p < (i + 1) * n; p++) {
            int k = order[p];
            double nlo = lo;
            double nhi = hi;
            if (!one) {
                double r = std[k] * scale;
                nlo = Math.max(lo, mean[k] - r);
                nhi = Math.min(hi, mean[k] + r);
            }
            if (nlo > nhi || p == i * n) {
                if (fill && p > i * n) {
                    value[g++] = centre(weight, sum, opening, lo, hi);
                }
                opening = mean[k];
                count++;
                double r = std[k] * scale;
                nlo = one ? lo : mean[k] - r;
                nhi = one ? hi : mean[k] + r;
                weight = 0;
                sum = 0;
            }
            lo = nlo;
            hi = nhi;
            if (fill) {
                double a = 1 / ((double) std[k] * std[k]);
                weight += a;
                sum += a * mean[k];
                assignment[k] = g;
            }
        }
        if (fill) {
            value[g] = centre(weight, sum, opening, lo, hi);
        }
        return count;
    }

    /**
     * The weighted mean sum / weight clamped to [lo, hi], rounded to float32; the mean of the
     * group's first leaf where the weights overflow.
     */
    private static double centre(double weight, double sum, double opening, double lo, double hi) {
        double c = weight > 0 && Double.isFinite(weight) && Double.isFinite(sum) ? sum / weight : opening;
        return (float) Math.min(hi, Math.max(lo, c));
    }

    /** Sorts pixel i's leaves by mean into {@code order}: a radix sort of the means' ordered bits. */
    private void sortByMean(int i) {
        int at = i * n;
        int[] keys = new int[n];
        int[] index = new int[n];
        int[] keys2 = new int[n];
        int[] index2 = new int[n];
        for (int j = 0; j < n; j++) {
            int bits = Float.floatToRawIntBits(mean[at + j] + 0.0f);
            keys[j] = bits ^ (bits >> 31 | 0x80000000);
            index[j] = at + j;
        }
        int[] histogram = new int[257];
        for (int shift = 0; shift < 32; shift += 8) {
            Arrays.fill(histogram, 0);
            for (int j = 0; j < n; j++) {
                histogram[(keys[j] >>> shift & 0xff) + 1]++;
            }
            for (int b = 0; b < 256; b++) {
                histogram[b + 1] += histogram[b];
            }
            for (int j = 0; j < n; j++) {
                int slot = histogram[keys[j] >>> shift & 0xff]++;
                keys2[slot] = keys[j];
                index2[slot] = index[j];
            }
            int[] t = keys;
            keys = keys2;
            keys2 = t;
            t = index;
            index = index2;
            index2 = t;
        }
        System.arraycopy(index, 0, order, at, n);
    }

    /** The centres of pixel i are {@code first(i)} to {@code first(i + 1) - 1}. */
    int first(int pixel) {
        return first[pixel];
    }

    /** G, the number of centres over all pixels. */
    int size() {
        return value.length;
    }

    /** Centre g, a float32 value. */
    double value(int g) {
        return value[g];
    }

    /** The centre of leaf (j, i), by its pixel-major index i n + j. */
    int of(int leaf) {
        return assignment[leaf];
    }

    /** The T reached: a (mu - c)^2 <= T for every leaf; infinite for one centre per pixel. */
    double target() {
        return target;
    }
}
