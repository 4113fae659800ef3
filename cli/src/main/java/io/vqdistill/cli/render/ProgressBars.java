package io.vqdistill.cli.render;

import io.vqdistill.distill.pipeline.ProgressListener;
import java.io.IOException;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.text.DecimalFormat;
import java.text.DecimalFormatSymbols;
import java.util.Locale;
import java.util.Objects;
import java.util.function.Supplier;
import me.tongfei.progressbar.ConsoleProgressBarConsumer;
import me.tongfei.progressbar.ProgressBar;
import me.tongfei.progressbar.ProgressBarBuilder;
import me.tongfei.progressbar.ProgressBarConsumer;
import me.tongfei.progressbar.ProgressBarStyle;

/**
 * The progress bars of the command line, drawn by the {@code me.tongfei:progressbar} library: one bar
 * per pipeline task with the task's name, done/total in its unit, the rate, the elapsed time and the
 * ETA, redrawn in place and cleared when the task ends, so that only the result lines stay. Commands draw bars on standard error, and only
 * when it is a terminal and {@code --no-progress} was not given ({@link #off()} otherwise), so that
 * piped output and test output hold only the result lines.
 */
public final class ProgressBars implements ProgressListener {
    /** Milliseconds between redraws. */
    static final int REDRAW_MILLIS = 500;
    /** The width assumed when the terminal reports none. */
    private static final int FALLBACK_WIDTH = 100;

    private final Supplier<? extends ProgressBarConsumer> sinks;
    private final int redrawMillis;
    private ProgressBar bar;
    private ProgressBarConsumer sink;

    /**
     * Bars drawn on the sinks {@code sinks} makes, a new one per task, redrawn every
     * {@code redrawMillis} milliseconds; null draws nothing.
     */
    public ProgressBars(Supplier<? extends ProgressBarConsumer> sinks, int redrawMillis) {
        this.sinks = sinks;
        this.redrawMillis = redrawMillis;
    }

    /** Bars that draw nothing: every call is ignored and lines are printed as they are. */
    public static ProgressBars off() {
        return new ProgressBars(null, REDRAW_MILLIS);
    }

    /** Bars on this process's standard error, which should be a terminal. */
    public static ProgressBars onStandardError() {
        return new ProgressBars(() -> new TerminalSink(System.err), REDRAW_MILLIS);
    }

    /**
     * Bars on standard error unless {@code quiet} or standard error is not a terminal (redirected to
     * a file or a pipe), in which cases {@link #off()}.
     */
    public static ProgressBars forStandardError(boolean quiet) {
        return quiet || !standardErrorIsTerminal() ? off() : onStandardError();
    }

    /**
     * Whether standard error is a terminal: on Linux, whether file descriptor 2 is a tty or pty
     * device; elsewhere, whether the JVM has a console (standard input and output are terminals).
     */
    public static boolean standardErrorIsTerminal() {
        Path fd = Path.of("/proc/self/fd/2");
        if (Files.isSymbolicLink(fd)) {
            try {
                String target = Files.readSymbolicLink(fd).toString();
                return target.startsWith("/dev/pts/") || target.startsWith("/dev/tty");
            } catch (IOException | UnsupportedOperationException e) {
                return false;
            }
        }
        return System.console() != null;
    }

    /** Whether bars are drawn. */
    public boolean enabled() {
        return sinks != null;
    }

    @Override
    public synchronized void started(String task, long total, String unit) {
        finished();
        if (sinks == null) {
            return;
        }
        sink = sinks.get();
        bar = new ProgressBarBuilder().setTaskName(task).setInitialMax(total).setUnit(" " + unit, 1)
                .showSpeed(new DecimalFormat("0.0", DecimalFormatSymbols.getInstance(Locale.ROOT)))
                .setStyle(ProgressBarStyle.ASCII).setUpdateIntervalMillis(redrawMillis).continuousUpdate()
                .setConsumer(sink).build();
    }

    @Override
    public synchronized void advanced(long done) {
        if (bar != null) {
            bar.stepTo(done);
        }
    }

    /** Shows {@code text} after the current bar, e.g. the running loss; empty for none. */
    public synchronized void note(String text) {
        if (bar != null) {
            bar.setExtraMessage(text.isEmpty() ? "" : " " + text);
        }
    }

    /**
     * Ends the current bar: the library draws its final state and stops redrawing it, then its line is
     * cleared (the library's own clear-on-finish is skipped when a bar ends before its first redraw).
     */
    @Override
    public synchronized void finished() {
        if (bar != null) {
            bar.close();
            sink.clear();
            bar = null;
            sink = null;
        }
    }

    /**
     * Prints {@code line} and a line break to {@code out} and flushes it, first clearing the current
     * bar's line, which is redrawn below it: for results printed while a task runs.
     */
    public synchronized void println(PrintWriter out, String line) {
        Objects.requireNonNull(out, "out");
        if (bar == null) {
            out.println(line);
            out.flush();
            return;
        }
        synchronized (sink) {
            sink.clear();
            out.println(line);
            out.flush();
        }
        bar.refresh();
    }

    /**
     * A bar redrawn in place on a terminal stream: each drawing returns to the line's start, clearing
     * blanks the line and leaves the cursor at its start (the bar's owner clears it when the task
     * ends). Its width is the terminal's, as the library's console sink measures it.
     */
    static final class TerminalSink implements ProgressBarConsumer {
        private final PrintStream out;
        private final int width;

        TerminalSink(PrintStream out) {
            this.out = out;
            int measured = new ConsoleProgressBarConsumer(out).getMaxRenderedLength();
            this.width = measured >= 20 ? measured : FALLBACK_WIDTH;
        }

        @Override
        public int getMaxRenderedLength() {
            return width;
        }

        @Override
        public synchronized void accept(String rendered) {
            String line = rendered.length() > width ? rendered.substring(0, width) : rendered;
            out.print('\r' + line + " ".repeat(width - line.length()));
            out.flush();
        }

        @Override
        public synchronized void clear() {
            out.print('\r' + " ".repeat(width) + '\r');
            out.flush();
        }

        @Override
        public synchronized void close() {
            out.flush();
        }
    }
}
