package io.vqdistill.circuits;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import io.vqdistill.api.InvalidArgumentException;
import java.util.SplittableRandom;
import java.util.random.RandomGenerator;
import org.junit.jupiter.api.Test;

/** The host log-space sums and the categorical draw. */
class NumericsTest {
    private static final double NEG_INF = Double.NEGATIVE_INFINITY;

    /** A generator whose nextDouble() returns the given values in turn. */
    private static RandomGenerator uniforms(double... values) {
        return new RandomGenerator() {
            private int next;

            @Override
            public long nextLong() {
                throw new UnsupportedOperationException("only nextDouble is scripted");
            }

            @Override
            public double nextDouble() {
                return values[next++];
            }
        };
    }

    @Test
    void logAddExpIsExactForSmallValuesAndDoesNotOverflow() {
        assertThat(Numerics.logAddExp(Math.log(2), Math.log(3))).isCloseTo(Math.log(5), within(1e-15));
        assertThat(Numerics.logAddExp(1000, 1000)).isCloseTo(1000 + Math.log(2), within(1e-12));
        assertThat(Numerics.logAddExp(-1000, -1000)).isCloseTo(-1000 + Math.log(2), within(1e-12));
        assertThat(Numerics.logAddExp(0, -800)).isEqualTo(0.0);
        assertThat(Numerics.logAddExp(-3.5, NEG_INF)).isEqualTo(-3.5);
        assertThat(Numerics.logAddExp(NEG_INF, -3.5)).isEqualTo(-3.5);
        assertThat(Numerics.logAddExp(NEG_INF, NEG_INF)).isEqualTo(NEG_INF);
    }

    @Test
    void logSumExpSumsTheRangeAndIsNegativeInfinityWhenNothingIsFinite() {
        double[] v = {Math.log(1), Math.log(2), Math.log(3), Math.log(4)};
        assertThat(Numerics.logSumExp(v)).isCloseTo(Math.log(10), within(1e-15));
        assertThat(Numerics.logSumExp(v, 1, 3)).isCloseTo(Math.log(5), within(1e-15));
        assertThat(Numerics.logSumExp(new double[] {1000, 1000, NEG_INF})).isCloseTo(1000 + Math.log(2),
                within(1e-12));
        assertThat(Numerics.logSumExp(new double[] {-2000, -2000})).isCloseTo(-2000 + Math.log(2), within(1e-12));
        assertThat(Numerics.logSumExp(new double[0])).isEqualTo(NEG_INF);
        assertThat(Numerics.logSumExp(v, 2, 2)).isEqualTo(NEG_INF);
        assertThat(Numerics.logSumExp(new double[] {NEG_INF, NEG_INF})).isEqualTo(NEG_INF);
    }

    @Test
    void drawInvertsTheCumulativeWeightsAndSkipsZeroWeights() {
        double[] w = {1, 0, 3, 0};
        // cumulative weights 1 and 4 of a total 4: u * 4 in [0, 1) is 0, in [1, 4) is 2
        assertThat(Numerics.draw(w, uniforms(0.0))).isZero();
        assertThat(Numerics.draw(w, uniforms(0.2499))).isZero();
        assertThat(Numerics.draw(w, uniforms(0.25))).isEqualTo(2);
        assertThat(Numerics.draw(w, uniforms(0.9999999))).isEqualTo(2);
        assertThat(Numerics.draw(new double[] {0, 0, 7}, uniforms(0.0))).isEqualTo(2);
        // weights need not be normalised: a scaled copy draws the same indices
        assertThat(Numerics.draw(new double[] {0.125, 0, 0.375, 0}, uniforms(0.2499))).isZero();
        assertThat(Numerics.draw(new double[] {0.125, 0, 0.375, 0}, uniforms(0.25))).isEqualTo(2);
    }

    @Test
    void drawFrequenciesFollowTheWeights() {
        double[] w = {0.5, 0, 0.2, 0.3};
        SplittableRandom rng = new SplittableRandom(7);
        int n = 100_000;
        int[] counts = new int[w.length];
        for (int i = 0; i < n; i++) {
            counts[Numerics.draw(w, rng)]++;
        }
        assertThat(counts[1]).isZero();
        for (int i = 0; i < w.length; i++) {
            // 5 standard deviations of a binomial proportion at n = 100000 is below 0.008
            assertThat(counts[i] / (double) n).as("frequency of %d", i).isCloseTo(w[i], within(0.008));
        }
    }

    @Test
    void drawRejectsWeightsItCannotDrawFromNamingTheProblem() {
        RandomGenerator rng = new SplittableRandom(1);
        assertThatThrownBy(() -> Numerics.draw(new double[] {0, 0, 0}, rng))
                .isInstanceOf(InvalidArgumentException.class)
                .hasMessage("weights are all zero (3 of them): there is no index to draw");
        assertThatThrownBy(() -> Numerics.draw(new double[0], rng))
                .isInstanceOf(InvalidArgumentException.class)
                .hasMessage("weights are all zero (0 of them): there is no index to draw");
        assertThatThrownBy(() -> Numerics.draw(new double[] {1, Double.NaN}, rng))
                .isInstanceOf(InvalidArgumentException.class)
                .hasMessage("weights[1] must be finite and >= 0 to draw from them, got NaN");
        assertThatThrownBy(() -> Numerics.draw(new double[] {Double.POSITIVE_INFINITY, 1}, rng))
                .isInstanceOf(InvalidArgumentException.class)
                .hasMessage("weights[0] must be finite and >= 0 to draw from them, got Infinity");
        assertThatThrownBy(() -> Numerics.draw(new double[] {0.5, -0.25}, rng))
                .isInstanceOf(InvalidArgumentException.class)
                .hasMessage("weights[1] must be finite and >= 0 to draw from them, got -0.25");
        assertThatThrownBy(() -> Numerics.draw(new double[] {Double.MAX_VALUE, Double.MAX_VALUE}, rng))
                .isInstanceOf(InvalidArgumentException.class)
                .hasMessageContaining("finite sum");
    }
}
