package io.vqdistill.cli.render;

import io.vqdistill.models.train.EpochMetrics;
import io.vqdistill.models.train.TrainingListener;
import java.io.PrintWriter;
import java.util.Locale;
import java.util.Map;

/**
 * Shows a training run's progress: a line when it starts, a progress bar per epoch (steps done, rate,
 * elapsed, ETA and the epoch's mean loss so far) from {@link ProgressBars}, and after each epoch one
 * line with its metrics and the time left if the run goes to its epoch limit.
 */
public final class TrainingProgress implements TrainingListener {
    private final PrintWriter out;
    private final ProgressBars bars;
    private int maxEpochs;
    private int batches;
    private double epochSecondsSum;
    private int epochsTimed;
    private double lossSum;
    private int lossCount;

    /** Prints its lines to {@code out} and draws the epochs' bars with {@code bars}. */
    public TrainingProgress(PrintWriter out, ProgressBars bars) {
        this.out = out;
        this.bars = bars;
    }

    @Override
    public void started(String what, int firstEpoch, int maxEpochs, int batchesPerEpoch) {
        this.maxEpochs = maxEpochs;
        this.batches = batchesPerEpoch;
        out.printf("%s: epochs %d..%d, %d steps per epoch%n", what, firstEpoch, maxEpochs, batchesPerEpoch);
        out.flush();
    }

    @Override
    public void batchDone(int epoch, int batch, double loss) {
        if (batch == 1) {
            lossSum = 0;
            lossCount = 0;
            bars.started(String.format(Locale.ROOT, "epoch %d/%d", epoch, maxEpochs), batches, "steps");
        }
        lossSum += loss;
        lossCount++;
        bars.note(String.format(Locale.ROOT, "loss %.2f", lossSum / lossCount));
        bars.advanced(batch);
    }

    @Override
    public void epochDone(EpochMetrics m) {
        bars.finished();
        epochSecondsSum += m.seconds();
        epochsTimed++;
        double left = epochSecondsSum / epochsTimed * (maxEpochs - m.epoch());
        StringBuilder s = new StringBuilder(String.format(Locale.ROOT, "epoch %d/%d %.1fs", m.epoch(), maxEpochs,
                m.seconds()));
        for (Map.Entry<String, Double> e : m.values().entrySet()) {
            s.append(String.format(Locale.ROOT, " %s %.4g", e.getKey(), e.getValue()));
        }
        s.append(m.best() ? " (best)" : "").append(" | at most ").append(Reports.clock(left)).append(" left");
        out.println(s);
        out.flush();
    }

    @Override
    public void message(String text) {
        bars.println(out, text);
    }
}
