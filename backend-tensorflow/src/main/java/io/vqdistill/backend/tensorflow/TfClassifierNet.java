package io.vqdistill.backend.tensorflow;

import io.vqdistill.api.DType;
import io.vqdistill.models.layout.ClassifierLayout;
import io.vqdistill.models.layout.ConvLayer;
import io.vqdistill.models.train.ClassifierSpec;
import java.util.ArrayList;
import java.util.List;
import org.tensorflow.Operand;
import org.tensorflow.Result;
import org.tensorflow.Session;
import org.tensorflow.op.core.Placeholder;
import org.tensorflow.proto.ConfigProto;
import org.tensorflow.types.TFloat32;
import org.tensorflow.types.TInt64;
import org.tensorflow.types.family.TType;

/**
 * The image classifier of a {@link ClassifierSpec} as a {@link TfGraphNet}: NHWC inside, the
 * features flattened in PyTorch's NCHW order, so its tensors are those of the spec's
 * {@link ClassifierLayout}. No BatchNorm: one graph serves training and evaluation.
 */
final class TfClassifierNet extends TfGraphNet {
    private final ClassifierSpec spec;
    private final List<Conv> features = new ArrayList<>();
    private final Placeholder<TFloat32> x;
    private final Placeholder<TInt64> labels;
    private final Operand<TFloat32> logProbs;

    /**
     * Builds the graph of {@code spec} and starts its session.
     *
     * @param seed   seeds the initialisation of a new run
     * @param config the session configuration of the backend
     * @param device the device to pin every operation to, or null
     */
    TfClassifierNet(ClassifierSpec spec, long seed, ConfigProto config, String device) {
        this(new ClassifierLayout(spec), seed, config, device);
    }

    private TfClassifierNet(ClassifierLayout layout, long seed, ConfigProto config, String device) {
        super(layout, () -> layout.initialValues(seed), device);
        this.spec = layout.spec();
        try {
            for (ConvLayer c : layout.features()) {
                features.add(conv(c));
            }
            x = tf.placeholder(TFloat32.class);
            labels = tf.placeholder(TInt64.class);
            Operand<TFloat32> h = tf.linalg.transpose(x, tf.constant(TO_NHWC));
            for (Conv c : features) {
                h = tf.nn.relu(apply(c, h));
            }
            Operand<TFloat32> flat = tf.reshape(tf.linalg.transpose(h, tf.constant(TO_NCHW)),
                    tf.constant(new int[] {-1, spec.flattenedFeatures()}));
            Operand<TFloat32> hidden = tf.nn.relu(linear(layout.hidden(), flat));
            logProbs = logSoftmax(linear(layout.output(), hidden), -1, spec.numClasses());
            Operand<TFloat32> picked = tf.math.mul(logProbs, tf.oneHot(labels, tf.constant(spec.numClasses()),
                    tf.constant(1f), tf.constant(0f)));
            optimise(tf.math.neg(tf.math.mean(sum(picked, 1), tf.constant(0))), List.of(), config);
        } catch (RuntimeException | Error e) {
            release();
            throw e;
        }
    }

    /** One Adam step on {@code n} images (NCHW) and their labels; returns the mean cross-entropy. */
    double trainStep(float[] pixels, long[] imageLabels, int n, double lr) {
        List<TType> feeds = new ArrayList<>();
        try {
            return step(feedImages(pixels, n, feeds).feed(labels, own(feeds, TfTypes.longs(imageLabels))), lr,
                    feeds);
        } finally {
            feeds.forEach(TType::close);
        }
    }

    /** Log-probabilities of the classes of {@code n} images (NCHW), image after image. */
    float[] logProbs(float[] pixels, int n) {
        List<TType> feeds = new ArrayList<>();
        try (Result result = run(feedImages(pixels, n, feeds).fetch(logProbs))) {
            return (float[]) TfTypes.toArray((TType) result.get(0));
        } finally {
            feeds.forEach(TType::close);
        }
    }

    private Session.Runner feedImages(float[] pixels, int n, List<TType> feeds) {
        long[] shape = {n, spec.image().channels(), spec.image().height(), spec.image().width()};
        return runner().feed(x, own(feeds, TfTypes.fromArray(pixels, DType.FLOAT32, shape)));
    }
}
