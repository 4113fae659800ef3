package io.vqdistill.circuits;

import static org.assertj.core.api.Assertions.assertThat;

/** Pearson's chi-square goodness-of-fit test, for sampling tests with fixed seeds. */
final class Stats {
    private Stats() {
    }

    /**
     * Asserts that {@code counts} (n draws in total) fit the probabilities {@code p}: cells expected
     * fewer than 5 times are pooled, and the statistic must stay below the 1 - 1e-4 quantile of the
     * chi-square distribution (Wilson-Hilferty approximation).
     */
    static void assertFits(long[] counts, double[] p, String what) {
        long n = 0;
        for (long c : counts) {
            n += c;
        }
        double stat = 0;
        int cells = 0;
        double pooledExpected = 0;
        long pooledCount = 0;
        for (int i = 0; i < counts.length; i++) {
            double expected = n * p[i];
            if (expected < 5) {
                pooledExpected += expected;
                pooledCount += counts[i];
            } else {
                stat += (counts[i] - expected) * (counts[i] - expected) / expected;
                cells++;
            }
        }
        if (pooledExpected > 0) {
            stat += (pooledCount - pooledExpected) * (pooledCount - pooledExpected) / pooledExpected;
            cells++;
        }
        int df = Math.max(1, cells - 1);
        double z = 3.719;
        double h = 2.0 / (9 * df);
        double critical = df * Math.pow(1 - h + z * Math.sqrt(h), 3);
        assertThat(stat).as("chi-square of %s over %d cells (critical %.1f)", what, cells, critical)
                .isLessThan(critical);
    }
}
