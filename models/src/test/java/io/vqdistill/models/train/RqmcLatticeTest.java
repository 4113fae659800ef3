package io.vqdistill.models.train;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import io.vqdistill.api.InvalidArgumentException;
import java.util.HashSet;
import java.util.Set;
import java.util.SplittableRandom;
import org.apache.commons.math3.distribution.NormalDistribution;
import org.junit.jupiter.api.Test;

class RqmcLatticeTest {

    @Test
    void everyCoordinateOfTheUnshiftedLatticeTakesEachValueKOverMExactlyOnce() {
        for (int m : new int[] {1, 2, 16, 1024, 1000}) {
            RqmcLattice lattice = RqmcLattice.korobov(m, 16);
            double[] u = lattice.uniform(new double[16]);
            for (int j = 0; j < 16; j++) {
                Set<Long> seen = new HashSet<>();
                for (int k = 0; k < m; k++) {
                    double x = u[k * 16 + j] * m;
                    assertThat(x).as("M %d, point %d, coordinate %d", m, k, j).isCloseTo(Math.rint(x), within(1e-9));
                    seen.add(Math.round(x));
                }
                assertThat(seen).as("M %d, coordinate %d", m, j).hasSize(m);
            }
        }
    }

    @Test
    void theGeneratingVectorIsThePowersOfTheMultiplierCoprimeWithM() {
        RqmcLattice lattice = RqmcLattice.korobov(1024, 16);
        long a = lattice.multiplier();
        long[] g = lattice.generator();
        assertThat(a % 2).isEqualTo(1);
        assertThat(a).isBetween(2L, 1023L);
        long p = 1;
        for (int j = 0; j < 16; j++) {
            assertThat(g[j]).isEqualTo(p);
            p = p * a % 1024;
        }
        assertThat(lattice.describe()).isEqualTo("rank-1 Korobov lattice, M = 1024, d = 16, a = " + a);
    }

    @Test
    void aShiftMovesEveryPointByItModuloOneAndKeepsTheLatticeAGroup() {
        RqmcLattice lattice = RqmcLattice.korobov(64, 4);
        double[] base = lattice.uniform(new double[4]);
        double[] shift = lattice.shift(new SplittableRandom(7));
        double[] shifted = lattice.uniform(shift);
        for (int k = 0; k < 64; k++) {
            for (int j = 0; j < 4; j++) {
                double back = shifted[k * 4 + j] - shift[j];
                back -= Math.floor(back);
                assertThat(Math.min(Math.abs(back - base[k * 4 + j]), 1 - Math.abs(back - base[k * 4 + j])))
                        .isLessThan(1e-12);
                assertThat(shifted[k * 4 + j]).isGreaterThanOrEqualTo(0).isLessThan(1);
            }
        }
        // the sum of two lattice points is a lattice point: point k + point l = point (k + l) mod M
        for (int k = 0; k < 64; k += 5) {
            for (int l = 0; l < 64; l += 7) {
                for (int j = 0; j < 4; j++) {
                    double sum = base[k * 4 + j] + base[l * 4 + j];
                    assertThat(sum - Math.floor(sum)).isCloseTo(base[(k + l) % 64 * 4 + j], within(1e-12));
                }
            }
        }
    }

    @Test
    void shiftedPointsAreUniformOnAverageOverShifts() {
        // each point, averaged over random shifts, has mean 1/2 and variance 1/12 in every coordinate
        RqmcLattice lattice = RqmcLattice.korobov(8, 3);
        SplittableRandom rng = new SplittableRandom(3);
        int shifts = 20_000;
        double[] sum = new double[8 * 3];
        double[] sq = new double[8 * 3];
        for (int s = 0; s < shifts; s++) {
            double[] u = lattice.uniform(lattice.shift(rng));
            for (int i = 0; i < u.length; i++) {
                sum[i] += u[i];
                sq[i] += u[i] * u[i];
            }
        }
        for (int i = 0; i < sum.length; i++) {
            double mean = sum[i] / shifts;
            assertThat(mean).isCloseTo(0.5, within(0.01));
            assertThat(sq[i] / shifts - mean * mean).isCloseTo(1.0 / 12, within(0.005));
        }
    }

    @Test
    void theNormalPointsAreTheInverseNormalDistributionOfTheUniformOnes() {
        RqmcLattice lattice = RqmcLattice.korobov(256, 16);
        double[] shift = lattice.shift(new SplittableRandom(11));
        double[] u = lattice.uniform(shift);
        float[] z = lattice.normal(shift);
        NormalDistribution normal = new NormalDistribution(0, 1);
        double mean = 0;
        double var = 0;
        for (int i = 0; i < u.length; i++) {
            assertThat((double) z[i]).isCloseTo(normal.inverseCumulativeProbability(u[i]), within(1e-5));
            mean += z[i];
            var += (double) z[i] * z[i];
        }
        // the regular marginals make the sample moments of a coordinate those of N(0, 1) closely
        assertThat(mean / u.length).isCloseTo(0, within(0.01));
        assertThat(var / u.length).isCloseTo(1, within(0.02));
    }

    @Test
    void badSizesAndShiftsAreRefusedNamingTheValue() {
        assertThatThrownBy(() -> RqmcLattice.korobov(0, 16)).isInstanceOf(InvalidArgumentException.class)
                .hasMessageContaining("points");
        RqmcLattice lattice = RqmcLattice.korobov(8, 2);
        assertThatThrownBy(() -> lattice.uniform(new double[] {0.5})).isInstanceOf(InvalidArgumentException.class)
                .hasMessageContaining("shift");
        assertThatThrownBy(() -> lattice.uniform(new double[] {0.5, 1.0})).isInstanceOf(InvalidArgumentException.class)
                .hasMessageContaining("[0, 1)");
    }
}
