package io.vqdistill.backend.djl;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.vqdistill.api.Backend;
import io.vqdistill.api.BinaryOp;
import io.vqdistill.api.CompareOp;
import io.vqdistill.api.DType;
import io.vqdistill.api.ReduceOp;
import io.vqdistill.api.Tensor;
import io.vqdistill.api.TensorException;
import io.vqdistill.api.TensorScope;
import io.vqdistill.api.UnaryOp;
import io.vqdistill.api.spi.BackendOptions;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * What the contract cannot see: every DJL array belongs to exactly one tensor, operations leave no
 * intermediate array behind on the root manager, and views outlive the tensors they came from.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class DjlTensorLifecycleTest {
    private DjlBackend backend;

    @BeforeAll
    void start() {
        backend = (DjlBackend) new DjlBackendProvider().create(new BackendOptions("cpu", 0));
    }

    @AfterAll
    void stop() {
        backend.close();
    }

    private int liveArrays() {
        return backend.manager().getManagedArrays().size();
    }

    @Test
    void operationsLeaveOnlyTheirResults() {
        int before = liveArrays();
        Tensor kept;
        try (TensorScope scope = TensorScope.open()) {
            Random rng = new Random(7);
            Tensor x = backend.normal(rng, DType.FLOAT32, 3, 4);
            Tensor ints = backend.of(new int[] {7, -7, 3, 0, 9, -2}, 2, 3);
            Tensor idx32 = backend.of(new int[] {2, 0, 2}, 3);
            Tensor along = backend.of(new int[] {3, 0, 1, 1, 2, 2}, 3, 2);
            List<Tensor> results = List.of(
                    x.unary(UnaryOp.LOG1P),
                    x.reduce(ReduceOp.LOG_SUM_EXP, 1, false),
                    x.reduce(ReduceOp.LOG_SUM_EXP, 0, true),
                    x.clamp(-0.5, 0.5),
                    ints.clamp(-1.5, 2.5),
                    ints.binary(BinaryOp.DIV, backend.full(DType.INT32, 2)),
                    ints.reduce(ReduceOp.SUM, 1, false),
                    x.gather(1, idx32),
                    x.takeAlong(1, along),
                    x.compare(CompareOp.GT, backend.full(DType.FLOAT32, 0)).where(x, backend.full(DType.FLOAT32, -1)),
                    x.matmul(x.transposeLast()),
                    x.toType(DType.INT64),
                    backend.concat(List.of(x, x), 0));
            assertThat(results).allMatch(t -> !t.isClosed());
            x.topK(2, 1);
            x.transpose(1, 0).toFloatArray();
            x.slice(1, 1, 3).toDoubleArray();
            kept = scope.keep(results.get(0));
            assertThat(liveArrays()).isGreaterThan(before + results.size());
        }
        assertThat(liveArrays()).isEqualTo(before + 1);
        assertThat(kept.isClosed()).isFalse();
        kept.close();
        assertThat(liveArrays()).isEqualTo(before);
    }

    @Test
    void closingATensorFreesItsArrayAtOnce() {
        int before = liveArrays();
        Tensor t = backend.of(new double[] {1, 2, 3}, 3);
        assertThat(liveArrays()).isEqualTo(before + 1);
        t.close();
        t.close();
        assertThat(liveArrays()).isEqualTo(before);
    }

    @Test
    void viewsOutliveTheirSource() {
        Tensor source = backend.of(new float[] {1, 2, 3, 4, 5, 6}, 2, 3);
        Tensor transposed = source.transpose(1, 0);
        Tensor sliced = source.slice(1, 1, 3);
        Tensor reshaped = source.reshape(3, 2);
        source.close();
        assertThat(transposed.toFloatArray()).containsExactly(1, 4, 2, 5, 3, 6);
        assertThat(sliced.toFloatArray()).containsExactly(2, 3, 5, 6);
        assertThat(reshaped.toFloatArray()).containsExactly(1, 2, 3, 4, 5, 6);
        transposed.close();
        sliced.close();
        reshaped.close();
    }

    @Test
    void tensorsOfAClosedBackendFailCleanly() {
        Backend other = new DjlBackendProvider().create(new BackendOptions("cpu", 0));
        Tensor t = other.of(new float[] {1, 2}, 2);
        other.close();
        other.close();
        assertThatThrownBy(t::toFloatArray).isInstanceOf(TensorException.class).hasMessageContaining("was closed");
        assertThatThrownBy(() -> t.add(t)).isInstanceOf(TensorException.class).hasMessageContaining("was closed");
        assertThatThrownBy(() -> other.of(new float[] {1}, 1)).isInstanceOf(TensorException.class);
        t.close();
        assertThat(t.isClosed()).isTrue();
    }

    @Test
    void tensorsOfTwoBackendsAreIndependent() {
        Backend other = new DjlBackendProvider().create(new BackendOptions("cpu", 0));
        Tensor mine = backend.of(new float[] {1, 2}, 2);
        try {
            Tensor theirs = other.of(new float[] {1, 2}, 2);
            assertThatThrownBy(() -> mine.add(theirs)).isInstanceOf(TensorException.class);
        } finally {
            other.close();
        }
        assertThat(mine.toFloatArray()).containsExactly(1, 2);
        mine.close();
    }
}
