package io.vqdistill.models.fake;

import static io.vqdistill.api.TensorAssert.assertThatTensor;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.vqdistill.api.Tensor;
import io.vqdistill.api.TensorException;
import io.vqdistill.api.fake.FakeBackend;
import io.vqdistill.models.nn.Activation;
import io.vqdistill.models.nn.NetworkOps;
import org.junit.jupiter.api.Test;

class FakeNetworkOpsTest {
    @Test
    void networkOpsAreDeclaredOnlyWhenAskedFor() {
        assertThat(new FakeBackend().capabilities()).isEmpty();
        FakeBackend networks = FakeNetworkOps.backend();
        NetworkOps ops = networks.capability(NetworkOps.class).orElseThrow();
        assertThat(ops).isInstanceOf(FakeNetworkOps.class);
        Tensor plain = new FakeBackend().of(new float[] {-1, 1}, 2);
        assertThatThrownBy(() -> ops.activation(Activation.RELU, plain)).isInstanceOf(TensorException.class)
                .hasMessageContaining("activation").hasMessageContaining("another backend instance");
        assertThatTensor(ops.activation(Activation.RELU, networks.of(new float[] {-1, 1}, 2))).hasValues(0, 1);
    }
}
