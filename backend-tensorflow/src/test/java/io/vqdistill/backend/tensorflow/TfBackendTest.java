package io.vqdistill.backend.tensorflow;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.vqdistill.api.DType;
import io.vqdistill.api.Tensor;
import io.vqdistill.api.TensorException;
import io.vqdistill.api.TensorScope;
import io.vqdistill.api.spi.BackendOptions;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.tensorflow.types.family.TType;

/**
 * What is particular to the TensorFlow implementation, beyond the api's tensor contract: native
 * memory freed on close (not by the garbage collector), a graph that does not grow with the data,
 * the ConcatV2 tree, TensorFlow's tie order on long rows, and calls from several threads.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@SuppressWarnings("try") // a TensorScope is opened for what it closes, not to be referenced
class TfBackendTest {
    private TfBackend backend;

    @BeforeAll
    void start() {
        backend = (TfBackend) new TfBackendProvider().create(new BackendOptions("cpu", 2));
    }

    @AfterAll
    void stop() {
        backend.close();
    }

    @Test
    void closingATensorFreesItsNativeTensorAtOnce() {
        Tensor t = backend.of(new float[] {1, 2, 3}, 3);
        TType raw = ((TfTensor) t).value();
        assertThat(raw.asRawTensor().numBytes()).isEqualTo(12);
        t.close();
        // TF Java nulls the handle when TF_DeleteTensor has run
        assertThatThrownBy(() -> raw.asRawTensor().numBytes()).isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("close() was called on the Tensor");
    }

    @Test
    void residentMemoryStaysFlatWithoutGarbageCollection() throws IOException {
        long[] shape = {2048, 2048}; // 16 MiB of float32
        long before = 0;
        for (int i = 0; i < 60; i++) {
            try (TensorScope scope = TensorScope.open()) {
                Tensor x = backend.full(DType.FLOAT32, 0.5, shape);
                Tensor y = x.exp().reduce(io.vqdistill.api.ReduceOp.LOG_SUM_EXP, 1, false);
                assertThat(y.shape()).containsExactly(2048);
            }
            if (i == 9) {
                before = residentBytes();
            }
        }
        // 50 more iterations of about 48 MiB each would add over 2 GiB if nothing were freed
        assertThat(residentBytes() - before).isLessThan(256L << 20);
    }

    @Test
    void theGraphDoesNotGrowWithShapesOffsetsOrAxes() {
        try (TensorScope scope = TensorScope.open()) {
            Tensor x = backend.of(new double[120], 2, 3, 4, 5);
            x.reshape(-1, 2).slice(0, 0, 1).transpose(1, 0).sum(0);
            x.sum(0).max(0);
            int built = backend.engine().kernelCount();
            for (int n = 3; n <= 6; n++) {
                x.reshape(-1, n).slice(0, n, 2 * n).transpose(1, 0).sum(1);
                x.sum(n % 4).max(n % 3);
            }
            assertThat(backend.engine().kernelCount()).isEqualTo(built);
        }
    }

    @Test
    void concatOfManyTensorsIsJoinedAsATree() {
        try (TensorScope scope = TensorScope.open()) {
            List<Tensor> parts = new ArrayList<>();
            for (int i = 0; i < 300; i++) {
                parts.add(backend.of(new long[] {i, -i}, 1, 2));
            }
            Tensor all = backend.concat(parts, 0);
            assertThat(all.shape()).containsExactly(300, 2);
            long[] v = all.toLongArray();
            for (int i = 0; i < 300; i++) {
                assertThat(v[2 * i]).isEqualTo(i);
                assertThat(v[2 * i + 1]).isEqualTo(-i);
            }
            Tensor columns = backend.concat(parts.subList(0, 17), 1);
            assertThat(columns.shape()).containsExactly(1, 34);
            assertThat(columns.toLongArray()[32]).isEqualTo(16);
        }
    }

    @Test
    void argMaxAndTopKKeepTheFirstOfTiesOnLongRows() {
        try (TensorScope scope = TensorScope.open()) {
            int n = 200_000;
            float[] data = new float[2 * n];
            java.util.Arrays.fill(data, 3f);
            data[n + 150_001] = 4f;
            data[n + 170_000] = 4f;
            Tensor x = backend.of(data, 2, n);
            assertThat(x.argMax(1).toLongArray()).containsExactly(0, 150_001);
            assertThat(x.topK(3, 1).indices().toLongArray()).containsExactly(0, 1, 2, 150_001, 170_000, 0);
        }
    }

    @Test
    void threadsMayCallInParallel() throws Exception {
        ExecutorService pool = Executors.newFixedThreadPool(4);
        try {
            List<Future<Double>> results = new ArrayList<>();
            for (int task = 0; task < 16; task++) {
                int k = task;
                results.add(pool.submit(() -> {
                    try (TensorScope scope = TensorScope.open()) {
                        Tensor a = backend.full(DType.FLOAT64, k, 8, 8);
                        Tensor b = backend.full(DType.FLOAT64, 1, 8, 8);
                        return a.matmul(b).add(1.0).sumAll().item();
                    }
                }));
            }
            for (int task = 0; task < 16; task++) {
                assertThat(results.get(task).get()).isEqualTo(64 * (8.0 * task + 1));
            }
        } finally {
            pool.shutdownNow();
        }
    }

    @Test
    void aClosedBackendRefusesWork() {
        TfBackend other = (TfBackend) new TfBackendProvider().create(new BackendOptions("cpu", 2));
        Tensor x = other.of(new float[] {1, 2}, 2);
        other.close();
        other.close();
        assertThatThrownBy(x::exp).isInstanceOf(TensorException.class).hasMessageContaining("was closed");
        assertThat(x.toFloatArray()).containsExactly(1, 2);
        x.close();
    }

    private static long residentBytes() throws IOException {
        for (String line : Files.readAllLines(Paths.get("/proc/self/status"))) {
            if (line.startsWith("VmRSS:")) {
                return Long.parseLong(line.replaceAll("[^0-9]", "")) * 1024;
            }
        }
        throw new IllegalStateException("no VmRSS in /proc/self/status");
    }
}
