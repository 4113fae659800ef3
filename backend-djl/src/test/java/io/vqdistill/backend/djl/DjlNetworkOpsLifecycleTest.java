package io.vqdistill.backend.djl;

import static org.assertj.core.api.Assertions.assertThat;

import io.vqdistill.api.DType;
import io.vqdistill.api.Tensor;
import io.vqdistill.api.TensorScope;
import io.vqdistill.api.spi.BackendOptions;
import io.vqdistill.models.nn.Activation;
import io.vqdistill.models.nn.ConvWeights;
import io.vqdistill.models.nn.NetworkOps;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * What the network contract cannot see on DJL: weights own copies that live until they are closed,
 * operations leave no intermediate array behind, and shared weights serve several threads at once.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class DjlNetworkOpsLifecycleTest {
    private DjlBackend backend;
    private NetworkOps ops;

    @BeforeAll
    void start() {
        backend = (DjlBackend) new DjlBackendProvider().create(new BackendOptions("cpu", 0));
        ops = backend.capability(NetworkOps.class).orElseThrow();
    }

    @AfterAll
    void stop() {
        backend.close();
    }

    private int liveArrays() {
        return backend.manager().getManagedArrays().size();
    }

    @Test
    void operationsLeaveOnlyTheirResultsAndClosedWeightsLeaveNothing() {
        int before = liveArrays();
        try (TensorScope scope = TensorScope.open()) {
            Random rng = new Random(5);
            Tensor x = backend.normal(rng, DType.FLOAT32, 2, 3, 7, 7);
            ConvWeights conv = ops.convWeights(backend.normal(rng, DType.FLOAT32, 4, 3, 3, 3),
                    backend.normal(rng, DType.FLOAT32, 4));
            ConvWeights up = ops.transposedConvWeights(backend.normal(rng, DType.FLOAT32, 3, 2, 4, 4), null);
            int withInputs = liveArrays();
            Tensor y = ops.conv2d(x, conv, 2, 1, 1);
            Tensor z = ops.convTranspose2d(x, up, 2, 1, 0);
            Tensor s = ops.activation(Activation.SIGMOID, z);
            assertThat(liveArrays()).isEqualTo(withInputs + 3);
            assertThat(y.shape()).containsExactly(2, 4, 4, 4);
            assertThat(z.shape()).containsExactly(2, 2, 14, 14);
            assertThat(s.shape()).containsExactly(2, 2, 14, 14);
            int open = liveArrays();
            conv.close();
            conv.close();
            up.close();
            assertThat(liveArrays()).as("the weights own three copies").isEqualTo(open - 3);
        }
        assertThat(liveArrays()).isEqualTo(before);
    }

    @Test
    void sharedWeightsServeSeveralThreadsAtOnce() throws Exception {
        try (TensorScope scope = TensorScope.open()) {
            Random rng = new Random(9);
            List<Tensor> inputs = new ArrayList<>();
            for (int i = 0; i < 4; i++) {
                inputs.add(backend.normal(rng, DType.FLOAT32, 1, 3, 7, 7));
            }
            try (ConvWeights up = ops.transposedConvWeights(backend.normal(rng, DType.FLOAT32, 3, 2, 4, 4),
                    backend.normal(rng, DType.FLOAT32, 2))) {
                List<float[]> expected = new ArrayList<>();
                for (Tensor x : inputs) {
                    expected.add(ops.convTranspose2d(x, up, 2, 1, 0).toFloatArray());
                }
                ExecutorService pool = Executors.newFixedThreadPool(4);
                try {
                    List<Future<Boolean>> runs = new ArrayList<>();
                    for (int t = 0; t < 4; t++) {
                        int which = t;
                        runs.add(pool.submit(() -> {
                            boolean same = true;
                            for (int r = 0; r < 25; r++) {
                                try (TensorScope calls = TensorScope.open()) {
                                    float[] got = ops.convTranspose2d(inputs.get(which), up, 2, 1, 0).toFloatArray();
                                    same &= Arrays.equals(got, expected.get(which));
                                }
                            }
                            return same;
                        }));
                    }
                    for (Future<Boolean> run : runs) {
                        assertThat(run.get()).isTrue();
                    }
                } finally {
                    pool.shutdown();
                }
            }
        }
    }
}
