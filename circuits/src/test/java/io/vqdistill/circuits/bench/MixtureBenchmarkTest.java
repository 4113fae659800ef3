package io.vqdistill.circuits.bench;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import io.vqdistill.api.Backend;
import io.vqdistill.api.InvalidArgumentException;
import io.vqdistill.api.Tensor;
import io.vqdistill.api.circuit.Precision;
import io.vqdistill.api.fake.FakeBackendProvider;
import io.vqdistill.api.spi.BackendOptions;
import io.vqdistill.circuits.ShallowMixture;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class MixtureBenchmarkTest {

    @Test
    void timesDecodedLookingLeavesAndSaysSo() {
        try (Backend backend = new FakeBackendProvider().create(BackendOptions.defaults())) {
            MixtureBenchmark.Result r = MixtureBenchmark.run(backend, 8, 4, 3, 1, 7);
            assertThat(r.variables()).isEqualTo(8);
            assertThat(r.components()).isEqualTo(4);
            assertThat(r.batch()).isEqualTo(3);
            assertThat(r.precision()).isEqualTo(Precision.FAST);
            assertThat(r.workload()).contains("decoded-looking", "1e-3 clamp");
            assertThat(r.seconds()).isPositive();
            assertThat(r.matmulSeconds()).isPositive();
            assertThat(r.prepareSeconds()).isPositive();
            assertThat(r.gflops()).isCloseTo(2.0 * 3 * 4 * 17 / r.seconds() / 1e9, within(1e-12));
            assertThat(r.matmulGflops()).isCloseTo(2.0 * 3 * 4 * 8 / r.matmulSeconds() / 1e9, within(1e-12));
            assertThat(r.throughputRatio()).isCloseTo(r.gflops() / r.matmulGflops(), within(1e-12));
            assertThat(r.timeRatio()).isCloseTo(r.seconds() / r.matmulSeconds(), within(1e-12));
            assertThat(r.toString()).contains("fake", "N = 4", "FAST");
        }
    }

    @Test
    void timesAGivenCircuitAtItsPrecision() {
        try (Backend backend = new FakeBackendProvider().create(BackendOptions.defaults())) {
            DecodedLeaves leaves = DecodedLeaves.generate(16, 5, 2, true, 3);
            try (ShallowMixture m = leaves.mixture(backend);
                 Tensor x = backend.of(leaves.images(4, new SplittableRandom(4)), 4, 16)) {
                m.setPrecision(Precision.DOUBLE);
                MixtureBenchmark.Result r = MixtureBenchmark.run(m, x, 3, "my circuit");
                assertThat(r.workload()).isEqualTo("my circuit");
                assertThat(r.precision()).isEqualTo(Precision.DOUBLE);
                assertThat(r.repeats()).isEqualTo(3);
                assertThat(r.batch()).isEqualTo(4);
                assertThatThrownBy(() -> MixtureBenchmark.run(m, x, 0, "none"))
                        .isInstanceOf(InvalidArgumentException.class);
            }
        }
    }
}
