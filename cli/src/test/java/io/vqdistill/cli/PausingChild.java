package io.vqdistill.cli;

import io.vqdistill.formats.AtomicFolder;
import java.nio.file.Path;
import java.util.Arrays;

/**
 * A vqdistill process for tests that pauses every folder commit at one boundary: it prints
 * {@link #PAUSED} and waits there, so that the test can terminate it (SIGTERM) at that very instant.
 * Arguments: the {@link AtomicFolder.Boundary} name, then the command line.
 */
final class PausingChild {
    /** Printed when a commit reaches the boundary. */
    static final String PAUSED = "paused at the boundary";

    private PausingChild() {
    }

    public static void main(String[] args) throws Exception {
        AtomicFolder.Boundary at = AtomicFolder.Boundary.valueOf(args[0]);
        AtomicFolder.installFaultHook(new AtomicFolder.FaultHook() {
            @Override
            public void at(AtomicFolder.Boundary boundary, Path folder) {
                if (boundary == at) {
                    System.out.println(PAUSED);
                    System.out.flush();
                    try {
                        Thread.sleep(600_000);
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                    }
                }
            }
        });
        System.exit(Main.commandLine(Main.createInjector()).execute(Arrays.copyOfRange(args, 1, args.length)));
    }
}
