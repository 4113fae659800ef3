package io.vqdistill.backend.tensorflow;

import io.vqdistill.api.DType;
import io.vqdistill.models.layout.CmLayout;
import io.vqdistill.models.layout.LinearLayer;
import io.vqdistill.models.train.CmDecoder;
import io.vqdistill.models.train.CmRule;
import io.vqdistill.models.train.CmSpec;
import io.vqdistill.models.train.DecoderHead;
import java.util.ArrayList;
import java.util.List;
import org.tensorflow.Operand;
import org.tensorflow.Output;
import org.tensorflow.Result;
import org.tensorflow.Session;
import org.tensorflow.op.core.Placeholder;
import org.tensorflow.op.core.ReduceMax;
import org.tensorflow.op.core.ReduceSum;
import org.tensorflow.op.linalg.MatMul;
import org.tensorflow.proto.ConfigProto;
import org.tensorflow.types.TFloat32;
import org.tensorflow.types.TFloat64;
import org.tensorflow.types.TInt32;
import org.tensorflow.types.family.TType;

/**
 * The decoder of a continuous mixture ({@link CmSpec}) as a {@link TfGraphNet}: the points z
 * [M, d] through the layers of its {@link CmLayout} to the leaves of every pixel, and the scores
 * log p(x_b | z_m) [B, M] of a batch as one float64 matrix product (for Gaussian leaves
 * sum_i -a x^2 / 2 + a mu x - a mu^2 / 2 - log s^2 / 2 - log(2 pi) / 2 with a = 1/s^2, for
 * categorical leaves the one-hot levels against the log-probabilities), so that the expanded square
 * loses nothing at s = 1e-3. The mixture's log-likelihood is a log-sum-exp over the points minus
 * log M; the training loss is its negative mean ({@link CmRule#LSE}) or the negative mean of the
 * best point's score plus log M ({@link CmRule#TOP1}, gradient through that point only).
 *
 * <p>A convolutional decoder runs twice in the graph: in training mode for the loss, its BatchNorm
 * layers normalising by the statistics of the step's M points (a quasi-random sample of N(0, I),
 * so they estimate the statistics over the prior that the running ones average), and in inference
 * mode (running statistics) for {@link #logLikelihoods}, which validation, testing and the
 * compiled circuit use alike: each point's leaves then depend on that point alone.
 */
final class TfCmNet extends TfGraphNet {
    private final CmSpec spec;
    private final Placeholder<TFloat32> z;
    private final Placeholder<TFloat32> x;
    private final Placeholder<TInt32> levels;
    private final Operand<TFloat64> logLikelihood;

    /**
     * Builds the graph of {@code spec} and starts its session.
     *
     * @param seed   seeds the initialisation of a new run
     * @param config the session configuration of the backend
     * @param device the device to pin every operation to, e.g. {@code /device:GPU:1}, or null
     */
    TfCmNet(CmSpec spec, long seed, ConfigProto config, String device) {
        this(new CmLayout(spec), seed, config, device);
    }

    private TfCmNet(CmLayout layout, long seed, ConfigProto config, String device) {
        super(layout, () -> layout.initialValues(seed), device);
        this.spec = layout.spec();
        try {
            z = tf.placeholder(TFloat32.class);
            x = tf.placeholder(TFloat32.class);
            levels = tf.placeholder(TInt32.class);
            Operand<TFloat64> scores;
            Operand<TFloat64> trainLogLikelihood;
            if (layout.convolutional()) {
                ConvDecoder decoder = new ConvDecoder(layout);
                scores = scores(decoder.output(true));
                trainLogLikelihood = logLikelihood(scores);
                logLikelihood = logLikelihood(scores(decoder.output(false)));
            } else {
                Operand<TFloat32> h = z;
                for (LinearLayer l : layout.hidden()) {
                    h = tf.nn.relu(linear(l, h));
                }
                scores = scores(linear(layout.output(), h));
                trainLogLikelihood = logLikelihood(scores);
                logLikelihood = trainLogLikelihood;
            }
            Operand<TFloat64> logM = tf.constant(Math.log(spec.points()));
            Operand<TFloat64> loss;
            if (spec.rule() == CmRule.LSE) {
                loss = tf.math.neg(tf.math.mean(trainLogLikelihood, tf.constant(0)));
            } else {
                Operand<TFloat64> best = tf.stopGradient(tf.oneHot(tf.math.argMax(scores, tf.constant(1), TInt32.class),
                        tf.constant(spec.points()), tf.constant(1.0), tf.constant(0.0)));
                loss = tf.math.sub(logM, tf.math.mean(sum64(tf.math.mul(scores, best), 1), tf.constant(0)));
            }
            optimise(tf.dtypes.cast(loss, TFloat32.class), List.of(), config);
        } catch (RuntimeException | Error e) {
            release();
            throw e;
        }
    }

