package io.vqdistill.models.data;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.vqdistill.api.InvalidArgumentException;
import io.vqdistill.api.model.ImageShape;
import java.util.Arrays;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class ImageSetTest {
    private static final ImageShape SHAPE = new ImageShape(1, 2, 2);

    private static ImageSet set() {
        byte[] px = {0, 1, (byte) 128, (byte) 255, 10, 20, 30, 40, 5, 5, 5, 5};
        return new ImageSet(SHAPE, px, new int[] {0, 1, 1}, 2, "tiny");
    }

    @Test
    void dequantisesIntoTheLevelsBinWithSeededNoise() {
        ImageSet s = set();
        float[] a = s.dequantised(new int[] {0, 2}, new SplittableRandom(5));
        float[] b = s.dequantised(new int[] {0, 2}, new SplittableRandom(5));
        assertThat(a).hasSize(8).isEqualTo(b);
        int[] levels = s.levels(new int[] {0, 2});
        for (int i = 0; i < a.length; i++) {
            assertThat(a[i]).isGreaterThanOrEqualTo(levels[i] / 256f).isLessThan((levels[i] + 1) / 256f);
        }
        assertThat(s.dequantised(new int[] {0}, new SplittableRandom(6))).isNotEqualTo(Arrays.copyOf(a, 4));
    }

    @Test
    void levelsAreUnsigned() {
        assertThat(set().levels(new int[] {0})).containsExactly(0, 1, 128, 255);
    }

    @Test
    void subsetsAndRangesCopyImagesAndLabels() {
        ImageSet s = set();
        ImageSet r = s.range(1, 3);
        assertThat(r.size()).isEqualTo(2);
        assertThat(r.level(0, 3)).isEqualTo(40);
        assertThat(r.labels()).containsExactly(1, 1);
        ImageSet sub = s.subset(new int[] {2, 0}, "picked");
        assertThat(sub.level(1, 2)).isEqualTo(128);
        assertThat(sub.classCounts()).containsExactly(1, 1);
    }

    @Test
    void inconsistentArgumentsAreErrors() {
        assertThatThrownBy(() -> new ImageSet(SHAPE, new byte[7], new int[] {0, 0}, 2, "bad"))
                .isInstanceOf(InvalidArgumentException.class).hasMessageContaining("7 pixel bytes do not hold 2 images of 4 pixels");
        assertThatThrownBy(() -> new ImageSet(SHAPE, new byte[4], new int[] {3}, 2, "bad"))
                .isInstanceOf(InvalidArgumentException.class).hasMessageContaining("label of image 0 is 3");
        assertThatThrownBy(() -> set().levels(new int[] {3})).hasMessageContaining("image 3 outside [0, 3)");
    }
}
