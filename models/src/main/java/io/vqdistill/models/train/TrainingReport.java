package io.vqdistill.models.train;

import java.nio.file.Path;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The outcome of a training run.
 *
 * @param checkpoint   the checkpoint folder holding the best epoch's weights
 * @param epochs       epochs trained in total (across resumes)
 * @param bestEpoch    the epoch whose weights were kept, 1-based
 * @param seconds      wall time of the epochs, summed across resumes
 * @param stoppedEarly true when patience ran out before the epoch limit
 * @param metrics      the final metrics also written to {@code config.json}, e.g. test NLL
 */
public record TrainingReport(Path checkpoint, int epochs, int bestEpoch, double seconds, boolean stoppedEarly,
        Map<String, Double> metrics) {
    /** Copies the metrics, keeping their order. */
    public TrainingReport {
        metrics = Collections.unmodifiableMap(new LinkedHashMap<>(metrics));
    }
}
