package io.vqdistill.distill.pipeline;

import java.util.Objects;
import java.util.function.Function;
import java.util.function.LongConsumer;

/**
 * Told how far a long pipeline step has come, so that a front end can draw a progress bar (the
 * command line does, on a terminal). The pipeline runs one task at a time: {@link #started}, any
 * number of {@link #advanced}, then {@link #finished}, which also comes when the task fails. Calls
 * come on the working thread. Every method has an empty default; {@link #NONE} ignores everything.
 */
public interface ProgressListener {
    /** A listener that ignores everything. */
    ProgressListener NONE = new ProgressListener() {
    };

    /**
     * A task starts.
     *
     * @param task  what it does, e.g. {@code decode}
     * @param total its units of work, >= 1
     * @param unit  what a unit is, plural, e.g. {@code components} or {@code images}
     */
    default void started(String task, long total, String unit) {
    }

    /** {@code done} units of the current task are done; never decreasing, at most the total. */
    default void advanced(long done) {
    }

    /** The current task ended, done or failed. */
    default void finished() {
    }

    /**
     * Runs {@code work} as the task {@code task} of {@code listener}: tells it the start, hands
     * {@code work} the consumer of its progress, and tells it the end however {@code work} ends.
     *
     * @return what {@code work} returns
     */
    static <T> T track(ProgressListener listener, String task, long total, String unit,
                       Function<LongConsumer, T> work) {
        Objects.requireNonNull(listener, "listener");
        Objects.requireNonNull(work, "work");
        listener.started(task, total, unit);
        try {
            return work.apply(listener::advanced);
        } finally {
            listener.finished();
        }
    }
}
