package io.vqdistill.circuits.leaf;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class CentresTest {

    /** Pixel-major leaves: pixel 0 bimodal at the clamp, pixel 1 wide and spread, pixel 2 all equal, pixel 3 negative. */
    private static float[][] leaves(int n, SplittableRandom rng) {
        int s = 4;
        float[] mean = new float[s * n];
        float[] logVar = new float[s * n];
        for (int j = 0; j < n; j++) {
            mean[j] = (float) ((rng.nextBoolean() ? 0.5 : 255.3) / 256 + 1e-4 * rng.nextDouble());
            logVar[j] = (float) (2 * Math.log(1e-3));
            mean[n + j] = (float) rng.nextDouble();
            logVar[n + j] = (float) (2 * Math.log(0.02 + 0.2 * rng.nextDouble()));
            mean[2 * n + j] = 0.25f;
            logVar[2 * n + j] = (float) (2 * Math.log(1e-3));
            mean[3 * n + j] = (float) (-1000 * rng.nextDouble());
            logVar[3 * n + j] = 0;
        }
        return new float[][] {mean, logVar};
    }

    private static void assertBound(Centres c, float[] mean, float[] logVar, int n, int s) {
        for (int i = 0; i < s; i++) {
            assertThat(c.first(i + 1)).isGreaterThan(c.first(i));
            for (int j = 0; j < n; j++) {
                int leaf = i * n + j;
                int g = c.of(leaf);
                assertThat(g).as("leaf (%d, %d) takes a centre of its own pixel", j, i)
                        .isBetween(c.first(i), c.first(i + 1) - 1);
                if (!Double.isInfinite(c.target())) {
                    double d = mean[leaf] - c.value(g);
                    assertThat(d * d / Math.exp(logVar[leaf])).as("a (mu - c)^2 of leaf (%d, %d)", j, i)
                            .isLessThanOrEqualTo(c.target() * (1 + 1e-6) + 1e-9);
                }
            }
            for (int g = c.first(i) + 1; g < c.first(i + 1); g++) {
                assertThat(c.value(g)).as("centres of pixel %d ascend", i).isGreaterThan(c.value(g - 1));
            }
        }
    }

    @Test
    void everyLeafLiesWithinTheTargetOfItsCentre() {
        int n = 500;
        float[][] p = leaves(n, new SplittableRandom(1));
        Centres c = Centres.of(p[0], p[1], n, 4, 64, 1000);
        assertThat(c.target()).isEqualTo(64);
        assertBound(c, p[0], p[1], n, 4);
        assertThat(c.first(1) - c.first(0)).as("the bimodal pixel at the clamp").isEqualTo(2);
        assertThat(c.first(3) - c.first(2)).as("equal means").isEqualTo(1);
        assertThat(c.value(c.first(2))).isEqualTo(0.25);
        assertThat(c.size()).isEqualTo(c.first(4));
    }

    @Test
    void aTightBudgetRaisesTheTarget() {
        int n = 500;
        float[][] p = leaves(n, new SplittableRandom(2));
        Centres free = Centres.of(p[0], p[1], n, 4, 1, Long.MAX_VALUE);
        Centres tight = Centres.of(p[0], p[1], n, 4, 1, 6);
        assertThat(tight.size()).isLessThanOrEqualTo(6).isLessThan(free.size());
        assertThat(tight.target()).isGreaterThan(1);
        assertBound(tight, p[0], p[1], n, 4);
    }

    @Test
    void withNoRoomOneCentrePerPixelIsTaken() {
        int n = 3;
        float[] mean = {0, 1e30f, -1e30f};
        float[] logVar = {-40, -40, -40};
        Centres c = Centres.of(mean, logVar, n, 1, 1, 1);
        assertThat(c.size()).isEqualTo(1);
        assertThat(c.target()).isInfinite();
        assertBound(c, mean, logVar, n, 1);
        assertThat(c.value(0)).isBetween(-1e30, 1e30);
    }
}
