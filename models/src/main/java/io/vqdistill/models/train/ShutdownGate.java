package io.vqdistill.models.train;

/**
 * Makes a JVM shutdown (SIGTERM, Ctrl-C) wait until training is between two units of native work,
 * so that an engine is never torn down under a running computation. Without it a killed DJL
 * training run crashed the JVM instead of exiting (SIGSEGV in {@code dnnl_primitive_execute} during
 * {@code torchBackward}, with the VM "at safepoint (shutting down)"; seen three times here). The
 * run then resumes from its last completed epoch as before. {@link EpochRunner} runs every step,
 * validation and test evaluation of every engine inside one.
 */
final class ShutdownGate implements AutoCloseable {
    /** How long a shutdown waits for the current unit of work. */
    static final long WAIT_MILLIS = 60_000;

    private final Object lock = new Object();
    private final Thread hook;
    private boolean busy;
    private boolean stopping;

    /** Registers the shutdown hook. */
    ShutdownGate(String what) {
        hook = new Thread(this::awaitIdle, "vqdistill " + what + " shutdown");
        Runtime.getRuntime().addShutdownHook(hook);
    }

    /** Starts a unit of native work; once the JVM is shutting down, blocks until it exits. */
    void enter() {
        synchronized (lock) {
            while (stopping) {
                try {
                    lock.wait();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
            busy = true;
        }
    }

    /** Ends the unit of work started by {@link #enter()}. */
    void leave() {
        synchronized (lock) {
            busy = false;
            lock.notifyAll();
        }
    }

    /** The shutdown hook: marks the JVM as stopping and waits until no unit of work is running. */
    void awaitIdle() {
        synchronized (lock) {
            stopping = true;
            long deadline = System.currentTimeMillis() + WAIT_MILLIS;
            long left = WAIT_MILLIS;
            while (busy && left > 0) {
                try {
                    lock.wait(left);
                } catch (InterruptedException e) {
                    return;
                }
                left = deadline - System.currentTimeMillis();
            }
        }
    }

    /** Unregisters the hook (nothing to do when the JVM is already shutting down). */
    @Override
    public void close() {
        try {
            Runtime.getRuntime().removeShutdownHook(hook);
        } catch (IllegalStateException shuttingDown) {
            // the hook is running or has run; it releases itself
        }
    }
}
