package io.vqdistill.distill.toy;

import io.vqdistill.api.model.LatentShape;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.function.ToDoubleFunction;

/** Ground truth by enumeration, in double precision. */
public final class Brute {
    private Brute() {
    }

    /** log sum_i e^v[i]. */
    public static double logSumExp(double[] v) {
        double m = Arrays.stream(v).max().orElse(Double.NEGATIVE_INFINITY);
        if (m == Double.NEGATIVE_INFINITY) {
            return m;
        }
        double s = 0;
        for (double x : v) {
            s += Math.exp(x - m);
        }
        return m + Math.log(s);
    }

    /** Every grid of {@code shape} that starts with {@code prefix}, in lexicographic order. */
    public static List<int[]> grids(LatentShape shape, int... prefix) {
        List<int[]> out = new ArrayList<>();
        int p = shape.positions();
        int k = shape.codebookSize();
        int free = p - prefix.length;
        long count = (long) Math.pow(k, free);
        for (long n = 0; n < count; n++) {
            int[] g = Arrays.copyOf(prefix, p);
            long rest = n;
            for (int i = p - 1; i >= prefix.length; i--) {
                g[i] = (int) (rest % k);
                rest /= k;
            }
            out.add(g);
        }
        return out;
    }

    /** The {@code n} grids of highest score among {@code grids}, best first. */
    public static List<int[]> best(List<int[]> grids, int n, ToDoubleFunction<int[]> score) {
        List<int[]> sorted = new ArrayList<>(grids);
        sorted.sort(Comparator.comparingDouble(score).reversed());
        return sorted.subList(0, Math.min(n, sorted.size()));
    }

    /** Grids as strings, for readable set comparisons. */
    public static List<String> keys(List<int[]> grids) {
        return grids.stream().map(Arrays::toString).toList();
    }

    /**
     * Pearson's chi-square statistic of observed counts against expected probabilities, cells with an
     * expected count below 5 pooled into one.
     *
     * @return {statistic, degrees of freedom}
     */
    public static double[] chiSquare(long[] observed, double[] probabilities) {
        long total = Arrays.stream(observed).sum();
        double statistic = 0;
        int cells = 0;
        double pooledExpected = 0;
        long pooledObserved = 0;
        for (int i = 0; i < observed.length; i++) {
            double e = probabilities[i] * total;
            if (e < 5) {
                pooledExpected += e;
                pooledObserved += observed[i];
            } else {
                statistic += (observed[i] - e) * (observed[i] - e) / e;
                cells++;
            }
        }
        if (pooledExpected > 0) {
            statistic += (pooledObserved - pooledExpected) * (pooledObserved - pooledExpected) / pooledExpected;
            cells++;
        }
        return new double[] {statistic, cells - 1};
    }

    /**
     * The upper 0.001 quantile of the chi-square distribution with {@code df} degrees of freedom
     * (Wilson-Hilferty approximation).
     */
    public static double chiSquareCritical(double df) {
        double z = 3.090232;
        double a = 2 / (9 * df);
        return df * Math.pow(1 - a + z * Math.sqrt(a), 3);
    }
}
