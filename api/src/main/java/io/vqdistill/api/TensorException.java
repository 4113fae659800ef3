package io.vqdistill.api;

/**
 * A tensor operation was called with arguments it cannot accept (mismatched shapes, a wrong
 * dtype, an axis out of range, a closed tensor) or the engine failed while running it. The message
 * names the operation, the backend and the values.
 */
public class TensorException extends VqdistillException {
    private static final long serialVersionUID = 1L;

    /** Creates an exception for a rejected argument. */
    public TensorException(String message) {
        super(message);
    }

    /** Creates an exception wrapping an engine failure. */
    public TensorException(String message, Throwable cause) {
        super(message, cause);
    }
}