    /** The convolutional decoder's blocks. */
    private final class ConvDecoder {
        private final CmLayout layout;
        private final Norm projectionNorm;
        private final Residual residual;
        private final ConvT up;
        private final Norm upNorm;
        private final ConvT output;

        ConvDecoder(CmLayout layout) {
            this.layout = layout;
            projectionNorm = norm(layout.projectionNorm());
            residual = residual(layout.residual());
            up = convTranspose(layout.up(), 2 * layout.gridHeight(), 2 * layout.gridWidth());
            upNorm = norm(layout.upNorm());
            output = convTranspose(layout.outputConv(), spec.image().height(), spec.image().width());
        }

        /**
         * The leaf parameters [M, outputs] of the points, in the row layout of {@link CmLayout}: in
         * training mode BatchNorm normalises by the statistics of the step's M points.
         */
        Operand<TFloat32> output(boolean training) {
            int c = ((CmDecoder.Conv) spec.decoder()).channels();
            Operand<TFloat32> grid = tf.reshape(linear(layout.projection(), z),
                    tf.constant(new int[] {-1, c, layout.gridHeight(), layout.gridWidth()}));
            Operand<TFloat32> h = tf.nn.relu(apply(projectionNorm, tf.linalg.transpose(grid, tf.constant(TO_NHWC)),
                    training));
            h = tf.nn.relu(apply(residual, h, training));
            h = tf.nn.relu(apply(upNorm, apply(up, h), training));
            Operand<TFloat32> out = tf.linalg.transpose(apply(output, h), tf.constant(TO_NCHW));
            if (spec.head() == DecoderHead.GAUSSIAN) {
                return tf.reshape(out, tf.constant(new int[] {-1, spec.outputsPerPoint()}));
            }
            Operand<TFloat32> levelsLast = tf.linalg.transpose(tf.reshape(out, tf.constant(new int[] {-1,
                    spec.image().channels(), DecoderHead.LEVELS, spec.image().height(), spec.image().width()})),
                    tf.constant(new int[] {0, 1, 3, 4, 2}));
            return tf.reshape(levelsLast, tf.constant(new int[] {-1, spec.outputsPerPoint()}));
        }
    }

    /** The mixture's log-likelihood [B]: the log-sum-exp of the scores [B, M] minus log M. */
    private Operand<TFloat64> logLikelihood(Operand<TFloat64> scores) {
        Operand<TFloat64> top = tf.stopGradient(tf.reduceMax(scores, tf.constant(1), ReduceMax.keepDims(true)));
        Operand<TFloat64> lse = tf.math.add(tf.reshape(top, tf.constant(new int[] {-1})),
                tf.math.log(sum64(tf.math.exp(tf.math.sub(scores, top)), 1)));
        return tf.math.sub(lse, tf.constant(Math.log(spec.points())));
    }

    private Operand<TFloat64> sum64(Operand<TFloat64> t, int axis) {
        return tf.reduceSum(t, tf.constant(axis), ReduceSum.keepDims(false));
    }

    private Operand<TFloat64> f64(Operand<TFloat32> t) {
        return tf.dtypes.cast(t, TFloat64.class);
    }

