package io.vqdistill.circuits;

import static io.vqdistill.api.TensorAssert.assertThatTensor;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.vqdistill.api.Backend;
import io.vqdistill.api.DType;
import io.vqdistill.api.InvalidArgumentException;
import io.vqdistill.api.Tensor;
import io.vqdistill.api.TensorScope;
import io.vqdistill.api.circuit.LeafFamily;
import io.vqdistill.api.fake.FakeBackend;
import io.vqdistill.circuits.leaf.CategoricalFamily;
import io.vqdistill.circuits.leaf.GaussianFamily;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The registry of leaf families, their options and their parameter checks. */
class LeafFamiliesTest {
    private final Backend backend = new FakeBackend();

    @Test
    void categoricalOneHotCodesMarkEachValueInTheDtypeAsked() {
        CategoricalFamily family = new CategoricalFamily(4);
        try (TensorScope scope = TensorScope.open()) {
            Tensor x = backend.of(new float[] {0, 3, 2, 2, 1, 0}, 2, 3);
            Tensor codes = family.oneHot(x, DType.FLOAT64);
            assertThat(codes.dtype()).isEqualTo(DType.FLOAT64);
            assertThat(codes.shape()).containsExactly(2, 3, 4);
            double[] expected = new double[24];
            float[] values = x.toFloatArray();
            for (int k = 0; k < values.length; k++) {
                expected[k * 4 + (int) values[k]] = 1;
            }
            assertThat(codes.toDoubleArray()).containsExactly(expected);
        }
    }

    @Test
    void familiesAreFoundByNameWithTheirOptions() {
        assertThat(LeafFamilies.names()).containsExactly("bernoulli", "categorical", "gaussian", "laplace");
        LeafFamily g = LeafFamilies.create("gaussian", Map.of("min_std", "0.01"));
        assertThat(((GaussianFamily) g).minStd()).isEqualTo(0.01);
        assertThat(LeafFamilies.create(g.name(), g.options()).options()).isEqualTo(g.options());
        assertThat(((CategoricalFamily) LeafFamilies.create("categorical")).categories()).isEqualTo(256);
        assertThat(LeafFamilies.create("categorical", Map.of("categories", "3")).parameters().get(0).eventShape())
                .containsExactly(3);
    }

    @Test
    void unknownNamesAndBadOptionsAreNamed() {
        assertThatThrownBy(() -> LeafFamilies.create("beta")).isInstanceOf(InvalidArgumentException.class)
                .hasMessageContaining("'beta'").hasMessageContaining("[bernoulli, categorical, gaussian, laplace]");
        assertThatThrownBy(() -> LeafFamilies.create("gaussian", Map.of("std", "1")))
                .hasMessageContaining("'std' is unknown").hasMessageContaining("max_std");
        assertThatThrownBy(() -> LeafFamilies.create("gaussian", Map.of("min_std", "-1")))
                .hasMessageContaining("min_std").hasMessageContaining("-1");
        assertThatThrownBy(() -> LeafFamilies.create("gaussian", Map.of("min_std", "0.5", "max_std", "0.1")))
                .hasMessageContaining("min_std <= max_std");
        assertThatThrownBy(() -> LeafFamilies.create("categorical", Map.of("categories", "1")))
                .hasMessageContaining("categories").hasMessageContaining(">= 2");
        assertThatThrownBy(() -> LeafFamilies.create("categorical", Map.of("categories", "many")))
                .hasMessageContaining("'many'");
        assertThatThrownBy(() -> LeafFamilies.create("bernoulli", Map.of("p", "1"))).hasMessageContaining("'p'");
    }

    @Test
    void preparingClampsNormalisesAndChecks() {
        try (TensorScope scope = TensorScope.open()) {
            GaussianFamily g = new GaussianFamily(0.1, 0.5);
            Map<String, Tensor> p = g.prepare(Map.of("mean", backend.of(new float[] {0, 1}, 2),
                    "log_var", backend.of(new float[] {-10, 3}, 2)));
            assertThatTensor(p.get("log_var")).isCloseTo(new double[] {2 * Math.log(0.1), 2 * Math.log(0.5)}, 1e-6);
            CategoricalFamily c = new CategoricalFamily(2);
            Map<String, Tensor> q = c.prepare(Map.of("logits", backend.of(new float[] {0, 0}, 1, 2)));
            assertThatTensor(q.get("logits")).isCloseTo(new double[] {Math.log(0.5), Math.log(0.5)}, 1e-6);
            assertThatThrownBy(() -> c.prepare(Map.of("logits", backend.of(new float[] {0, 0, 0}, 1, 3))))
                    .hasMessageContaining("'logits'").hasMessageContaining("[1, 3]").hasMessageContaining("[2]");
            assertThatThrownBy(() -> c.prepare(Map.of("logits", backend.zeros(DType.FLOAT64, 1, 2))))
                    .hasMessageContaining("float32").hasMessageContaining("float64");
            assertThatThrownBy(() -> c.prepare(Map.of("logits", backend.zeros(DType.FLOAT32, 2))))
                    .hasMessageContaining("[leaves...]");
            assertThatThrownBy(() -> g.prepare(Map.of("mean", backend.zeros(DType.FLOAT32, 2),
                    "log_var", backend.zeros(DType.FLOAT32, 3)))).hasMessageContaining("leading shape [3]")
                    .hasMessageContaining("'mean' has [2]");
        }
    }

    @Test
    void supportsAreChecked() {
        try (TensorScope scope = TensorScope.open()) {
            Tensor x = backend.of(new float[] {0, 1, 2, 2.5f, -1, Float.NaN, Float.POSITIVE_INFINITY}, 7);
            assertThatTensor(new CategoricalFamily(3).inSupport(x))
                    .hasBooleans(true, true, true, false, false, false, false);
            assertThatTensor(new GaussianFamily().inSupport(x)).hasBooleans(true, true, true, true, true, false, false);
            assertThatTensor(LeafFamilies.create("bernoulli").inSupport(x))
                    .hasBooleans(true, true, false, false, false, false, false);
        }
    }
}
