package io.vqdistill.circuits;

import static org.assertj.core.api.Assertions.assertThat;

import io.vqdistill.api.Backend;
import io.vqdistill.api.DType;
import io.vqdistill.api.Tensor;
import io.vqdistill.api.TensorScope;
import io.vqdistill.api.circuit.MaskedSumKernel;
import io.vqdistill.api.fake.FakeBackendProvider;
import io.vqdistill.api.spi.BackendOptions;
import io.vqdistill.circuits.bench.DecodedLeaves;
import io.vqdistill.circuits.leaf.GaussianFamily;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * The circuit contract on a backend whose float32 matrix products accumulate in float32, one term
 * after the other, as an engine's GEMM does at worst; the reference fake backend accumulates in
 * double, which would hide the cancellation of the expanded Gaussian square. The contract's FAST
 * accuracy tests pass here only because the Gaussian kernel expands the square around centres near
 * the leaves' means, in blocks that bring the running sums back to the exact partial scores.
 */
class Float32GemmCircuitTest extends CircuitContractTest {
    @Override
    protected Backend createBackend() {
        return new Float32GemmBackend(new FakeBackendProvider().create(BackendOptions.defaults()));
    }

    @Test
    void oneCentrePerPixelWouldBeOffByNatsWhereTheKernelIsNot() {
        DecodedLeaves d = DecodedLeaves.generate(784, 48, 6, false, 51);
        int s = d.variables();
        int n = d.components();
        SplittableRandom rng = new SplittableRandom(52);
        int b = 8;
        int[] source = new int[b];
        float[] images = new float[b * s];
        for (int r = 0; r < b; r++) {
            source[r] = rng.nextInt(n);
            System.arraycopy(d.image(source[r], rng), 0, images, r * s, s);
        }
        float[] mean = d.mean();
        float[] logVar = d.logVar();
        double worstNaive = 0;
        double worstKernel = 0;
        try (TensorScope scope = TensorScope.open()) {
            Map<String, Tensor> p = new GaussianFamily().prepare(d.tensors(backend));
            Tensor x = backend.of(images, b, s);
            MaskedSumKernel kernel = new GaussianFamily().maskedSumKernel(p, backend.zeros(DType.FLOAT64, n))
                    .orElseThrow();
            double[] fast = kernel.scores(x, null).toDoubleArray();
            double[] naive = oneCentre(p.get("mean"), p.get("log_var"), x).toDoubleArray();
            for (int r = 0; r < b; r++) {
                int j = source[r];
                double exact = 0;
                for (int i = 0; i < s; i++) {
                    double lv = logVar[j * s + i];
                    double diff = images[r * s + i] - (double) mean[j * s + i];
                    exact += -0.5 * (Math.log(2 * Math.PI) + lv + diff * diff / Math.exp(lv));
                }
                worstNaive = Math.max(worstNaive, Math.abs(naive[r * n + j] - exact));
                worstKernel = Math.max(worstKernel, Math.abs(fast[r * n + j] - exact));
            }
            kernel.close();
        }
        assertThat(worstNaive).as("float32 cancellation around the mean of all components").isGreaterThan(1);
        assertThat(worstKernel).as("the kernel's error on the component each image was drawn from")
                .isLessThan(1e-2);
    }

    /** The expanded square around one centre per pixel (the mean over the components), as one float32 product. */
    private Tensor oneCentre(Tensor mean, Tensor logVar, Tensor x) {
        try (TensorScope scope = TensorScope.open()) {
            long n = mean.shape(0);
            Tensor centre = mean.toType(DType.FLOAT64).sum(0).div(n).toType(DType.FLOAT32).reshape(1, -1);
            Tensor a = logVar.neg().exp();
            Tensor centred = mean.sub(centre);
            Tensor lv = logVar.toType(DType.FLOAT64);
            Tensor k = centred.toType(DType.FLOAT64).square().mul(lv.neg().exp()).add(lv).add(Math.log(2 * Math.PI))
                    .mul(-0.5).sum(1).toType(DType.FLOAT32).reshape(n, 1);
            Tensor weights = backend.concat(List.of(a.mul(-0.5), centred.mul(a), k), 1).transposeLast();
            Tensor d = x.sub(centre);
            Tensor features = backend.concat(List.of(d.square(), d, backend.full(DType.FLOAT32, 1, x.shape(0), 1)), 1);
            return scope.keep(features.matmul(weights));
        }
    }
}