    /** log p(x_b | z_m), float64 [B, M], from the decoder output [M, outputs]. */
    private Operand<TFloat64> scores(Operand<TFloat32> out) {
        int s = spec.variables();
        MatMul.Options transposeB = MatMul.transposeB(true);
        if (spec.head() == DecoderHead.GAUSSIAN) {
            List<Output<TFloat32>> parts = tf.split(tf.constant(1), out, 2L).output();
            Operand<TFloat64> mean = f64(tf.math.sigmoid(parts.get(0)));
            Operand<TFloat64> logVar = f64(tf.math.minimum(tf.math.maximum(parts.get(1),
                    tf.constant((float) DecoderHead.LOG_VAR_MIN)), tf.constant((float) DecoderHead.LOG_VAR_MAX)));
            Operand<TFloat64> a = tf.math.exp(tf.math.neg(logVar));
            Operand<TFloat64> px = f64(x);
            Operand<TFloat64> quadratic = tf.linalg.matMul(tf.math.square(px), tf.math.mul(tf.constant(-0.5), a),
                    transposeB);
            Operand<TFloat64> linear = tf.linalg.matMul(px, tf.math.mul(a, mean), transposeB);
            Operand<TFloat64> constant = tf.math.sub(
                    tf.math.mul(tf.constant(-0.5), sum64(tf.math.add(tf.math.mul(a, tf.math.square(mean)), logVar), 1)),
                    tf.constant(0.5 * s * Math.log(2 * Math.PI)));
            return tf.math.add(tf.math.add(quadratic, linear), tf.reshape(constant, tf.constant(new int[] {1, -1})));
        }
        int width = s * DecoderHead.LEVELS;
        Operand<TFloat32> rows = tf.reshape(out, tf.constant(new int[] {-1, DecoderHead.LEVELS}));
        Operand<TFloat64> logp = f64(tf.reshape(tf.nn.logSoftmax(rows), tf.constant(new int[] {-1, width})));
        Operand<TFloat64> oneHot = tf.reshape(tf.oneHot(levels, tf.constant(DecoderHead.LEVELS), tf.constant(1.0),
                tf.constant(0.0)), tf.constant(new int[] {-1, width}));
        return tf.linalg.matMul(oneHot, logp, transposeB);
    }

    /**
     * One Adam step with learning rate {@code lr} on B images (their pixels [B, S] for Gaussian
     * leaves, their levels for categorical ones) at the points {@code points} [M, d]; returns the
     * batch's mean loss per image.
     */
    double trainStep(float[] pixels, int[] levelValues, int b, float[] points, double lr) {
        List<TType> feeds = new ArrayList<>();
        try {
            return step(feed(pixels, levelValues, b, points, feeds), lr, feeds);
        } finally {
            feeds.forEach(TType::close);
        }
    }

    /** The mixture's log-likelihood of each of B images at the points {@code points}. */
    double[] logLikelihoods(float[] pixels, int[] levelValues, int b, float[] points) {
        List<TType> feeds = new ArrayList<>();
        try (Result result = run(feed(pixels, levelValues, b, points, feeds).fetch(logLikelihood))) {
            return (double[]) TfTypes.toArray((TType) result.get(0));
        } finally {
            feeds.forEach(TType::close);
        }
    }

    private Session.Runner feed(float[] pixels, int[] levelValues, int b, float[] points, List<TType> feeds) {
        Session.Runner r = runner();
        r.feed(z, own(feeds, TfTypes.fromArray(points, DType.FLOAT32, new long[] {spec.points(), spec.latentDim()})));
        long[] shape = {b, spec.variables()};
        if (spec.head() == DecoderHead.GAUSSIAN) {
            r.feed(x, own(feeds, TfTypes.fromArray(pixels, DType.FLOAT32, shape)));
        } else {
            r.feed(levels, own(feeds, TfTypes.fromArray(levelValues, DType.INT32, shape)));
        }
        return r;
    }
}
