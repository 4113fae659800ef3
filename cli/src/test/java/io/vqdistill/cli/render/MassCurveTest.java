package io.vqdistill.cli.render;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import io.vqdistill.api.FormatException;
import io.vqdistill.distill.eval.LogProbHistogram;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The mass curve of Figure 1 read from an enumeration's histogram CSV: at every bin edge it equals
 * the brute-force sum of the most probable p(z), its 90% point lies inside the histogram's bounds,
 * and the average of two curves is their pointwise mean with the sample deviation.
 */
class MassCurveTest {
    @TempDir
    Path dir;

    /** A normalised distribution over {@code n} grids with log-probabilities spread over several bins. */
    private static double[] logProbs(int n, long seed) {
        SplittableRandom rng = new SplittableRandom(seed);
        double[] lp = new double[n];
        double max = Double.NEGATIVE_INFINITY;
        for (int i = 0; i < n; i++) {
            lp[i] = -6 * rng.nextDouble() * rng.nextDouble();
            max = Math.max(max, lp[i]);
        }
        double sum = 0;
        for (double v : lp) {
            sum += Math.exp(v - max);
        }
        double log = max + Math.log(sum);
        for (int i = 0; i < n; i++) {
            lp[i] -= log;
        }
        return lp;
    }

    private Path histogram(double[] lp, String name) {
        LogProbHistogram h = new LogProbHistogram(0.25, 60);
        h.add(lp);
        Path csv = dir.resolve(name);
        h.writeCsv(csv);
        return csv;
    }

    @Test
    void atEachBinEdgeTheCurveIsTheBruteForceMassOfTheMostProbableGrids() {
        double[] lp = logProbs(500, 3);
        MassCurve c = MassCurve.read(histogram(lp, "h.csv"));
        double[] sorted = Arrays.stream(lp).map(Math::exp).sorted().toArray();
        double[] cumulative = new double[sorted.length + 1];
        for (int i = 0; i < sorted.length; i++) {
            cumulative[i + 1] = cumulative[i] + sorted[sorted.length - 1 - i];
        }
        assertThat(c.fractions()[0]).isZero();
        assertThat(c.masses()[0]).isZero();
        for (int e = 1; e < c.fractions().length; e++) {
            int grids = (int) Math.round(c.fractions()[e] * lp.length);
            assertThat(c.masses()[e]).as("F at %d grids", grids).isCloseTo(cumulative[grids], within(1e-9));
            assertThat(c.at(c.fractions()[e])).isCloseTo(c.masses()[e], within(1e-12));
        }
        LogProbHistogram h = new LogProbHistogram(0.25, 60);
        h.add(lp);
        for (double level : new double[] {0.5, 0.9, 0.99}) {
            long[] bounds = h.gridsToReach(level);
            double reach = c.reach(level);
            assertThat(reach * lp.length).as("the %s point inside the histogram's bounds", level)
                    .isBetween(bounds[0] - 1e-9, bounds[1] + 1e-9);
            assertThat(c.at(reach)).as("F at the %s point", level).isCloseTo(level, within(1e-9));
        }
        assertThat(c.at(1)).isCloseTo(1, within(1e-9));
    }

    @Test
    void theAverageOfTwoCurvesIsTheirPointwiseMeanWithTheSampleDeviation() {
        MassCurve a = MassCurve.read(histogram(logProbs(300, 5), "a.csv"));
        MassCurve b = MassCurve.read(histogram(logProbs(300, 6), "b.csv"));
        MassCurve.Average avg = MassCurve.average(List.of(a, b));
        assertThat(avg.fractions()).startsWith(0.0).isSorted();
        assertThat(avg.fractions()[avg.fractions().length - 1]).isCloseTo(1, within(1e-12));
        for (int i = 0; i < avg.fractions().length; i++) {
            double x = avg.fractions()[i];
            double fa = a.at(x);
            double fb = b.at(x);
            assertThat(avg.mean()[i]).isCloseTo((fa + fb) / 2, within(1e-12));
            assertThat(avg.std()[i]).as("sqrt(((a - m)^2 + (b - m)^2) / 1)")
                    .isCloseTo(Math.abs(fa - fb) / Math.sqrt(2), within(1e-12));
        }
        assertThat(MassCurve.average(List.of(a)).std()).containsOnly(0.0);
    }

    @Test
    void aFileWithoutTheColumnsIsRefusedNamingIt() throws IOException {
        Path csv = dir.resolve("other.csv");
        Files.writeString(csv, "parameters,bpd\n1,2\n");
        assertThatThrownBy(() -> MassCurve.read(csv)).isInstanceOf(FormatException.class)
                .hasMessageContaining(csv.toString()).hasMessageContaining("cumulative_grid_fraction");
    }
}
