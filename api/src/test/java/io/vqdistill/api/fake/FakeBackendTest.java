package io.vqdistill.api.fake;

import static io.vqdistill.api.TensorAssert.assertThatTensor;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.vqdistill.api.BackendException;
import io.vqdistill.api.Device;
import io.vqdistill.api.Tensor;
import io.vqdistill.api.TensorException;
import io.vqdistill.api.spi.BackendOptions;
import org.junit.jupiter.api.Test;

/** What is specific to the fake backend; the shared contract is in {@link FakeTensorContractTest}. */
class FakeBackendTest {
    private final FakeBackendProvider provider = new FakeBackendProvider();

    @Test
    void providerIsAlwaysAvailableWithTheLowestPriority() {
        assertThat(provider.name()).isEqualTo("fake");
        assertThat(provider.priority()).isEqualTo(-100);
        assertThat(provider.availability().available()).isTrue();
    }

    @Test
    void runsOnTheCpuOnly() {
        assertThat(provider.create(new BackendOptions("cpu", 2)).device()).isEqualTo(Device.CPU);
        assertThatThrownBy(() -> provider.create(new BackendOptions("gpu:1", 0))).isInstanceOf(BackendException.class)
                .hasMessageContaining("fake").hasMessageContaining("gpu:1");
    }

    @Test
    void int64BeyondTwoToThe53IsRejectedNotRounded() {
        FakeBackend backend = new FakeBackend();
        assertThatTensor(backend.of(new long[] {1L << 53, -(1L << 53)}, 2)).hasLongs(1L << 53, -(1L << 53));
        assertThatThrownBy(() -> backend.of(new long[] {(1L << 53) + 1}, 1)).isInstanceOf(TensorException.class)
                .hasMessageContaining("of").hasMessageContaining(Long.toString((1L << 53) + 1));
        assertThatThrownBy(() -> backend.of(new long[] {Long.MIN_VALUE}, 1)).isInstanceOf(TensorException.class);
    }

    @Test
    void int32ArithmeticWrapsLikeJavaInt() {
        FakeBackend backend = new FakeBackend();
        Tensor max = backend.of(new int[] {Integer.MAX_VALUE}, 1);
        assertThatTensor(max.add(backend.of(new int[] {1}, 1))).hasLongs(Integer.MIN_VALUE);
        assertThatTensor(max.square()).hasLongs(1);
    }

    @Test
    void backendCloseIsRecorded() {
        FakeBackend backend = new FakeBackend();
        assertThat(backend.isClosed()).isFalse();
        backend.close();
        assertThat(backend.isClosed()).isTrue();
        assertThat(backend.toString()).contains("fake").contains("cpu");
    }
}
