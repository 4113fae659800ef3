package io.vqdistill.circuits.bench;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import io.vqdistill.api.Backend;
import io.vqdistill.api.fake.FakeBackendProvider;
import io.vqdistill.api.spi.BackendOptions;
import org.junit.jupiter.api.Test;

class MixtureBenchmarkTest {

    @Test
    void timesBothComputationsAndDerivesThroughputFromTheShapes() {
        try (Backend backend = new FakeBackendProvider().create(BackendOptions.defaults())) {
            MixtureBenchmark.Result r = MixtureBenchmark.run(backend, 8, 4, 3, 1, 7);
            assertThat(r.variables()).isEqualTo(8);
            assertThat(r.components()).isEqualTo(4);
            assertThat(r.batch()).isEqualTo(3);
            assertThat(r.seconds()).isPositive();
            assertThat(r.matmulSeconds()).isPositive();
            assertThat(r.gflops()).isCloseTo(2.0 * 3 * 4 * 17 / r.seconds() / 1e9, within(1e-12));
            assertThat(r.matmulGflops()).isCloseTo(2.0 * 3 * 4 * 8 / r.matmulSeconds() / 1e9, within(1e-12));
            assertThat(r.throughputRatio()).isCloseTo(r.gflops() / r.matmulGflops(), within(1e-12));
        }
    }
}
