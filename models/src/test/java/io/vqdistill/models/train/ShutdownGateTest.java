package io.vqdistill.models.train;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;

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

    @Test
    void withoutAShutdownStepsPassFreely() {
        try (ShutdownGate gate = new ShutdownGate("test")) {
            for (int i = 0; i < 3; i++) {
                gate.enter();
                gate.leave();
            }
        }
    }
}
