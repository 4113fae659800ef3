package io.vqdistill.models.train;

import io.vqdistill.api.InvalidArgumentException;
import java.util.ArrayList;
import java.util.List;
import java.util.random.RandomGenerator;
import org.apache.commons.math3.special.Erf;

/**
 * The integration points of a continuous mixture: a rank-1 lattice of Korobov type, randomly
 * shifted and mapped to N(0, I) (randomised quasi-Monte Carlo).
 *
 * <p>The lattice of M points in [0, 1)^d has the generating vector g = (1, a, a^2, ..., a^(d-1))
 * mod M; point k (0 <= k < M) is frac(k g / M). Every g_j is coprime with M, so each coordinate
 * takes each value k / M exactly once: every one-dimensional projection is the regular grid. The
 * multiplier a is chosen, once per (M, d), among at most {@value #CANDIDATES} values coprime with M
 * (every one when fewer exist, else a spread of them by the golden ratio), as the one with the
 * smallest worst-case error P_2 in the Korobov space of smoothness 2 with unit weights:
 * P_2 = -1 + (1/M) sum_k prod_j (1 + 2 pi^2 B_2(frac(k g_j / M))), B_2(x) = x^2 - x + 1/6. A
 * shift s drawn uniformly from [0, 1)^d moves every point to frac(point + s), which keeps the
 * lattice structure and makes each point uniform on [0, 1)^d; the inverse normal distribution
 * function, applied to each coordinate, turns the points into draws of N(0, I). Immutable.
 */
public final class RqmcLattice {
    /** The most multipliers compared when choosing a. */
    static final int CANDIDATES = 64;
    /** Uniform coordinates are kept in [EDGE, 1 - EDGE] before the inverse normal function. */
    private static final double EDGE = 0x1p-53;
    private static final double GOLDEN = (Math.sqrt(5) - 1) / 2;

    private final int points;
    private final int dim;
    private final long multiplier;
    private final long[] generator;

    private RqmcLattice(int points, int dim, long multiplier) {
        this.points = points;
        this.dim = dim;
        this.multiplier = multiplier;
        this.generator = generator(points, dim, multiplier);
    }

    /**
     * The Korobov lattice of {@code points} points in {@code dim} dimensions, with the best of the
     * candidate multipliers.
     *
     * @throws InvalidArgumentException when {@code points} or {@code dim} is below 1
     */
    public static RqmcLattice korobov(int points, int dim) {
        if (points < 1) {
            throw InvalidArgumentException.of("points", points, ">= 1");
        }
        if (dim < 1) {
            throw InvalidArgumentException.of("dim", dim, ">= 1");
        }
        long best = 1;
        double bestError = Double.POSITIVE_INFINITY;
        for (long a : candidates(points)) {
            double e = worstCaseError(points, generator(points, dim, a));
            if (e < bestError) {
                bestError = e;
                best = a;
            }
        }
        return new RqmcLattice(points, dim, best);
    }

    private static long[] candidates(int m) {
        List<Long> coprime = new ArrayList<>();
        if (m <= 2) {
            return new long[] {1};
        }
        int total = 0;
        for (int a = 2; a < m; a++) {
            if (gcd(a, m) == 1) {
                total++;
            }
        }
        if (total <= CANDIDATES) {
            for (int a = 2; a < m; a++) {
                if (gcd(a, m) == 1) {
                    coprime.add((long) a);
                }
            }
        } else {
            for (int c = 1; coprime.size() < CANDIDATES; c++) {
                long a = 2 + (long) Math.floor((m - 2) * ((c * GOLDEN) % 1.0));
                while (gcd(a, m) != 1) {
                    a = a + 1 < m ? a + 1 : 2;
                }
                if (!coprime.contains(a)) {
                    coprime.add(a);
                }
            }
        }
        return coprime.stream().mapToLong(Long::longValue).toArray();
    }

    private static long gcd(long a, long b) {
        while (b != 0) {
            long t = a % b;
            a = b;
            b = t;
        }
        return a;
    }

    private static long[] generator(int m, int d, long a) {
        long[] g = new long[d];
        long p = 1 % m;
        for (int j = 0; j < d; j++) {
            g[j] = p;
            p = p * a % m;
        }
        return g;
    }

    private static double worstCaseError(int m, long[] g) {
        double sum = 0;
        for (long k = 0; k < m; k++) {
            double prod = 1;
            for (long gj : g) {
                double x = (double) (k * gj % m) / m;
                prod *= 1 + 2 * Math.PI * Math.PI * (x * x - x + 1.0 / 6);
            }
            sum += prod;
        }
        return sum / m - 1;
    }

    /** M, the number of points. */
    public int points() {
        return points;
    }

    /** d, the dimension. */
    public int dim() {
        return dim;
    }

    /** The chosen multiplier a. */
    public long multiplier() {
        return multiplier;
    }

    /** The generating vector (1, a, ..., a^(d-1)) mod M. */
    public long[] generator() {
        return generator.clone();
    }

    /** A shift drawn uniformly from [0, 1)^d by {@code rng}: d calls of {@code nextDouble()}. */
    public double[] shift(RandomGenerator rng) {
        double[] s = new double[dim];
        for (int j = 0; j < dim; j++) {
            s[j] = rng.nextDouble();
        }
        return s;
    }

    /**
     * The shifted points in [0, 1)^d, point-major [M, d]: frac(k g_j / M + shift_j).
     *
     * @throws InvalidArgumentException when {@code shift} does not have d coordinates in [0, 1)
     */
    public double[] uniform(double[] shift) {
        if (shift.length != dim) {
            throw InvalidArgumentException.of("shift", shift.length + " coordinates", dim + " coordinates");
        }
        for (double s : shift) {
            if (!(s >= 0 && s < 1)) {
                throw InvalidArgumentException.of("shift", s, "a coordinate in [0, 1)");
            }
        }
        double[] u = new double[points * dim];
        for (int k = 0; k < points; k++) {
            for (int j = 0; j < dim; j++) {
                double x = (double) ((long) k * generator[j] % points) / points + shift[j];
                u[k * dim + j] = x >= 1 ? x - 1 : x;
            }
        }
        return u;
    }

    /**
     * The shifted points mapped to N(0, I) by the inverse normal distribution function of each
     * coordinate, point-major [M, d], rounded to FLOAT32 (the decoders' input).
     */
    public float[] normal(double[] shift) {
        double[] u = uniform(shift);
        float[] z = new float[u.length];
        for (int i = 0; i < u.length; i++) {
            double p = Math.min(1 - EDGE, Math.max(EDGE, u[i]));
            z[i] = (float) (Math.sqrt(2) * Erf.erfInv(2 * p - 1));
        }
        return z;
    }

    /** A description for provenance, e.g. {@code rank-1 Korobov lattice, M = 1024, d = 16, a = 389}. */
    public String describe() {
        return "rank-1 Korobov lattice, M = " + points + ", d = " + dim + ", a = " + multiplier;
    }
}
