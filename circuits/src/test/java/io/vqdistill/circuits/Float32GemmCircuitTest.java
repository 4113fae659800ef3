package io.vqdistill.circuits;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import io.vqdistill.api.Backend;
import io.vqdistill.api.DType;
import io.vqdistill.api.Tensor;
import io.vqdistill.api.TensorScope;
import io.vqdistill.api.circuit.MaskedSumKernel;
import io.vqdistill.api.fake.FakeBackendProvider;
import io.vqdistill.api.spi.BackendOptions;
import io.vqdistill.circuits.leaf.GaussianFamily;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * The circuit contract on a backend whose float32 matrix products accumulate in float32, as an
 * engine's GEMM does; here the expanded Gaussian square loses many nats to cancellation, so the
 * contract's accuracy tests pass only because the mixture refines the leading components.
 */
class Float32GemmCircuitTest extends CircuitContractTest {
    @Override
    protected Backend createBackend() {
        return new Float32GemmBackend(new FakeBackendProvider().create(BackendOptions.defaults()));
    }

    @Test
    void theRawMatrixProductIsTooInaccurateWithoutRefinement() {
        Random rng = new Random(22);
        Fixtures.Gaussian g = Fixtures.gaussian(backend, 64, 10, 1e-3, 1e-3, 0, rng);
        double worst = 0;
        try (ShallowMixture m = g.mixture(); TensorScope scope = TensorScope.open()) {
            double[][] data = new double[10][];
            for (int r = 0; r < data.length; r++) {
                data[r] = g.draw(r, rng);
            }
            Tensor x = backend.of(Fixtures.flat(data), data.length, 64);
            Tensor zero = backend.zeros(DType.FLOAT64, g.components());
            MaskedSumKernel kernel = new GaussianFamily(1e-3, 1e-3).maskedSumKernel(m.parameters(), zero).orElseThrow();
            double[] raw = kernel.scores(x, null).toDoubleArray();
            double[] bound = kernel.errorBound(x, null).toDoubleArray();
            double[] exact = m.logLikelihood(x).toDoubleArray();
            for (int r = 0; r < data.length; r++) {
                double err = Math.abs(raw[r * g.components() + r] - g.componentScore(r, data[r], null)
                        + g.logWeights()[r]);
                worst = Math.max(worst, err);
                assertThat(err).as("the kernel's bound covers its error").isLessThanOrEqualTo(bound[r]);
                double expected = g.logLikelihood(data[r], null);
                assertThat(exact[r]).isCloseTo(expected, within(1e-2 + 1e-5 * Math.abs(expected)));
            }
            kernel.close();
        }
        assertThat(worst).as("float32 cancellation error of the raw product").isGreaterThan(1);
    }
}
