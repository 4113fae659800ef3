package io.vqdistill.distill.pipeline;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import io.vqdistill.api.Backend;
import io.vqdistill.api.BackendSelector;
import io.vqdistill.api.InvalidArgumentException;
import io.vqdistill.api.Tensor;
import io.vqdistill.api.model.Classifier;
import io.vqdistill.api.model.ImageShape;
import io.vqdistill.api.spi.BackendOptions;
import io.vqdistill.circuits.LeafFamilies;
import io.vqdistill.circuits.ShallowMixture;
import io.vqdistill.models.data.ImageSet;
import java.util.Map;
import java.util.Random;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * The data behind the figures: the components' log p(x, z) equal log w_z plus the Gaussian log
 * density computed by hand, and labelling classifies every image in batches, counts classes and
 * measures accuracy as counted by hand.
 */
class FigureDataTest {
    private static final Backend BACKEND = BackendSelector.discover().select("fake", BackendOptions.defaults());
    private static final ImageShape IMAGE = new ImageShape(1, 2, 3);

    private static ImageSet images(int n, long seed) {
        Random rng = new Random(seed);
        byte[] pixels = new byte[n * IMAGE.pixels()];
        rng.nextBytes(pixels);
        int[] labels = new int[n];
        for (int i = 0; i < n; i++) {
            labels[i] = i % 3;
        }
        return new ImageSet(IMAGE, pixels, labels, 3, "toy images");
    }

    @Test
    void componentJointsAreTheLogWeightPlusEachComponentsGaussianLogDensity() {
        int n = 3;
        int s = IMAGE.pixels();
        SplittableRandom r = new SplittableRandom(4);
        float[] mean = new float[n * s];
        float[] logVar = new float[n * s];
        for (int i = 0; i < mean.length; i++) {
            mean[i] = (float) r.nextDouble();
            logVar[i] = (float) (-3 + 2 * r.nextDouble());
        }
        double[] logW = {Math.log(0.2), Math.log(0.5), Math.log(0.3)};
        ImageSet set = images(5, 9);
        try (ShallowMixture m = ShallowMixture.builder(LeafFamilies.create("gaussian"))
                .parameters(Map.of("mean", BACKEND.of(mean, n, s), "log_var", BACKEND.of(logVar, n, s)))
                .logWeights(logW).build()) {
            ComponentJoints j = ComponentJoints.of(m, set, 11);
            assertThat(j.images()).isEqualTo(5);
            assertThat(j.components()).isEqualTo(3);
            float[] x = set.dequantised(new int[] {0, 1, 2, 3, 4}, new SplittableRandom(11));
            for (int i = 0; i < 5; i++) {
                for (int z = 0; z < n; z++) {
                    double expected = logW[z];
                    for (int p = 0; p < s; p++) {
                        double var = Math.exp(logVar[z * s + p]);
                        double d = x[i * s + p] - mean[z * s + p];
                        expected += -0.5 * (Math.log(2 * Math.PI) + logVar[z * s + p]) - d * d / (2 * var);
                    }
                    assertThat(j.at(i, z)).as("image %d component %d", i, z).isCloseTo(expected, within(1e-3));
                }
            }
        }
    }

    /** Classes by the mean pixel value: class c where the mean lies in [c/3, (c+1)/3). */
    private static final class MeanClassifier implements Classifier {
        @Override
        public ImageShape imageShape() {
            return IMAGE;
        }

        @Override
        public int numClasses() {
            return 3;
        }

        @Override
        public Tensor logProbs(Tensor images) {
            float[] px = images.toFloatArray();
            int b = (int) images.shape(0);
            float[] lp = new float[b * 3];
            for (int i = 0; i < b; i++) {
                double m = 0;
                for (int p = 0; p < 6; p++) {
                    m += px[i * 6 + p] / 6;
                }
                int c = Math.min(2, (int) (m * 3));
                for (int k = 0; k < 3; k++) {
                    lp[i * 3 + k] = (float) Math.log(k == c ? 0.8 : 0.1);
                }
            }
            return BACKEND.of(lp, b, 3);
        }

        @Override
        public void close() {
        }
    }

    @Test
    void labellingClassifiesEveryImageAcrossBatchesAndCountsTheClasses() {
        int n = Labelling.BATCH * 2 + 345;
        ImageSet set = images(n, 2);
        int[] predicted = Labelling.predict(BACKEND, new MeanClassifier(), set);
        long[] byHand = new long[3];
        int agree = 0;
        for (int i = 0; i < n; i++) {
            double m = 0;
            for (int p = 0; p < 6; p++) {
                m += ((set.level(i, p) + 0.5f) / 256f) / 6;
            }
            int c = Math.min(2, (int) (m * 3));
            assertThat(predicted[i]).as("image %d", i).isEqualTo(c);
            byHand[c]++;
            agree += c == set.label(i) ? 1 : 0;
        }
        assertThat(Labelling.histogram(predicted, 3)).containsExactly(byHand);
        assertThat(Labelling.accuracy(predicted, set.labels())).isCloseTo((double) agree / n, within(1e-12));
        assertThatThrownBy(() -> Labelling.histogram(new int[] {0, 3}, 3))
                .isInstanceOf(InvalidArgumentException.class).hasMessageContaining("label").hasMessageContaining("3");
    }
}
