package io.vqdistill.api;

import java.nio.file.Path;

/**
 * A file (IDX data, checkpoint, circuit) is missing, truncated, corrupt or inconsistent. The
 * message names the file, the field and the value found.
 */
public class FormatException extends VqdistillException {
    private static final long serialVersionUID = 1L;

    /** Creates an exception whose message already names file, field and value. */
    public FormatException(String message) {
        super(message);
    }

    /** Creates an exception wrapping the I/O or parse failure that caused it. */
    public FormatException(String message, Throwable cause) {
        super(message, cause);
    }

    /** Creates an exception for {@code file}, naming the {@code field} and what was wrong with it. */
    public static FormatException of(Path file, String field, String problem) {
        return new FormatException(file + ": " + field + ": " + problem);
    }
}
