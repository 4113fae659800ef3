package io.vqdistill.distill.pipeline;

import io.vqdistill.api.Backend;
import io.vqdistill.api.DType;
import io.vqdistill.api.InvalidArgumentException;
import io.vqdistill.api.Tensor;
import io.vqdistill.api.TensorScope;
import io.vqdistill.api.circuit.Circuit;
import io.vqdistill.circuits.ShallowMixture;
import io.vqdistill.distill.eval.Evaluator;
import io.vqdistill.distill.eval.PixelEncoding;
import io.vqdistill.models.data.ImageSet;
import java.util.Objects;
import java.util.SplittableRandom;

/**
 * Tractable classification with a class-tagged mixture: each image goes to the class of highest
 * p(c | x) ({@link ShallowMixture#classPosterior}), and the predictions are counted against the
 * images' labels.
 *
 * @param confusion [true class][predicted class] counts
 * @param images    images classified
 * @param seconds   wall time
 */
public record Classification(int[][] confusion, int images, double seconds) {
    /** The task {@link ProgressListener}s hear about, in images. */
    public static final String TASK = "classify";

    /** Copies. */
    public Classification {
        int[][] copy = new int[confusion.length][];
        for (int i = 0; i < confusion.length; i++) {
            copy[i] = confusion[i].clone();
        }
        confusion = copy;
    }

    @Override
    public int[][] confusion() {
        int[][] copy = new int[confusion.length][];
        for (int i = 0; i < confusion.length; i++) {
            copy[i] = confusion[i].clone();
        }
        return copy;
    }

    /** The fraction of images whose predicted class is their label. */
    public double accuracy() {
        long right = 0;
        for (int c = 0; c < confusion.length; c++) {
            right += confusion[c][c];
        }
        return (double) right / images;
    }

    /**
     * Classifies {@code images} (all their pixels observed, presented in the circuit's encoding with
     * noise from {@code seed}) into the images' {@link ImageSet#numClasses()} classes.
     *
     * @throws InvalidArgumentException when the circuit is not a shallow mixture with a class for every
     *                                  component
     */
    public static Classification run(Backend backend, Circuit circuit, ImageSet images, long seed,
                                     ProgressListener progress) {
        Objects.requireNonNull(backend, "backend");
        Objects.requireNonNull(images, "images");
        if (!(circuit instanceof ShallowMixture mixture)) {
            throw new InvalidArgumentException("classification needs a shallow mixture whose components carry classes;"
                    + " this circuit is " + circuit);
        }
        long t0 = System.nanoTime();
        int classes = images.numClasses();
        int s = images.shape().pixels();
        int n = images.size();
        PixelEncoding encoding = PixelEncoding.forLeafFamily(circuit.leafFamily().name());
        SplittableRandom rng = new SplittableRandom(seed);
        int[][] confusion = new int[classes][classes];
        ProgressListener.track(progress, TASK, n, "images", done -> {
            for (int from = 0; from < n; from += Evaluator.DEFAULT_BATCH) {
                int len = Math.min(Evaluator.DEFAULT_BATCH, n - from);
                int[] idx = new int[len];
                for (int i = 0; i < len; i++) {
                    idx[i] = from + i;
                }
                long[] predicted;
                try (TensorScope scope = TensorScope.open()) {
                    Tensor x = backend.of(encoding.values(images, idx, rng), len, s);
                    Tensor all = backend.full(DType.BOOL, 1, len, s);
                    predicted = mixture.classPosterior(x, all, classes).argMax(1).toLongArray();
                }
                for (int i = 0; i < len; i++) {
                    confusion[images.label(idx[i])][(int) predicted[i]]++;
                }
                done.accept(from + len);
            }
            return null;
        });
        return new Classification(confusion, n, (System.nanoTime() - t0) / 1e9);
    }
}
