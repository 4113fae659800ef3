package io.vqdistill.cli.render;

import io.vqdistill.models.train.EpochMetrics;
import io.vqdistill.models.train.TrainingListener;
import java.io.PrintWriter;
import java.util.Locale;
import java.util.Map;

/**
 * Shows a training run's progress: on a terminal a progress bar per epoch redrawn in place (step,
 * loss, ETA of the epoch), in a log file a line every tenth of an epoch; after each epoch one line
 * with its metrics and the time left if the run goes to its epoch limit.
 */
public final class ProgressListener implements TrainingListener {
    private static final int BAR = 30;
    private static final long REDRAW_NANOS = 250_000_000L;

    private final PrintWriter out;
    private final boolean terminal;
    private int maxEpochs;
    private int batches;
    private long epochStart;
    private long lastDraw;
    private double epochSecondsSum;
    private int epochsTimed;
    private double lossSum;
    private int lossCount;

    /** A listener printing to {@code out}; {@code terminal} redraws a progress bar in place. */
    public ProgressListener(PrintWriter out, boolean terminal) {
        this.out = out;
        this.terminal = terminal;
    }

    @Override
    public void started(String what, int firstEpoch, int maxEpochs, int batchesPerEpoch) {
        this.maxEpochs = maxEpochs;
        this.batches = batchesPerEpoch;
        out.printf("%s: epochs %d..%d, %d steps per epoch%n", what, firstEpoch, maxEpochs, batchesPerEpoch);
        out.flush();
        epochStart = System.nanoTime();
    }

    @Override
    public void batchDone(int epoch, int batch, double loss) {
        if (batch == 1) {
            lossSum = 0;
            lossCount = 0;
        }
        lossSum += loss;
        lossCount++;
        long now = System.nanoTime();
        double elapsed = (now - epochStart) / 1e9;
        double eta = elapsed / batch * (batches - batch);
        if (terminal) {
            if (now - lastDraw < REDRAW_NANOS && batch < batches) {
                return;
            }
            lastDraw = now;
            int filled = (int) Math.round((double) BAR * batch / batches);
            out.printf(Locale.ROOT, "\repoch %d/%d [%s%s] %d/%d loss %.2f ETA %s   ", epoch, maxEpochs,
                    "#".repeat(filled), ".".repeat(BAR - filled), batch, batches, lossSum / lossCount, clock(eta));
            out.flush();
        } else if (batch % Math.max(1, batches / 10) == 0 && batch < batches) {
            out.printf(Locale.ROOT, "epoch %d/%d step %d/%d loss %.2f ETA %s%n", epoch, maxEpochs, batch, batches,
                    lossSum / lossCount, clock(eta));
            out.flush();
        }
    }

    @Override
    public void epochDone(EpochMetrics m) {
        epochSecondsSum += m.seconds();
        epochsTimed++;
        double left = epochSecondsSum / epochsTimed * (maxEpochs - m.epoch());
        StringBuilder s = new StringBuilder();
        s.append(terminal ? "\r" : "").append(String.format(Locale.ROOT, "epoch %d/%d %.1fs", m.epoch(), maxEpochs,
                m.seconds()));
        for (Map.Entry<String, Double> e : m.values().entrySet()) {
            s.append(String.format(Locale.ROOT, " %s %.4g", e.getKey(), e.getValue()));
        }
        s.append(m.best() ? " (best)" : "").append(" | at most ").append(clock(left)).append(" left");
        if (terminal) {
            s.append("          ");
        }
        out.println(s);
        out.flush();
        epochStart = System.nanoTime();
    }

    @Override
    public void message(String text) {
        out.println(text);
        out.flush();
    }

    /** Seconds as h:mm:ss or m:ss. */
    public static String clock(double seconds) {
        long s = Math.max(0, Math.round(seconds));
        return s >= 3600 ? String.format(Locale.ROOT, "%d:%02d:%02d", s / 3600, s / 60 % 60, s % 60)
                : String.format(Locale.ROOT, "%d:%02d", s / 60, s % 60);
    }
}
