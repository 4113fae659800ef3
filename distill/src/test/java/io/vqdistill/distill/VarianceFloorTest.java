package io.vqdistill.distill;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import io.vqdistill.api.Backend;
import io.vqdistill.api.InvalidArgumentException;
import io.vqdistill.api.Tensor;
import io.vqdistill.api.fake.FakeBackend;
import io.vqdistill.api.model.Decoder;
import io.vqdistill.api.model.ImageShape;
import io.vqdistill.api.model.LatentShape;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

class VarianceFloorTest {
    private final Backend backend = new FakeBackend();

    /** A decoder over 1x1 grids of K = 2 and 1x1x3 images with fixed leaves per code. */
    private Decoder decoder(String family) {
        return new Decoder() {
            @Override
            public LatentShape latentShape() {
                return new LatentShape(1, 1, 2);
            }

            @Override
            public ImageShape imageShape() {
                return new ImageShape(1, 1, 3);
            }

            @Override
            public String leafFamily() {
                return family;
            }

            @Override
            public Map<String, Tensor> decode(Tensor codes) {
                Map<String, Tensor> m = new LinkedHashMap<>();
                m.put("mean", backend.of(new float[] {0.1f, 0.5f, 0.9f, 0.2f, 0.4f, 0.6f}, 2, 3));
                m.put("log_var", backend.of(new float[] {-13.8f, -1f, 0f, -5f, -0.5f, -9f}, 2, 3));
                return m;
            }

            @Override
            public void close() {
            }
        };
    }

    @Test
    void raisesOnlyTheStandardDeviationsBelowTheFloor() {
        VarianceFloor floor = VarianceFloor.of(decoder("gaussian"), 0.05);
        Map<String, Tensor> out = floor.decode(backend.of(new long[] {0, 1}, 2, 1));
        double min = 2 * Math.log(0.05);
        float[] logVar = out.get("log_var").toFloatArray();
        float[] expected = {(float) min, -1f, 0f, -5f, -0.5f, (float) min};
        for (int i = 0; i < expected.length; i++) {
            assertThat((double) logVar[i]).isCloseTo(expected[i], within(1e-6));
        }
        assertThat(out.get("mean").toFloatArray()).containsExactly(0.1f, 0.5f, 0.9f, 0.2f, 0.4f, 0.6f);
        assertThat(floor.leafFamily()).isEqualTo("gaussian");
        assertThat(floor).hasToString("variance floor: std >= 0.05");
    }

    @Test
    void refusesOtherLeavesAndFloorsOutsideTheUnitInterval() {
        assertThatThrownBy(() -> VarianceFloor.of(decoder("categorical"), 0.1))
                .isInstanceOf(InvalidArgumentException.class).hasMessageContaining("categorical");
        for (double bad : new double[] {0, -0.1, 1.5, Double.NaN}) {
            assertThatThrownBy(() -> VarianceFloor.of(decoder("gaussian"), bad))
                    .isInstanceOf(InvalidArgumentException.class).hasMessageContaining("(0, 1]");
        }
    }
}
