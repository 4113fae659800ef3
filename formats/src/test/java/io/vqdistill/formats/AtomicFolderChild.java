package io.vqdistill.formats;

import java.io.IOException;
import java.nio.file.Path;

/**
 * A second process for {@link AtomicFolderTest}: {@code halt <boundary> <dir> <version>} commits a
 * version of {@code dir} and halts the JVM (no finally blocks, no shutdown hooks: a kill) at the
 * boundary; {@code hold <dir>} takes the writer's lock, prints {@code locked} and holds it until its
 * standard input closes.
 */
public final class AtomicFolderChild {
    /** The exit status of a process halted at a boundary. */
    static final int HALTED = 77;

    private AtomicFolderChild() {
    }

    /** Runs one of the modes above. */
    public static void main(String[] args) throws IOException {
        switch (args[0]) {
            case "halt" -> {
                AtomicFolder.Boundary at = AtomicFolder.Boundary.valueOf(args[1]);
                AtomicFolder.installFaultHook(new AtomicFolder.FaultHook() {
                    @Override
                    public void at(AtomicFolder.Boundary boundary, Path folder) {
                        if (boundary == at) {
                            Runtime.getRuntime().halt(HALTED);
                        }
                    }
                });
                AtomicFolder.write(Path.of(args[2]), s -> {
                    s.writeString("a.txt", args[3]);
                    s.writeString("sub/b.txt", args[3]);
                });
                System.exit(0);
            }
            case "hold" -> {
                try (AtomicFolder.Writer w = AtomicFolder.open(Path.of(args[1]))) {
                    System.out.println("locked");
                    System.out.flush();
                    while (System.in.read() >= 0) {
                        // hold the lock until the parent closes our input
                    }
                }
            }
            default -> throw new IllegalArgumentException(args[0]);
        }
    }
}
