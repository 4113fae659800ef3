package io.vqdistill.models.layout;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.vqdistill.api.InvalidArgumentException;
import io.vqdistill.api.model.ImageShape;
import io.vqdistill.api.model.LatentShape;
import io.vqdistill.models.train.DecoderHead;
import io.vqdistill.models.train.PriorSpec;
import io.vqdistill.models.train.VqVaeSpec;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class NetworkLayoutTest {
    /** 28 -> 14 -> 7: two stages, K = 8, D = 4, one residual block. */
    private static VqVaeSpec vq(DecoderHead head) {
        return new VqVaeSpec(ImageShape.MNIST, new LatentShape(7, 7, 8), 4, List.of(3, 5), 1, head, 10);
    }

    private static final PriorSpec PRIOR = new PriorSpec(new LatentShape(4, 4, 8), 3, 2, 8, 16, 7, 3);

    private static List<String> names(NetworkLayout l) {
        return l.parameters().stream().map(p -> p.name() + List.of(box(p.shape()))).toList();
    }

    private static Long[] box(long[] a) {
        Long[] out = new Long[a.length];
        for (int i = 0; i < a.length; i++) {
            out[i] = a[i];
        }
        return out;
    }

    private static List<String> norm(String n, int c) {
        return List.of(n + ".weight[" + c + "]", n + ".bias[" + c + "]", n + ".running_mean[" + c + "]",
                n + ".running_var[" + c + "]", n + ".num_batches_tracked[]");
    }

    @Test
    void theVqVaesTensorsAreThoseOfPyTorchsStateDictInItsOrder() {
        List<String> expected = new java.util.ArrayList<>();
        expected.addAll(List.of("encoder.down.0.conv.weight[3, 1, 4, 4]", "encoder.down.0.conv.bias[3]"));
        expected.addAll(norm("encoder.down.0.bn", 3));
        expected.addAll(List.of("encoder.down.1.conv.weight[5, 3, 4, 4]", "encoder.down.1.conv.bias[5]"));
        expected.addAll(norm("encoder.down.1.bn", 5));
        expected.addAll(List.of("encoder.res.0.conv1.weight[5, 5, 3, 3]", "encoder.res.0.conv1.bias[5]"));
        expected.addAll(norm("encoder.res.0.bn1", 5));
        expected.addAll(List.of("encoder.res.0.conv2.weight[5, 5, 1, 1]", "encoder.res.0.conv2.bias[5]"));
        expected.addAll(norm("encoder.res.0.bn2", 5));
        expected.addAll(List.of("encoder.proj.weight[4, 5, 1, 1]", "encoder.proj.bias[4]", "codebook.weight[8, 4]",
                "decoder.proj.weight[5, 4, 3, 3]", "decoder.proj.bias[5]"));
        expected.addAll(List.of("decoder.res.0.conv1.weight[5, 5, 3, 3]", "decoder.res.0.conv1.bias[5]"));
        expected.addAll(norm("decoder.res.0.bn1", 5));
        expected.addAll(List.of("decoder.res.0.conv2.weight[5, 5, 1, 1]", "decoder.res.0.conv2.bias[5]"));
        expected.addAll(norm("decoder.res.0.bn2", 5));
        expected.addAll(List.of("decoder.up.0.conv.weight[5, 3, 4, 4]", "decoder.up.0.conv.bias[3]"));
        expected.addAll(norm("decoder.up.0.bn", 3));
        List<String> gaussian = new java.util.ArrayList<>(expected);
        gaussian.addAll(List.of("decoder.up.1.conv.weight[3, 2, 4, 4]", "decoder.up.1.conv.bias[2]"));
        assertThat(names(new VqVaeLayout(vq(DecoderHead.GAUSSIAN)))).containsExactlyElementsOf(gaussian);

        List<String> categorical = new java.util.ArrayList<>(expected);
        categorical.addAll(List.of("decoder.up.1.conv.weight[3, 3, 4, 4]", "decoder.up.1.conv.bias[3]"));
        categorical.addAll(norm("decoder.up.1.bn", 3));
        categorical.addAll(List.of("decoder.head.weight[256, 3, 1, 1]", "decoder.head.bias[256]"));
        assertThat(names(new VqVaeLayout(vq(DecoderHead.CATEGORICAL)))).containsExactlyElementsOf(categorical);
    }

    @Test
    void thePixelCnnsTensorsAreThoseOfPyTorchsStateDictInItsOrder() {
        List<String> expected = new java.util.ArrayList<>(List.of("embedding.weight[8, 8]"));
        for (int l = 0; l < 2; l++) {
            int k = l == 0 ? 7 : 3;
            int p = k / 2 + 1;
            String n = "layers." + l;
            expected.addAll(List.of(n + ".class_embedding.weight[3, 16]",
                    n + ".vert.weight[16, 8, " + p + ", " + k + "]", n + ".vert.bias[16]",
                    n + ".vert_to_horiz.weight[16, 16, 1, 1]", n + ".vert_to_horiz.bias[16]",
                    n + ".horiz.weight[16, 8, 1, " + p + "]", n + ".horiz.bias[16]",
                    n + ".horiz_resid.weight[8, 8, 1, 1]", n + ".horiz_resid.bias[8]"));
        }
        expected.addAll(List.of("head.0.weight[16, 8, 1, 1]", "head.0.bias[16]", "head.2.weight[8, 16, 1, 1]",
                "head.2.bias[8]", "class_log_prior[3]"));
        PixelCnnLayout layout = new PixelCnnLayout(PRIOR);
        assertThat(names(layout)).containsExactlyElementsOf(expected);
        assertThat(layout.layers().get(0).vertical().mask()).containsExactly(
                1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0);
        assertThat(layout.layers().get(0).horizontal().mask()).containsExactly(1, 1, 1, 0);
        assertThat(layout.layers().get(1).vertical().mask()).isNull();
        assertThat(layout.layers().get(1).residual()).isTrue();
    }

    @Test
    void initialisersAreThoseOfPyTorchsModules() {
        VqVaeLayout l = new VqVaeLayout(vq(DecoderHead.CATEGORICAL));
        ConvLayer c = l.down().get(1).conv();
        assertThat(c.weight().init()).isEqualTo(Initialiser.uniform(1 / Math.sqrt(3 * 16)));
        assertThat(c.bias().init()).isEqualTo(c.weight().init());
        assertThat(l.up().get(0).conv().weight().init()).isEqualTo(Initialiser.uniform(1 / Math.sqrt(3 * 16)));
        assertThat(l.codebook().init()).isEqualTo(Initialiser.uniform(1.0 / 8));
        assertThat(l.down().get(0).norm().weight().init()).isEqualTo(Initialiser.constant(1));
        assertThat(l.down().get(0).norm().runningVar().role()).isEqualTo(Parameter.Role.BUFFER);
        assertThat(l.down().get(0).norm().batchesSeen().role()).isEqualTo(Parameter.Role.COUNTER);
        assertThat(l.up().get(1).outputSide()).isEqualTo(28);
        assertThat(l.up().get(1).conv().outputSide(14)).isEqualTo(28);
        assertThat(l.trainable()).allMatch(Parameter::trainable).hasSize(39);
    }

    /**
     * The initial draws are pinned: every engine starts a run from them, and a change would make
     * runs of the same seed differ from those of earlier versions.
     */
    @Test
    void theInitialValuesOfASeedNeverChange() throws Exception {
        Map<String, float[]> v = new VqVaeLayout(vq(DecoderHead.GAUSSIAN)).initialValues(42);
        assertThat(v).doesNotContainKey("encoder.down.0.bn.num_batches_tracked");
        assertThat(v.get("encoder.down.0.bn.running_var")).containsOnly(1f);
        // the first draw of the generator, scaled to the first tensor's bound 1/sqrt(1 * 4 * 4)
        assertThat(v.get("encoder.down.0.conv.weight")[0])
                .isEqualTo((float) ((2 * new SplittableRandom(42).nextDouble() - 1) * 0.25));
        assertThat(digest(v)).isEqualTo("70dc9d783dce234e86dfa234dd6ee8a748379a5dfd205e8e0fba8d5ec4e884f8");
        assertThat(digest(new VqVaeLayout(vq(DecoderHead.GAUSSIAN)).initialValues(42))).isEqualTo(digest(v));
        float[] prior = {-1.1f, -1.2f, -0.9f};
        Map<String, float[]> p = new PixelCnnLayout(PRIOR).initialValues(7, prior);
        assertThat(p.get("class_log_prior")).containsExactly(prior);
        assertThat(digest(p)).isEqualTo("7dbfadfde304a9a241b2aca9d1feccc4b4464f7567b45889b5d6ff366f619cb9");
    }

    @Test
    void theClassPriorMustBeGivenWithOneValuePerClass() {
        PixelCnnLayout l = new PixelCnnLayout(PRIOR);
        assertThatThrownBy(() -> l.initialValues(1, new float[] {0, 0})).isInstanceOf(InvalidArgumentException.class)
                .hasMessageContaining("class_log_prior").hasMessageContaining("2 values")
                .hasMessageContaining("3 values");
    }

    private static String digest(Map<String, float[]> values) throws Exception {
        MessageDigest md = MessageDigest.getInstance("SHA-256");
        values.forEach((name, v) -> {
            md.update(name.getBytes(StandardCharsets.UTF_8));
            ByteBuffer b = ByteBuffer.allocate(4 * v.length);
            b.asFloatBuffer().put(v);
            md.update(b.array());
        });
        return HexFormat.of().formatHex(md.digest());
    }
}
