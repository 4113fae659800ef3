package io.vqdistill.formats;

import io.vqdistill.api.FormatException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;

/**
 * What a path names, in words, for messages: a file that is a named pipe, a socket or a device is
 * reported as what it is rather than as "not found", and is never opened (reading a named pipe would
 * wait for a writer forever).
 */
public enum FileKind {
    /** Nothing is there. */
    MISSING("missing"),
    /** A regular file. */
    REGULAR_FILE("a regular file"),
    /** A folder. */
    FOLDER("a folder"),
    /** A named pipe. */
    FIFO("a named pipe (FIFO)"),
    /** A Unix-domain socket. */
    SOCKET("a socket"),
    /** A character device. */
    CHARACTER_DEVICE("a character device"),
    /** A block device. */
    BLOCK_DEVICE("a block device"),
    /** A symbolic link whose target is missing. */
    DANGLING_LINK("a symbolic link to a missing target"),
    /** Some other file that is neither a regular file nor a folder. */
    OTHER("a special file (neither a regular file nor a folder)");

    private static final int S_IFMT = 0170000;
    private static final int S_IFIFO = 0010000;
    private static final int S_IFCHR = 0020000;
    private static final int S_IFBLK = 0060000;
    private static final int S_IFSOCK = 0140000;

    private final String words;

    FileKind(String words) {
        this.words = words;
    }

    /** This kind in words, e.g. {@code a named pipe (FIFO)}. */
    public String words() {
        return words;
    }

    /** What {@code path} names, following symbolic links. */
    public static FileKind of(Path path) {
        BasicFileAttributes a;
        try {
            a = Files.readAttributes(path, BasicFileAttributes.class);
        } catch (NoSuchFileException e) {
            return Files.isSymbolicLink(path) ? DANGLING_LINK : MISSING;
        } catch (IOException e) {
            return MISSING;
        }
        if (a.isRegularFile()) {
            return REGULAR_FILE;
        }
        if (a.isDirectory()) {
            return FOLDER;
        }
        try {
            Object mode = Files.getAttribute(path, "unix:mode");
            if (mode instanceof Integer m) {
                return switch (m & S_IFMT) {
                    case S_IFIFO -> FIFO;
                    case S_IFSOCK -> SOCKET;
                    case S_IFCHR -> CHARACTER_DEVICE;
                    case S_IFBLK -> BLOCK_DEVICE;
                    default -> OTHER;
                };
            }
        } catch (IOException | UnsupportedOperationException | IllegalArgumentException e) {
            // no unix attribute view here
        }
        return OTHER;
    }

    /** True when {@code path} names something that is not a regular file or a folder (a pipe, socket, device). */
    public static boolean isSpecial(Path path) {
        FileKind k = of(path);
        return k != MISSING && k != REGULAR_FILE && k != FOLDER && k != DANGLING_LINK;
    }

    /**
     * Checks that {@code file} is a regular file before anything opens it.
     *
     * @throws FormatException naming the file and what it is instead ("not found", "is a folder",
     *                         "is a named pipe (FIFO)", ...)
     */
    public static void requireRegularFile(Path file) {
        FileKind k = of(file);
        if (k == REGULAR_FILE) {
            return;
        }
        throw FormatException.of(file, "file", k == MISSING ? "not found" : "is " + k.words
                + ", not a regular file");
    }

    /**
     * Checks that {@code file}, when it exists, is not a named pipe, socket or device, before anything
     * opens it; a missing file is left for the caller to report.
     *
     * @throws FormatException naming the file and what it is
     */
    public static void rejectSpecial(Path file) {
        if (isSpecial(file)) {
            throw FormatException.of(file, "file", "is " + of(file).words + ", not a regular file");
        }
    }
}
