package io.vqdistill.models.train;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.vqdistill.api.Backend;
import io.vqdistill.api.InvalidArgumentException;
import io.vqdistill.models.checkpoint.Checkpoint;
import io.vqdistill.models.checkpoint.Provenance;
import io.vqdistill.models.data.DataSplit;
import io.vqdistill.models.data.ImageSet;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * The engine-independent part of training the image classifier of a {@link ClassifierSpec} on a
 * {@link DataSplit}: what a run is (its key, checkpoint and data description) and how validation
 * and test sets are measured (mean cross-entropy and accuracy, in batches of {@value #EVAL_BATCH}
 * images with fixed dequantisation noise). An engine supplies the network through
 * {@link #engine()}, {@link #trainStep} and {@link #logProbs}.
 */
public abstract class ClassifierRunner extends EpochRunner {
    /** Images per evaluation batch. */
    public static final int EVAL_BATCH = 500;

    /** The architecture. */
    protected final ClassifierSpec spec;
    /** The images. */
    protected final DataSplit data;

    /**
     * A run of {@code spec} on {@code data}; the images must have the spec's shape and classes.
     *
     * @see EpochRunner#EpochRunner
     */
    protected ClassifierRunner(ClassifierSpec spec, TrainingSpec training, DataSplit data, Backend backend, Path dir,
            TrainingListener listener) {
        super(Checkpoint.KIND_CLASSIFIER, backend, training, dir, listener);
        if (!data.train().shape().equals(spec.image())) {
            throw new InvalidArgumentException("the data's images are " + data.train().shape() + ", the spec expects "
                    + spec.image());
        }
        if (data.train().numClasses() != spec.numClasses()) {
            throw new InvalidArgumentException("the classifier has " + spec.numClasses() + " classes, the data "
                    + data.train().numClasses());
        }
        this.spec = spec;
        this.data = data;
    }

    /**
     * Log-probabilities of the classes of {@code n} images {@code pixels} (NCHW, in [0, 1)) in
     * inference mode.
     *
     * @return n * classes values, image after image
     */
    protected abstract float[] logProbs(float[] pixels, int n);

    /** The labels of the training images {@code indices}. */
    protected final long[] trainLabels(int[] indices) {
        int[] l = data.train().labels(indices);
        long[] out = new long[l.length];
        for (int i = 0; i < l.length; i++) {
            out[i] = l[i];
        }
        return out;
    }

    @Override
    protected int trainSize() {
        return data.train().size();
    }

    @Override
    protected Map<String, Double> validate() {
        double[] e = evaluate(data.validation(), VqVaeRunner.VALIDATION_NOISE);
        Map<String, Double> m = new LinkedHashMap<>();
        m.put(VAL_LOSS, e[0]);
        m.put("val_accuracy", e[1]);
        return m;
    }

    @Override
    protected Map<String, Double> test() {
        double[] e = evaluate(data.test(), VqVaeRunner.TEST_NOISE);
        Map<String, Double> m = new LinkedHashMap<>();
        m.put("test_loss", e[0]);
        m.put("test_accuracy", e[1]);
        return m;
    }

    /** The mean cross-entropy (nats) and the accuracy of the argmax on {@code set}. */
    private double[] evaluate(ImageSet set, long seed) {
        SplittableRandom noise = new SplittableRandom(seed);
        int classes = spec.numClasses();
        double loss = 0;
        long correct = 0;
        for (int from = 0; from < set.size(); from += EVAL_BATCH) {
            int[] idx = new int[Math.min(EVAL_BATCH, set.size() - from)];
            for (int i = 0; i < idx.length; i++) {
                idx[i] = from + i;
            }
            float[] lp = logProbs(set.dequantised(idx, noise), idx.length);
            for (int i = 0; i < idx.length; i++) {
                int label = set.label(idx[i]);
                loss -= lp[i * classes + label];
                int best = 0;
                for (int c = 1; c < classes; c++) {
                    if (lp[i * classes + c] > lp[i * classes + best]) {
                        best = c;
                    }
                }
                if (best == label) {
                    correct++;
                }
            }
        }
        return new double[] {loss / set.size(), (double) correct / set.size()};
    }

    @Override
    protected Checkpoint describe(Provenance provenance, Map<String, Double> metrics) {
        return new Checkpoint(Checkpoint.KIND_CLASSIFIER, spec.toJson(), provenance, metrics);
    }

    @Override
    protected ObjectNode runKey() {
        return runKey(spec.toJson(), data);
    }

    @Override
    protected String dataDescription() {
        return data.description();
    }
}
