package io.vqdistill.distill.eval;

import io.vqdistill.api.InvalidArgumentException;
import io.vqdistill.formats.AtomicFiles;
import java.io.IOException;
import java.io.Serializable;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Locale;
import org.apache.commons.csv.CSVPrinter;

/**
 * A histogram of log p(z) over a set of latent grids, in bins of equal width in nats counted down
 * from 0: bin i holds the grids with -(i+1)w &lt; log p(z) &lt;= -i w, each with its number of grids and
 * its probability mass sum p(z) (float64). Grids below the last bin fall into one tail bin, grids of
 * probability zero are counted apart. Since the bins are ordered by p(z), the cumulative counts and
 * masses at bin edges are exactly the points of the curve F(i) = sum of the i most probable p(z)
 * (the prior's use of its latent space) at those i. Histograms of disjoint sets of grids
 * {@linkplain #merge merge} by adding counts and masses, so shards of an enumeration can be counted
 * anywhere. Not thread-safe.
 */
public final class LogProbHistogram implements Serializable {
    private static final long serialVersionUID = 1L;

    private final double binWidth;
    private final long[] counts;
    private final double[] masses;
    private long tailCount;
    private double tailMass;
    private long zeroCount;

    /**
     * An empty histogram.
     *
     * @param binWidth the width w of a bin in nats, finite and > 0
     * @param bins     the number of bins, >= 1; they cover log p(z) down to -bins * w
     */
    public LogProbHistogram(double binWidth, int bins) {
        if (!(binWidth > 0) || Double.isInfinite(binWidth)) {
            throw new InvalidArgumentException("the bin width must be a finite number of nats > 0, found " + binWidth);
        }
        if (bins < 1) {
            throw new InvalidArgumentException("the number of bins must be >= 1, found " + bins);
        }
        this.binWidth = binWidth;
        this.counts = new long[bins];
        this.masses = new double[bins];
    }

    /** Counts every entry of {@code logProbs} (nats; minus infinity for probability zero; NaN is refused). */
    public void add(double[] logProbs) {
        for (double lp : logProbs) {
            if (Double.isNaN(lp)) {
                throw new InvalidArgumentException("log p(z) is NaN");
            }
            if (lp == Double.NEGATIVE_INFINITY) {
                zeroCount++;
                continue;
            }
            double bin = Math.floor(-lp / binWidth);
            if (bin >= counts.length) {
                tailCount++;
                tailMass += Math.exp(lp);
            } else {
                int i = (int) Math.max(0, bin);
                counts[i]++;
                masses[i] += Math.exp(lp);
            }
        }
    }

    /**
     * Adds the counts and masses of {@code other}, a histogram of other grids with the same bins.
     *
     * @return this histogram
     * @throws InvalidArgumentException when the bins differ
     */
    public LogProbHistogram merge(LogProbHistogram other) {
        if (other.binWidth != binWidth || other.counts.length != counts.length) {
            throw new InvalidArgumentException("cannot merge a histogram of " + other.counts.length + " bins of "
                    + other.binWidth + " nats into one of " + counts.length + " bins of " + binWidth + " nats");
        }
        for (int i = 0; i < counts.length; i++) {
            counts[i] += other.counts[i];
            masses[i] += other.masses[i];
        }
        tailCount += other.tailCount;
        tailMass += other.tailMass;
        zeroCount += other.zeroCount;
        return this;
    }

    /** The width of a bin in nats. */
    public double binWidth() {
        return binWidth;
    }

    /** The number of bins, the tail not counted. */
    public int bins() {
        return counts.length;
    }

    /** The grids in bin {@code i}. */
    public long count(int i) {
        return counts[i];
    }

    /** The probability mass sum p(z) of the grids in bin {@code i}. */
    public double mass(int i) {
        return masses[i];
    }

    /** The grids below the last bin, of log p(z) &lt;= -bins * w but above minus infinity. */
    public long tailCount() {
        return tailCount;
    }

    /** The probability mass of the tail's grids. */
    public double tailMass() {
        return tailMass;
    }

    /** The grids of probability zero. */
    public long zeroCount() {
        return zeroCount;
    }

    /** Every grid counted. */
    public long total() {
        return Arrays.stream(counts).sum() + tailCount + zeroCount;
    }

    /** The probability mass of every grid counted (1 up to rounding for a whole enumeration). */
    public double totalMass() {
        return Arrays.stream(masses).sum() + tailMass;
    }

    /**
     * Where the most probable grids reach {@code level} of the total mass: the number of grids before
     * the bin in which the cumulative mass (most probable first) reaches it, and after that bin. The
     * exact count of the curve F lies between the two.
     *
     * @param level a fraction in (0, 1]
     * @return {lower, upper} numbers of grids
     */
    public long[] gridsToReach(double level) {
        if (!(level > 0) || level > 1) {
            throw new InvalidArgumentException("the mass level must be in (0, 1], found " + level);
        }
        double target = level * totalMass();
        long before = 0;
        double mass = 0;
        for (int i = 0; i < counts.length; i++) {
            if (mass + masses[i] >= target && counts[i] > 0) {
                return new long[] {before, before + counts[i]};
            }
            mass += masses[i];
            before += counts[i];
        }
        return new long[] {before, before + tailCount};
    }

    /**
     * Writes the histogram as CSV, atomically: one row per bin (and the tail, and the zero-probability
     * grids), most probable first, with the cumulative fraction of grids and of mass.
     */
    public void writeCsv(Path file) {
        AtomicFiles.writeString(file, csv());
    }

    /** The rows of {@link #writeCsv(Path)}, with Apache Commons CSV and '\n' between records. */
    public String csv() {
        double total = total();
        double totalMass = totalMass();
        StringBuilder text = new StringBuilder();
        try (CSVPrinter csv = new CSVPrinter(text, Sweep.CSV_FORMAT)) {
            csv.printRecord("bin", "log_p_upper", "log_p_lower", "grids", "mass", "cumulative_grid_fraction",
                    "cumulative_mass");
            long grids = 0;
            double mass = 0;
            for (int i = 0; i < counts.length; i++) {
                grids += counts[i];
                mass += masses[i];
                csv.printRecord(Integer.toString(i), number(-i * binWidth), number(-(i + 1) * binWidth),
                        Long.toString(counts[i]), number(masses[i]), number(grids / total), number(mass / totalMass));
            }
            grids += tailCount;
            mass += tailMass;
            csv.printRecord("tail", number(-counts.length * binWidth), "-inf", Long.toString(tailCount),
                    number(tailMass), number(grids / total), number(mass / totalMass));
            grids += zeroCount;
            csv.printRecord("zero", "-inf", "-inf", Long.toString(zeroCount), number(0), number(grids / total),
                    number(mass / totalMass));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return text.toString();
    }

    private static String number(double v) {
        return String.format(Locale.ROOT, "%.17g", v);
    }
}
