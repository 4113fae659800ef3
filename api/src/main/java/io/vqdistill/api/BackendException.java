package io.vqdistill.api;

/**
 * No backend could be selected or created: an unknown name, an unavailable engine, native
 * libraries that failed to load, or two providers with one name. The message lists every
 * candidate and why it was skipped.
 */
public class BackendException extends VqdistillException {
    private static final long serialVersionUID = 1L;

    /** Creates an exception whose message explains the selection failure. */
    public BackendException(String message) {
        super(message);
    }

    /** Creates an exception wrapping the engine failure that made a backend unusable. */
    public BackendException(String message, Throwable cause) {
        super(message, cause);
    }
}
