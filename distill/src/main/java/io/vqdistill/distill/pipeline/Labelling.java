package io.vqdistill.distill.pipeline;

import io.vqdistill.api.Backend;
import io.vqdistill.api.InvalidArgumentException;
import io.vqdistill.api.TensorScope;
import io.vqdistill.api.model.Classifier;
import io.vqdistill.api.model.ImageShape;
import io.vqdistill.distill.eval.PixelEncoding;
import io.vqdistill.models.data.ImageSet;
import java.util.Objects;

/**
 * Labels images with an image classifier: the samples of a model or a data set's images, each given
 * the class of highest probability, and the class histogram of those labels (the paper's Figure 5).
 * Images reach the classifier as pixel values in [0, 1]: a data set's level p as (p + 0.5)/256, a
 * sample in the dequantised encoding as it is (clamped), a sample in levels as (v + 0.5)/256.
 */
public final class Labelling {
    /** Images classified per call. */
    public static final int BATCH = 1000;

    private Labelling() {
    }

    /**
     * The predicted class of each of {@code n} images {@code pixels} (NCHW, values in [0, 1]).
     *
     * @throws InvalidArgumentException when {@code pixels} does not hold {@code n} images of the
     *                                  classifier's shape
     */
    public static int[] predict(Backend backend, Classifier classifier, float[] pixels, int n) {
        Objects.requireNonNull(backend, "backend");
        Objects.requireNonNull(classifier, "classifier");
        ImageShape shape = classifier.imageShape();
        int s = shape.pixels();
        if (n < 0 || pixels.length != (long) n * s) {
            throw new InvalidArgumentException(pixels.length + " pixel values are not " + n + " images of "
                    + shape.channels() + "x" + shape.height() + "x" + shape.width());
        }
        int classes = classifier.numClasses();
        int[] labels = new int[n];
        for (int from = 0; from < n; from += BATCH) {
            int b = Math.min(BATCH, n - from);
            float[] part = new float[b * s];
            System.arraycopy(pixels, from * s, part, 0, b * s);
            float[] lp;
            try (TensorScope scope = TensorScope.open()) {
                lp = classifier.logProbs(backend.of(part, b, shape.channels(), shape.height(), shape.width()))
                        .toFloatArray();
            }
            for (int i = 0; i < b; i++) {
                int best = 0;
                for (int c = 1; c < classes; c++) {
                    if (lp[i * classes + c] > lp[i * classes + best]) {
                        best = c;
                    }
                }
                labels[from + i] = best;
            }
        }
        return labels;
    }

    /** The predicted class of every image of {@code images}. */
    public static int[] predict(Backend backend, Classifier classifier, ImageSet images) {
        int n = images.size();
        int[] idx = new int[n];
        for (int i = 0; i < n; i++) {
            idx[i] = i;
        }
        int[] levels = images.levels(idx);
        float[] pixels = new float[levels.length];
        for (int i = 0; i < levels.length; i++) {
            pixels[i] = (levels[i] + 0.5f) / 256f;
        }
        return predict(backend, classifier, pixels, n);
    }

    /** The predicted class of every sample of {@code samples}. */
    public static int[] predict(Backend backend, Classifier classifier, Sampling samples) {
        float[] values = samples.values();
        float[] pixels = new float[values.length];
        for (int i = 0; i < values.length; i++) {
            float v = samples.encoding() == PixelEncoding.LEVELS ? (values[i] + 0.5f) / 256f : values[i];
            pixels[i] = Math.min(1f, Math.max(0f, v));
        }
        return predict(backend, classifier, pixels, samples.count());
    }

    /**
     * How many of {@code labels} fall in each of {@code classes} classes.
     *
     * @throws InvalidArgumentException for a label outside [0, classes)
     */
    public static long[] histogram(int[] labels, int classes) {
        long[] counts = new long[classes];
        for (int l : labels) {
            if (l < 0 || l >= classes) {
                throw InvalidArgumentException.of("label", l, "in [0, " + classes + ")");
            }
            counts[l]++;
        }
        return counts;
    }

    /** The fraction of {@code predicted} equal to {@code truth}. */
    public static double accuracy(int[] predicted, int[] truth) {
        if (predicted.length != truth.length || predicted.length == 0) {
            throw new InvalidArgumentException("accuracy needs equally many predictions and labels, at least one;"
                    + " found " + predicted.length + " and " + truth.length);
        }
        long right = 0;
        for (int i = 0; i < predicted.length; i++) {
            if (predicted[i] == truth[i]) {
                right++;
            }
        }
        return (double) right / predicted.length;
    }
}
