package io.vqdistill.cli.options;

import io.vqdistill.cli.render.ProgressBars;
import picocli.CommandLine.Option;

/**
 * The option of every command that can run for long: progress bars on standard error while it works,
 * unless {@code --no-progress} is given or standard error is not a terminal.
 */
public final class ProgressOptions {

    @Option(names = "--no-progress",
            description = "draw no progress bars (they are drawn on standard error only when it is a terminal)")
    boolean noProgress;

    /** The bars this command draws: on standard error, or none. */
    public ProgressBars bars() {
        return ProgressBars.forStandardError(noProgress);
    }
}
