package io.vqdistill.backend.djl.nn;

import static org.assertj.core.api.Assertions.assertThat;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDManager;
import io.vqdistill.api.DType;
import io.vqdistill.api.model.ImageShape;
import io.vqdistill.api.model.LatentShape;
import io.vqdistill.formats.SafeTensors;
import io.vqdistill.models.layout.NetworkLayout;
import io.vqdistill.models.layout.Parameter;
import io.vqdistill.models.layout.PixelCnnLayout;
import io.vqdistill.models.layout.VqVaeLayout;
import io.vqdistill.models.train.DecoderHead;
import io.vqdistill.models.train.PriorSpec;
import io.vqdistill.models.train.TrainingSpec;
import io.vqdistill.models.train.VqVaeSpec;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class DjlRunTest {

    /** The parameters are the layout's tensors, in its order, starting from its initial values. */
    private static void assertStartsFromTheLayout(NDManager root, NetworkLayout layout, Map<String, float[]> initial,
            java.util.function.Consumer<Params> build) {
        DjlRun run = new DjlRun(root, new TrainingSpec(1e-3, 4, 1, 1, 0), layout, () -> initial, build);
        try {
            run.start(null, 0);
            List<SafeTensors.Entry> weights = run.weights();
            List<Parameter> params = layout.parameters();
            assertThat(weights).extracting(SafeTensors.Entry::name)
                    .containsExactlyElementsOf(params.stream().map(Parameter::name).toList());
            for (int i = 0; i < params.size(); i++) {
                Parameter p = params.get(i);
                SafeTensors.Entry e = weights.get(i);
                assertThat(e.shape()).as(p.name()).containsExactly(p.shape());
                if (p.role() == Parameter.Role.COUNTER) {
                    assertThat(e.dtype()).isEqualTo(DType.INT64);
                    assertThat(e.buffer().getLong(0)).isZero();
                } else {
                    assertThat(e.toFloats()).as(p.name()).containsExactly(initial.get(p.name()));
                }
            }
            assertThat(run.optimiserState()).hasSize(2 * layout.trainable().size());
        } finally {
            run.release();
        }
    }

    @Test
    void aNewRunStartsFromTheLayoutsInitialValues() {
        try (NDManager root = Engine.getEngine(Networks.ENGINE).newBaseManager()) {
            VqVaeSpec vq = new VqVaeSpec(ImageShape.MNIST, new LatentShape(2, 2, 8), 4, List.of(3, 4, 4, 4), 1,
                    DecoderHead.CATEGORICAL, 10);
            VqVaeLayout vqLayout = new VqVaeLayout(vq);
            assertStartsFromTheLayout(root, vqLayout, vqLayout.initialValues(11), p -> new VqVaeNet(p, vqLayout));

            PriorSpec prior = new PriorSpec(vq.latent(), 3, 2, 8, 16, 5, 3);
            PixelCnnLayout priorLayout = new PixelCnnLayout(prior);
            float[] classes = {-1f, -1.5f, -0.8f};
            assertStartsFromTheLayout(root, priorLayout, priorLayout.initialValues(12, classes),
                    p -> new PixelCnnNet(p, p.manager().newSubManager(), priorLayout));
        }
    }
}
