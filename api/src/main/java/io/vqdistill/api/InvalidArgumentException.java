package io.vqdistill.api;

/**
 * An argument or setting is outside what the operation accepts: a count below one, a probability
 * outside [0, 1], shapes that do not agree. The message names the argument (as the caller knows it:
 * a method parameter, a configuration field or a command-line flag), the value and the constraint.
 */
public class InvalidArgumentException extends VqdistillException {
    private static final long serialVersionUID = 1L;

    /** Creates an exception whose message already names argument, value and constraint. */
    public InvalidArgumentException(String message) {
        super(message);
    }

    /** Creates an exception whose message names argument, value and constraint, keeping its cause. */
    public InvalidArgumentException(String message, Throwable cause) {
        super(message, cause);
    }

    /** Creates the exception for {@code name} = {@code value}, which must satisfy {@code constraint}. */
    public static InvalidArgumentException of(String name, Object value, String constraint) {
        return new InvalidArgumentException(name + " must be " + constraint + ", got " + value);
    }
}
