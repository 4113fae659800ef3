package io.vqdistill.models.train;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

class ShutdownGateTest {
    @Test
    void aShutdownWaitsForTheRunningStepAndNoNewStepStartsAfterIt() throws Exception {
        try (ShutdownGate gate = new ShutdownGate("test")) {
            gate.enter();
            CountDownLatch hookDone = new CountDownLatch(1);
            Thread hook = new Thread(() -> {
                gate.awaitIdle();
                hookDone.countDown();
            });
            hook.start();
            assertThat(hookDone.await(300, TimeUnit.MILLISECONDS)).as("the hook waits while a step runs").isFalse();
            gate.leave();
            assertThat(hookDone.await(10, TimeUnit.SECONDS)).as("the hook returns once the step is done").isTrue();

            AtomicBoolean started = new AtomicBoolean();
            Thread next = new Thread(() -> {
                gate.enter();
                started.set(true);
            });
            next.setDaemon(true);
            next.start();
            next.join(300);
            assertThat(started).as("no step starts while the JVM shuts down").isFalse();
            assertThat(next.getState()).isEqualTo(Thread.State.WAITING);
        }
    }

    /** Without a shutdown no step waits, and a step that has left leaves nothing for a shutdown to wait for. */
    @Test
    @Timeout(value = 10, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
    void withoutAShutdownStepsPassFreely() {
        try (ShutdownGate gate = new ShutdownGate("test")) {
            int steps = 0;
            for (int i = 0; i < 3; i++) {
                gate.enter();
                steps++;
                gate.leave();
            }
            assertThat(steps).as("steps that entered and left the gate").isEqualTo(3);
            long start = System.nanoTime();
            gate.awaitIdle();
            assertThat((System.nanoTime() - start) / 1e6).as("milliseconds a shutdown waited after the last step")
                    .isLessThan(1000.0);
        }
    }
}
