package io.vqdistill.backend.tensorflow;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.vqdistill.api.DType;
import io.vqdistill.api.Tensor;
import io.vqdistill.api.TensorException;
import io.vqdistill.api.TensorScope;
import io.vqdistill.api.spi.BackendOptions;
import io.vqdistill.backend.tensorflow.TfNetworkOps.TfConvWeights;
import io.vqdistill.models.nn.Activation;
import io.vqdistill.models.nn.ConvWeights;
import io.vqdistill.models.nn.NetworkOps;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.tensorflow.types.family.TType;

/**
 * What the network contract cannot see on TensorFlow: the filters are stored in TensorFlow's layouts
 * and freed on close, weights survive the scope they were made in, the graph does not grow with
 * batch or image sizes, weights of another backend instance are refused, and shared weights serve
 * several threads at once.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@SuppressWarnings("try") // a TensorScope is opened for what it closes, not to be referenced
class TfNetworkOpsTest {
    private TfBackend backend;
    private NetworkOps ops;

    @BeforeAll
    void start() {
        backend = (TfBackend) new TfBackendProvider().create(new BackendOptions("cpu", 2));
        ops = backend.capability(NetworkOps.class).orElseThrow();
    }

    @AfterAll
    void stop() {
        backend.close();
    }

    private static float[] iota(int n) {
        float[] v = new float[n];
        for (int i = 0; i < n; i++) {
            v[i] = i;
        }
        return v;
    }

    private static float[] random(SplittableRandom rng, int n) {
        float[] v = new float[n];
        for (int i = 0; i < n; i++) {
            v[i] = (float) (rng.nextDouble() - 0.5);
        }
        return v;
    }

    @Test
    void theBackendDeclaresItsNetworkOpsOnce() {
        assertThat(backend.capabilities()).filteredOn(NetworkOps.class::isInstance).singleElement()
                .isInstanceOf(TfNetworkOps.class);
        assertThat(ops.capabilityName()).isEqualTo("nn-inference");
        assertThat(ops.toString()).isEqualTo("nn-inference (backend tensorflow)");
    }

    @Test
    void filtersAreStoredInTensorFlowLayoutsAndFreedOnClose() {
        // OIHW [2, 3, 1, 2] -> HWIO [1, 2, 3, 2]; transposed (in, out, kH, kW) [2, 3, 1, 2] -> [1, 2, 3, 2]
        try (Tensor w = backend.of(iota(12), 2, 3, 1, 2); Tensor b = backend.of(new float[] {1, 2}, 2)) {
            TfConvWeights conv = (TfConvWeights) ops.convWeights(w, b);
            TfConvWeights transposed = (TfConvWeights) ops.transposedConvWeights(w, null);
            assertThat(conv.filter().shape()).containsExactly(1, 2, 3, 2);
            // filter[0, kw, i, o] = weight[o, i, 0, kw]
            assertThat(conv.filter().toFloatArray()).containsExactly(0, 6, 2, 8, 4, 10, 1, 7, 3, 9, 5, 11);
            assertThat(conv.bias().toFloatArray()).containsExactly(1, 2);
            assertThat(transposed.filter().shape()).containsExactly(1, 2, 3, 2);
            assertThat(transposed.bias()).isNull();
            assertThat(conv).hasToString("convolution weights [out 2, in 3, 1x2] with bias");
            assertThat(transposed).hasToString("transposed-convolution weights [in 2, out 3, 1x2] without bias");
            TType filter = ((TfTensor) conv.filter()).value();
            conv.close();
            conv.close();
            transposed.close();
            assertThat(conv.filter().isClosed()).isTrue();
            assertThat(conv.bias().isClosed()).isTrue();
            assertThat(transposed.filter().isClosed()).isTrue();
            assertThatThrownBy(() -> filter.asRawTensor().numBytes()).isInstanceOf(IllegalStateException.class);
            assertThat(w.isClosed()).as("the weight passed in stays the caller's").isFalse();
        }
    }

    @Test
    void weightsSurviveTheScopeTheyWereMadeIn() {
        ConvWeights w;
        try (TensorScope scope = TensorScope.open()) {
            w = ops.convWeights(backend.of(new float[] {2}, 1, 1, 1, 1), backend.of(new float[] {1}, 1));
        }
        try (w; Tensor x = backend.of(new float[] {1, 2, 3, 4}, 1, 1, 2, 2); Tensor y = ops.conv2d(x, w, 1, 0, 0)) {
            assertThat(y.toFloatArray()).containsExactly(3, 5, 7, 9);
        }
    }

    @Test
    void closedWeightsAreRefused() {
        ConvWeights w = ops.convWeights(backend.zeros(DType.FLOAT32, 2, 1, 3, 3), null);
        w.close();
        try (Tensor x = backend.zeros(DType.FLOAT32, 1, 1, 4, 4)) {
            assertThatThrownBy(() -> ops.conv2d(x, w, 1, 0, 0)).isInstanceOf(TensorException.class)
                    .hasMessage("conv2d (backend tensorflow): input float32 [1, 1, 4, 4]: the convolution weights"
                            + " [out 2, in 1, 3x3] without bias are closed (used after close)");
        }
    }

    @Test
    void weightsOfAnotherBackendInstanceAreRefused() {
        try (TfBackend other = (TfBackend) new TfBackendProvider().create(new BackendOptions("cpu", 2));
                Tensor foreign = other.zeros(DType.FLOAT32, 2, 1, 3, 3)) {
            assertThatThrownBy(() -> ops.convWeights(foreign, null)).isInstanceOf(TensorException.class)
                    .hasMessageContaining("convWeights (backend tensorflow): weight belongs to another backend");
            NetworkOps otherOps = other.capability(NetworkOps.class).orElseThrow();
            try (ConvWeights w = otherOps.convWeights(foreign, null); Tensor x = backend.zeros(DType.FLOAT32, 1, 1, 4, 4)) {
                assertThatThrownBy(() -> ops.conv2d(x, w, 1, 0, 0)).isInstanceOf(TensorException.class)
                        .hasMessageContaining("were not made by this backend's NetworkOps");
            }
        }
    }

    @Test
    void theGraphDoesNotGrowWithBatchOrImageSizes() {
        SplittableRandom rng = new SplittableRandom(3);
        try (TensorScope scope = TensorScope.open();
                ConvWeights conv = ops.convWeights(backend.of(random(rng, 4 * 2 * 3 * 3), 4, 2, 3, 3),
                        backend.of(random(rng, 4), 4));
                ConvWeights up = ops.transposedConvWeights(backend.of(random(rng, 4 * 2 * 4 * 4), 4, 2, 4, 4), null)) {
            Tensor first = ops.conv2d(backend.zeros(DType.FLOAT32, 1, 2, 5, 5), conv, 2, 1, 1);
            ops.activation(Activation.RELU, ops.convTranspose2d(first, up, 2, 1, 1));
            int built = backend.engine().kernelCount();
            for (int n = 2; n <= 5; n++) {
                Tensor y = ops.conv2d(backend.zeros(DType.FLOAT32, n, 2, 3 + 2 * n, 4 + n), conv, 2, 1, 1);
                Tensor z = ops.convTranspose2d(y, up, 2, 1, 1);
                assertThat(z.shape()).containsExactly(n, 2, 2 * y.shape()[2] + 1, 2 * y.shape()[3] + 1);
                ops.activation(Activation.RELU, z);
            }
            assertThat(backend.engine().kernelCount()).isEqualTo(built);
        }
    }

    @Test
    void sharedWeightsServeSeveralThreadsAtOnce() throws Exception {
        SplittableRandom rng = new SplittableRandom(9);
        float[] wv = random(rng, 8 * 3 * 3 * 3);
        List<float[]> inputs = new ArrayList<>();
        for (int i = 0; i < 8; i++) {
            inputs.add(random(rng, 2 * 3 * 9 * 9));
        }
        try (Tensor weight = backend.of(wv, 8, 3, 3, 3); ConvWeights w = ops.convWeights(weight, null)) {
            List<float[]> expected = new ArrayList<>();
            for (float[] in : inputs) {
                try (Tensor x = backend.of(in, 2, 3, 9, 9); Tensor y = ops.conv2d(x, w, 1, 1, 1)) {
                    expected.add(y.toFloatArray());
                }
            }
            ExecutorService pool = Executors.newFixedThreadPool(4);
            try {
                List<Future<float[]>> results = new ArrayList<>();
                for (float[] in : inputs) {
                    results.add(pool.submit(() -> {
                        try (Tensor x = backend.of(in, 2, 3, 9, 9); Tensor y = ops.conv2d(x, w, 1, 1, 1)) {
                            return y.toFloatArray();
                        }
                    }));
                }
                for (int i = 0; i < inputs.size(); i++) {
                    assertThat(results.get(i).get()).containsExactly(expected.get(i));
                }
            } finally {
                pool.shutdown();
            }
        }
    }
}
