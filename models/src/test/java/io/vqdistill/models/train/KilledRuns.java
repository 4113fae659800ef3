package io.vqdistill.models.train;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import io.vqdistill.formats.SafeTensors;
import io.vqdistill.models.checkpoint.Checkpoint;
import java.nio.file.Path;

/** What the trainers' contract tests share to kill a run and compare its resumption with an uninterrupted one. */
final class KilledRuns {
    /** The message of the exception that kills a run. */
    static final String KILLED = "killed";

    private KilledRuns() {
    }

    /** A listener that kills the run (throws an {@link IllegalStateException} {@value #KILLED}) after {@code batch} of {@code epoch}. */
    static TrainingListener killedAt(int epoch, int batch) {
        return new TrainingListener() {
            @Override
            public void batchDone(int e, int b, double loss) {
                if (e == epoch && b == batch) {
                    throw new IllegalStateException(KILLED);
                }
            }
        };
    }

    /** The checkpoints in {@code straight} and {@code resumed} hold the same tensors, each value within 1e-5. */
    static void assertSameWeights(Path straight, Path resumed) {
        SafeTensors a = Checkpoint.weights(straight);
        SafeTensors b = Checkpoint.weights(resumed);
        assertThat(b.names()).isEqualTo(a.names());
        for (String name : a.names()) {
            assertThat(b.get(name).toDoubles()).as(name).containsExactly(a.get(name).toDoubles(), within(1e-5));
        }
    }
}
