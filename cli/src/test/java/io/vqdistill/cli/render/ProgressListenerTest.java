package io.vqdistill.cli.render;

import static org.assertj.core.api.Assertions.assertThat;

import io.vqdistill.models.train.EpochMetrics;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

class ProgressListenerTest {
    @Test
    void formatsClockTimes() {
        assertThat(ProgressListener.clock(5)).isEqualTo("0:05");
        assertThat(ProgressListener.clock(125)).isEqualTo("2:05");
        assertThat(ProgressListener.clock(3725)).isEqualTo("1:02:05");
    }

    @Test
    void logsATenthOfAnEpochPerLineAndEachEpochsMetrics() {
        StringWriter text = new StringWriter();
        ProgressListener p = new ProgressListener(new PrintWriter(text), false);
        p.started("vqvae", 1, 3, 20);
        for (int b = 1; b <= 20; b++) {
            p.batchDone(1, b, -100.0 - b);
        }
        Map<String, Double> values = new LinkedHashMap<>();
        values.put("train_loss", -110.5);
        values.put("val_loss", -120.25);
        p.epochDone(new EpochMetrics(1, 10, true, values));
        String out = text.toString();
        assertThat(out).contains("vqvae: epochs 1..3, 20 steps per epoch");
        assertThat(out.lines().filter(l -> l.startsWith("epoch 1/3 step"))).hasSize(9);
        assertThat(out).contains("epoch 1/3 step 2/20 loss -101.50 ETA");
        assertThat(out).contains("epoch 1/3 10.0s train_loss -110.5 val_loss -120.3 (best) | at most 0:20 left");
    }
}
