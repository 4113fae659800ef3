package io.vqdistill.api.search;

/**
 * Receives the progress of one latent search, e.g. to drive a progress bar. Searches report in
 * units of prior rows (one row is one prefix or one grid under one class, evaluated by the prior
 * network): {@code done} rows of an expected {@code total}. Calls come from the searching thread,
 * after each batched prior call, so an implementation must return quickly and must not call the
 * search back.
 *
 * <p>{@code done} never decreases and never exceeds {@code total}; {@code total} is the search's
 * estimate and may grow during a search (the random search cannot know how many duplicate draws
 * it will make) but never shrinks; a search that completes ends with a call where
 * {@code done == total}. A search that fails just stops reporting.
 */
@FunctionalInterface
public interface ProgressListener {

    /** The listener that ignores every report. */
    ProgressListener NONE = (done, total) -> {
    };

    /**
     * One report.
     *
     * @param done  the units of work done so far, in [0, total]
     * @param total the units of work the whole search is expected to take, >= 1
     */
    void update(long done, long total);
}
