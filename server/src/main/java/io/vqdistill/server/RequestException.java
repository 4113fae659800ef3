package io.vqdistill.server;

import io.vqdistill.api.InvalidArgumentException;
import java.util.Objects;

/**
 * A request the server refuses: a missing or malformed field, a value out of range, or a body that
 * is too large. The server answers it with {@link #status()} (a 4xx) and the JSON
 * {@code {"error": message, "field": field}}, so a client learns which field to fix.
 */
public final class RequestException extends InvalidArgumentException {
    private static final long serialVersionUID = 1L;

    /** The status of a malformed request. */
    public static final int BAD_REQUEST = 400;
    /** The status of a request whose body exceeds the limit. */
    public static final int TOO_LARGE = 413;

    /** The request field at fault. */
    private final String field;
    /** The HTTP status to answer with. */
    private final int status;

    /**
     * A refusal naming {@code field}.
     *
     * @param status  the HTTP status, 400..499
     * @param field   the request field at fault, as the client wrote it (e.g. {@code image[12]}), or
     *                {@code body} for the body as a whole
     * @param message what is wrong and what is accepted
     */
    public RequestException(int status, String field, String message) {
        super(field + ": " + message);
        if (status < 400 || status > 499) {
            throw new IllegalArgumentException("a request error has a 4xx status, not " + status);
        }
        this.status = status;
        this.field = Objects.requireNonNull(field, "field");
    }

    /** A 400 refusal of {@code field}. */
    public static RequestException bad(String field, String message) {
        return new RequestException(BAD_REQUEST, field, message);
    }

    /** The request field at fault. */
    public String field() {
        return field;
    }

    /** The HTTP status to answer with. */
    public int status() {
        return status;
    }

    /** What is wrong with the field, without the field's name in front. */
    public String reason() {
        return getMessage().substring(field.length() + 2);
    }
}
