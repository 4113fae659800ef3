package io.vqdistill.cli.render;

import static org.assertj.core.api.Assertions.assertThat;

import io.vqdistill.distill.pipeline.ProgressListener;
import io.vqdistill.models.train.EpochMetrics;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import me.tongfei.progressbar.DelegatingProgressBarConsumer;
import org.junit.jupiter.api.Test;

class ProgressBarsTest {
    /** Everything drawn, in order: each rendering of a bar, and "<clear>" where the sink was cleared. */
    private final List<String> drawn = new CopyOnWriteArrayList<>();

    /** Bars drawn on a fake sink 100 characters wide that records every rendering. */
    private ProgressBars bars() {
        return new ProgressBars(() -> new DelegatingProgressBarConsumer(drawn::add, 100) {
            @Override
            public void clear() {
                drawn.add("<clear>");
            }
        }, 10);
    }

    @Test
    void aTaskShowsDoneOverTotalInItsUnitWithRateAndTimesAndIsClearedAtTheEnd() {
        ProgressBars bars = bars();
        String result = ProgressListener.track(bars, "decode", 10, "components", done -> {
            for (int i = 1; i <= 10; i++) {
                done.accept(i);
            }
            return "ok";
        });
        assertThat(result).isEqualTo("ok");
        assertThat(drawn).hasSizeGreaterThanOrEqualTo(2);
        String last = drawn.get(drawn.size() - 2);
        assertThat(last).startsWith("decode 100%").contains("10/10 components").contains("components/s")
                .containsPattern("\\(\\d:\\d\\d:\\d\\d / \\d:\\d\\d:\\d\\d\\)");
        assertThat(drawn.get(drawn.size() - 1)).isEqualTo("<clear>");
        assertThat(drawn).allMatch(s -> s.equals("<clear>") || s.startsWith("decode"));
    }

    @Test
    void aFailingTaskStillEndsItsBar() {
        ProgressBars bars = bars();
        try {
            ProgressListener.track(bars, "evaluate", 4, "images", done -> {
                done.accept(2);
                throw new IllegalStateException("boom");
            });
        } catch (IllegalStateException expected) {
            assertThat(expected).hasMessage("boom");
        }
        assertThat(drawn).last().isEqualTo("<clear>");
        assertThat(drawn).anyMatch(s -> s.contains("2/4 images"));
    }

    @Test
    void linesPrintedDuringATaskClearTheBarFirstAndOffBarsDrawNothing() {
        ProgressBars bars = bars();
        StringWriter text = new StringWriter();
        PrintWriter out = new PrintWriter(text);
        bars.started("sweep", 7, "components");
        bars.advanced(1);
        bars.println(out, "N =      1: a row");
        int cleared = drawn.indexOf("<clear>");
        bars.finished();
        assertThat(cleared).as("cleared before the line").isGreaterThanOrEqualTo(0);
        assertThat(text.toString()).isEqualTo("N =      1: a row" + System.lineSeparator());

        ProgressBars off = ProgressBars.off();
        assertThat(off.enabled()).isFalse();
        off.started("x", 3, "things");
        off.advanced(3);
        off.note("loss 1");
        off.println(out, "plain");
        off.finished();
        assertThat(text.toString()).endsWith("plain" + System.lineSeparator());
    }

    @Test
    void trainingShowsABarPerEpochAndKeepsItsStartAndEpochLines() {
        StringWriter text = new StringWriter();
        TrainingProgress p = new TrainingProgress(new PrintWriter(text), bars());
        p.started("vqvae", 1, 3, 20);
        for (int b = 1; b <= 20; b++) {
            p.batchDone(1, b, -100.0 - b);
        }
        Map<String, Double> values = new LinkedHashMap<>();
        values.put("train_loss", -110.5);
        values.put("val_loss", -120.25);
        p.epochDone(new EpochMetrics(1, 10, true, values));
        p.message("vqvae: measuring epoch 1 on the test set");
        assertThat(text.toString()).isEqualTo(String.join(System.lineSeparator(),
                "vqvae: epochs 1..3, 20 steps per epoch",
                "epoch 1/3 10.0s train_loss -110.5 val_loss -120.3 (best) | at most 0:20 left",
                "vqvae: measuring epoch 1 on the test set", ""));
        assertThat(drawn).anyMatch(s -> s.startsWith("epoch 1/3 100%") && s.contains("20/20 steps")
                && s.contains("loss -110.50"));
        assertThat(drawn).last().isEqualTo("<clear>");
    }

    @Test
    void formatsClockTimes() {
        assertThat(Reports.clock(5)).isEqualTo("0:05");
        assertThat(Reports.clock(125)).isEqualTo("2:05");
        assertThat(Reports.clock(3725)).isEqualTo("1:02:05");
    }
}
