package io.vqdistill.models.train;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * What one epoch measured, in a fixed column order (a row of the metrics CSV).
 *
 * @param epoch   the epoch, 1-based
 * @param seconds wall time of the epoch including validation
 * @param best    true when this epoch's validation loss is the best so far (its weights are kept)
 * @param values  metric name to value: losses in nats per image or grid, bits per dimension, codes
 *                used, perplexity; names are stable across epochs
 */
public record EpochMetrics(int epoch, double seconds, boolean best, Map<String, Double> values) {
    /** Copies the values, keeping their order. */
    public EpochMetrics {
        values = Collections.unmodifiableMap(new LinkedHashMap<>(values));
    }

    /** The value named {@code name}, NaN when absent. */
    public double get(String name) {
        return values.getOrDefault(name, Double.NaN);
    }
}
