package io.vqdistill.cli.render;

import io.vqdistill.api.FormatException;
import io.vqdistill.api.InvalidArgumentException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.TreeSet;

/**
 * The curve F of a prior's mass held by its most probable grids, as the share of all grids against
 * the share of the mass, read from the histogram CSV of an enumeration (its columns
 * {@code cumulative_grid_fraction} and {@code cumulative_mass}, most probable bin first). F is exact
 * at the bins' edges and taken as linear between them, where the grids of one bin have nearly equal
 * probabilities.
 *
 * @param fractions the shares of the grids at the bin edges, from 0, non-decreasing
 * @param masses    F at those shares, from 0, non-decreasing
 */
public record MassCurve(double[] fractions, double[] masses) {
    /** Checks the lengths. */
    public MassCurve {
        if (fractions.length < 2 || fractions.length != masses.length) {
            throw new InvalidArgumentException("a mass curve needs equally many shares and masses, at least two; found "
                    + fractions.length + " and " + masses.length);
        }
    }

    /**
     * Reads the histogram CSV {@code file} that {@code vqdistill enumerate} writes.
     *
     * @throws FormatException naming the file when a column is missing or a value is not a number
     */
    public static MassCurve read(Path file) {
        CsvTable t = CsvTable.read(file);
        int g = t.column("cumulative_grid_fraction");
        int m = t.column("cumulative_mass");
        if (g < 0 || m < 0) {
            throw FormatException.of(file, "header", "expected the columns cumulative_grid_fraction and "
                    + "cumulative_mass, found " + t.header());
        }
        double[] fractions = new double[t.rows().size() + 1];
        double[] masses = new double[fractions.length];
        for (int i = 0; i < t.rows().size(); i++) {
            List<String> r = t.rows().get(i);
            try {
                fractions[i + 1] = Double.parseDouble(r.get(g));
                masses[i + 1] = Double.parseDouble(r.get(m));
            } catch (NumberFormatException e) {
                throw FormatException.of(file, "line " + (i + 2), "not a number: " + r);
            }
        }
        return new MassCurve(fractions, masses);
    }

    /** F at the share {@code x} of the grids, linear between the bin edges. */
    public double at(double x) {
        if (x <= 0) {
            return 0;
        }
        for (int i = 1; i < fractions.length; i++) {
            if (fractions[i] >= x) {
                double span = fractions[i] - fractions[i - 1];
                return span <= 0 ? masses[i] : masses[i - 1] + (masses[i] - masses[i - 1]) * (x - fractions[i - 1]) / span;
            }
        }
        return masses[masses.length - 1];
    }

    /** The smallest share of the grids at which F reaches {@code level}, linear between the bin edges. */
    public double reach(double level) {
        return reach(fractions, masses, level);
    }

    private static double reach(double[] fractions, double[] masses, double level) {
        for (int i = 1; i < fractions.length; i++) {
            if (masses[i] >= level) {
                double rise = masses[i] - masses[i - 1];
                return rise <= 0 ? fractions[i - 1]
                        : fractions[i - 1] + (fractions[i] - fractions[i - 1]) * (level - masses[i - 1]) / rise;
            }
        }
        return fractions[fractions.length - 1];
    }

    /**
     * The mean and sample standard deviation of several curves at every bin edge of any of them.
     *
     * @param fractions the shares of the grids, increasing, from 0
     * @param mean      the mean F there
     * @param std       the standard deviation of F there (0 for one curve)
     */
    public record Average(double[] fractions, double[] mean, double[] std) {
        /** The smallest share at which the mean curve reaches {@code level}. */
        public double reach(double level) {
            return MassCurve.reach(fractions, mean, level);
        }
    }

    /** The average of {@code curves}, at least one. */
    public static Average average(List<MassCurve> curves) {
        if (curves.isEmpty()) {
            throw new InvalidArgumentException("an average needs at least one mass curve");
        }
        TreeSet<Double> edges = new TreeSet<>();
        for (MassCurve c : curves) {
            for (double f : c.fractions()) {
                edges.add(f);
            }
        }
        double[] x = edges.stream().mapToDouble(Double::doubleValue).toArray();
        double[] mean = new double[x.length];
        double[] std = new double[x.length];
        for (int i = 0; i < x.length; i++) {
            double[] v = new double[curves.size()];
            for (int k = 0; k < v.length; k++) {
                v[k] = curves.get(k).at(x[i]);
            }
            double m = Arrays.stream(v).average().orElseThrow();
            mean[i] = m;
            if (v.length > 1) {
                std[i] = Math.sqrt(Arrays.stream(v).map(a -> (a - m) * (a - m)).sum() / (v.length - 1));
            }
        }
        return new Average(x, mean, std);
    }
}
