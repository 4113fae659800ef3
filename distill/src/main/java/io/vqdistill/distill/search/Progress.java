package io.vqdistill.distill.search;

import io.vqdistill.api.search.ProgressListener;
import java.util.Objects;

/**
 * One search's progress in prior rows, reported to the request's {@link ProgressListener} under its
 * rules: done never decreases or exceeds total, total never shrinks, and {@link #finish()} ends
 * with done == total.
 */
final class Progress {
    private final ProgressListener listener;
    private long done;
    private long total;

    Progress(ProgressListener listener) {
        this.listener = Objects.requireNonNull(listener, "listener");
    }

    /** Adds {@code rows} to the expected total, without a report. */
    void expect(long rows) {
        total += Math.max(0, rows);
    }

    /** Counts {@code rows} as done and reports. */
    void advance(long rows) {
        done += Math.max(0, rows);
        total = Math.max(total, done);
        listener.update(done, Math.max(1, total));
    }

    /** Reports the search complete: whatever was expected and not needed counts as done. */
    void finish() {
        done = Math.max(1, total);
        total = done;
        listener.update(done, total);
    }
}
