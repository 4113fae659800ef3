package io.vqdistill.api;

/**
 * The root of the one unchecked exception family that vqdistill throws. Engine exceptions are
 * wrapped once, at the backend boundary, and keep their cause. Messages name the operation, the
 * constraint and the offending value.
 */
public class VqdistillException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    /** Creates an exception with a message that names the constraint and the value. */
    public VqdistillException(String message) {
        super(message);
    }

    /** Creates an exception wrapping the engine or I/O exception that caused it. */
    public VqdistillException(String message, Throwable cause) {
        super(message, cause);
    }
}
