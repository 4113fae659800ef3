package io.vqdistill.cli;

import com.google.inject.ProvisionException;
import io.vqdistill.api.VqdistillException;
import io.vqdistill.cli.options.MemoryBudget;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import picocli.CommandLine;

/**
 * How the command line reports a failure: one message on standard error and an exit status, never a
 * stack trace (unless the system property {@value #TRACE_PROPERTY} is {@code true}).
 *
 * <ul>
 *   <li>{@value #INVALID}: a failure of vqdistill's exception family (a bad argument, a bad file, an
 *       engine error, a folder held by another writer) or an I/O error: {@code error: MESSAGE};</li>
 *   <li>{@value #OUT_OF_MEMORY}: the Java heap (or an engine) ran out of memory: a message naming the
 *       heap limit, the flags that size the work and how to raise the heap;</li>
 *   <li>{@value #INTERNAL}: anything else, an internal error: its type and message, where it arose,
 *       and how to see the stack trace.</li>
 * </ul>
 */
public final class Failures {
    /** Exit status of a bad argument, a bad file or another failure with a message. */
    public static final int INVALID = 2;
    /** Exit status when memory ran out. */
    public static final int OUT_OF_MEMORY = 3;
    /** Exit status of an internal error. */
    public static final int INTERNAL = 1;
    /** Set to {@code true} (e.g. {@code VQDISTILL_JAVA_OPTS=-Dvqdistill.trace=true}) to print stack traces. */
    public static final String TRACE_PROPERTY = "vqdistill.trace";
    /** The options that size a command's work, named in the out-of-memory message when the command has them. */
    static final List<String> SIZE_FLAGS = List.of("--components", "--batch", "--variables", "--max-exponent",
            "--limit", "--count", "--em-images", "--chunk", "--train-images", "--eval-images");

    private Failures() {
    }

    /**
     * Prints {@code failure} of {@code command} on {@code err} as one clean message and returns the
     * exit status.
     */
    public static int report(Throwable failure, CommandLine command, PrintWriter err) {
        Throwable cause = unwrap(failure);
        OutOfMemoryError oom = outOfMemory(failure);
        if (oom != null) {
            err.println("error: " + outOfMemoryMessage(oom, command));
            trace(failure, err);
            err.flush();
            return OUT_OF_MEMORY;
        }
        if (cause instanceof VqdistillException || cause instanceof IllegalArgumentException
                || cause instanceof UncheckedIOException) {
            err.println("error: " + cause.getMessage());
            trace(failure, err);
            err.flush();
            return INVALID;
        }
        err.println("error: internal error: " + internal(cause));
        if (!trace(failure, err)) {
            err.println("  (run with VQDISTILL_JAVA_OPTS=-D" + TRACE_PROPERTY + "=true for the stack trace,"
                    + " and please report it)");
        }
        err.flush();
        return INTERNAL;
    }

    /** The failure a wrapper (Guice provisioning, an executor, an unchecked I/O wrapper) carries. */
    static Throwable unwrap(Throwable t) {
        Throwable c = t;
        while ((c instanceof ProvisionException || c instanceof ExecutionException
                || c instanceof CompletionException) && c.getCause() != null) {
            c = c.getCause();
        }
        return c;
    }

    /** The out-of-memory error among {@code t} and its causes, or null. */
    static OutOfMemoryError outOfMemory(Throwable t) {
        for (Throwable c = t; c != null; c = c.getCause() == c ? null : c.getCause()) {
            if (c instanceof OutOfMemoryError e) {
                return e;
            }
        }
        return null;
    }

    /** The message for an out-of-memory error in {@code command}: what ran out, the limit, what to change. */
    static String outOfMemoryMessage(OutOfMemoryError e, CommandLine command) {
        List<String> flags = new ArrayList<>();
        String name = "vqdistill";
        if (command != null) {
            name = command.getCommandSpec().qualifiedName();
            for (String f : SIZE_FLAGS) {
                if (command.getCommandSpec().findOption(f) != null) {
                    flags.add(f);
                }
            }
        }
        String what = e.getMessage() == null || e.getMessage().isBlank() ? "memory" : e.getMessage();
        return "out of memory (" + what + ") in '" + name + "': the Java heap may use at most "
                + MemoryBudget.format(Runtime.getRuntime().maxMemory()) + ". "
                + (flags.isEmpty() ? "" : "Ask for less (" + String.join(", ", flags) + ") or ")
                + "give Java more heap, e.g. VQDISTILL_JAVA_OPTS=-Xmx"
                + Math.max(2, 2 * Runtime.getRuntime().maxMemory() / (1L << 30)) + "g";
    }

    private static String internal(Throwable t) {
        StringBuilder b = new StringBuilder(t.getClass().getName());
        if (t.getMessage() != null) {
            b.append(": ").append(t.getMessage());
        }
        StackTraceElement[] st = t.getStackTrace();
        if (st.length > 0) {
            b.append(String.format(Locale.ROOT, " (at %s.%s:%d)", st[0].getClassName(), st[0].getMethodName(),
                    st[0].getLineNumber()));
        }
        return b.toString();
    }

    private static boolean trace(Throwable t, PrintWriter err) {
        if (Boolean.getBoolean(TRACE_PROPERTY)) {
            t.printStackTrace(err);
            return true;
        }
        return false;
    }
}
