package io.vqdistill.backend.djl.nn;

import static org.assertj.core.api.Assertions.assertThat;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import io.vqdistill.api.model.LatentShape;
import io.vqdistill.models.layout.PixelCnnLayout;
import io.vqdistill.models.train.PriorSpec;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class PixelCnnNetTest {

    /** Changing the code at one position changes the distributions after it and none before or at it. */
    @Test
    void eachPositionSeesOnlyThePositionsBeforeIt() {
        PriorSpec spec = new PriorSpec(new LatentShape(4, 4, 6), 3, 3, 8, 16, 7, 3);
        int n = spec.latent().positions();
        PixelCnnLayout layout = new PixelCnnLayout(spec);
        try (NDManager root = Engine.getEngine(Networks.ENGINE).newBaseManager();
                Params p = Params.initial(root, layout, layout.initialValues(5, new float[] {-1.1f, -1.1f, -1.1f}))) {
            PixelCnnNet net = new PixelCnnNet(p, p.manager().newSubManager(), layout);
            SplittableRandom r = new SplittableRandom(9);
            long[] base = new long[n];
            for (int i = 0; i < n; i++) {
                base[i] = r.nextInt(6);
            }
            NDArray classes = root.create(new long[] {2});
            float[] ref = net.logProbs(root.create(base, new Shape(1, n)), classes).toFloatArray();
            for (int t = 0; t < n; t++) {
                long[] changed = base.clone();
                changed[t] = (changed[t] + 1) % 6;
                float[] out = net.logProbs(root.create(changed, new Shape(1, n)), classes).toFloatArray();
                boolean laterChanged = false;
                for (int pos = 0; pos < n; pos++) {
                    for (int c = 0; c < 6; c++) {
                        float a = ref[c * n + pos];
                        float b = out[c * n + pos];
                        if (pos <= t) {
                            assertThat(b).as("position %d after changing %d", pos, t).isEqualTo(a);
                        } else if (Math.abs(a - b) > 1e-6) {
                            laterChanged = true;
                        }
                    }
                }
                if (t < n - 1) {
                    assertThat(laterChanged).as("some position after %d depends on it", t).isTrue();
                }
            }
        }
    }

    @Test
    void everyPositionDependsOnEveryEarlierOne() {
        PriorSpec spec = new PriorSpec(new LatentShape(4, 4, 5), 2, 4, 8, 16, 7, 3);
        int n = spec.latent().positions();
        PixelCnnLayout layout = new PixelCnnLayout(spec);
        try (NDManager root = Engine.getEngine(Networks.ENGINE).newBaseManager();
                Params p = Params.initial(root, layout, layout.initialValues(6, new float[] {-0.7f, -0.7f}))) {
            PixelCnnNet net = new PixelCnnNet(p, p.manager().newSubManager(), layout);
            NDArray classes = root.create(new long[] {0});
            long[] base = new long[n];
            float[] ref = net.logProbs(root.create(base, new Shape(1, n)), classes).toFloatArray();
            int last = n - 1;
            for (int t = 0; t < last; t++) {
                long[] changed = base.clone();
                changed[t] = 3;
                float[] out = net.logProbs(root.create(changed, new Shape(1, n)), classes).toFloatArray();
                double diff = 0;
                for (int c = 0; c < 5; c++) {
                    diff += Math.abs(out[c * n + last] - ref[c * n + last]);
                }
                assertThat(diff).as("last position sees position %d", t).isGreaterThan(0);
            }
        }
    }

    @Test
    void theClassChangesEveryPosition() {
        PriorSpec spec = new PriorSpec(new LatentShape(2, 2, 4), 2, 2, 8, 16, 7, 3);
        PixelCnnLayout layout = new PixelCnnLayout(spec);
        try (NDManager root = Engine.getEngine(Networks.ENGINE).newBaseManager();
                Params p = Params.initial(root, layout, layout.initialValues(7, new float[] {-0.7f, -0.7f}))) {
            PixelCnnNet net = new PixelCnnNet(p, p.manager().newSubManager(), layout);
            NDArray codes = root.create(new long[] {1, 2, 3, 0}, new Shape(1, 4));
            float[] a = net.logProbs(codes, root.create(new long[] {0})).toFloatArray();
            float[] b = net.logProbs(codes, root.create(new long[] {1})).toFloatArray();
            for (int pos = 0; pos < 4; pos++) {
                assertThat(a[pos]).isNotEqualTo(b[pos]);
            }
        }
    }
}
