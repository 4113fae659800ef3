package io.vqdistill.backend.tensorflow;

import io.vqdistill.api.DType;
import io.vqdistill.models.layout.ConvTransposeLayer;
import io.vqdistill.models.layout.ResidualLayer;
import io.vqdistill.models.layout.VqVaeLayout;
import io.vqdistill.models.train.DecoderHead;
import io.vqdistill.models.train.VqVaeRunner;
import io.vqdistill.models.train.VqVaeSpec;
import java.util.ArrayList;
import java.util.List;
import org.tensorflow.Operand;
import org.tensorflow.Output;
import org.tensorflow.Result;
import org.tensorflow.Session;
import org.tensorflow.op.core.Placeholder;
import org.tensorflow.op.core.ReduceSum;
import org.tensorflow.op.linalg.MatMul;
import org.tensorflow.proto.ConfigProto;
import org.tensorflow.types.TFloat32;
import org.tensorflow.types.TInt32;
import org.tensorflow.types.TInt64;
import org.tensorflow.types.family.TType;

/**
 * The VQ-VAE of a {@link VqVaeSpec} as a {@link TfGraphNet}: the network in training mode
 * (BatchNorm on batch statistics, running statistics updated with PyTorch's momentum 0.1 and the
 * unbiased batch variance) with its Adam updates, and the network in inference mode (running
 * statistics) for evaluation. NHWC inside, which TensorFlow's CPU convolutions want; padding is a
 * {@code Pad} (or, for transposed convolutions, a crop) around {@code VALID} convolutions, since
 * the C++ gradients of TF 2.18 drop the {@code EXPLICIT} padding attribute. Its tensors are those
 * of the spec's {@link VqVaeLayout}.
 */
final class TfVqVaeNet extends TfGraphNet {

    /** The outputs of one forward pass. */
    private record Forward(Operand<TFloat32> nll, Operand<TFloat32> codebookLoss, Operand<TFloat32> commitmentLoss,
            Operand<TInt64> codes, Operand<TFloat32> encoded) {
    }

    private final VqVaeSpec spec;

    private final List<Conv> down = new ArrayList<>();
    private final List<Norm> downNorm = new ArrayList<>();
    private final List<Residual> encoderRes = new ArrayList<>();
    private final Conv encoderProj;
    private final Slot codebook;
    private final Conv decoderProj;
    private final List<Residual> decoderRes = new ArrayList<>();
    private final List<ConvT> up = new ArrayList<>();
    private final List<Norm> upNorm = new ArrayList<>();
    private final Conv head;

    private final Placeholder<TFloat32> x;
    private final Placeholder<TInt32> levels;
    private final Forward train;
    private final Forward eval;
    private final Operand<TFloat32> evalNllSum;

    /**
     * Builds the graph of {@code spec} and starts its session.
     *
     * @param seed   seeds the initialisation of a new run
     * @param config the session configuration of the backend
     * @param device the device to pin every operation to, e.g. {@code /device:GPU:1}, or null
     */
    TfVqVaeNet(VqVaeSpec spec, long seed, ConfigProto config, String device) {
        this(new VqVaeLayout(spec), seed, config, device);
    }

    private TfVqVaeNet(VqVaeLayout layout, long seed, ConfigProto config, String device) {
        super(layout, () -> layout.initialValues(seed), device);
        this.spec = layout.spec();
        try {
            for (VqVaeLayout.DownStage s : layout.down()) {
                down.add(conv(s.conv()));
                downNorm.add(norm(s.norm()));
            }
            for (ResidualLayer r : layout.encoderResiduals()) {
                encoderRes.add(residual(r));
            }
            encoderProj = conv(layout.encoderProjection());
            codebook = slot(layout.codebook());
            decoderProj = conv(layout.decoderProjection());
            for (ResidualLayer r : layout.decoderResiduals()) {
                decoderRes.add(residual(r));
            }
            for (VqVaeLayout.UpStage s : layout.up()) {
                ConvTransposeLayer t = s.conv();
                up.add(convTranspose(t, s.outputSide(), s.outputSide()));
                if (s.norm() != null) {
                    upNorm.add(norm(s.norm()));
                }
            }
            head = layout.head() == null ? null : conv(layout.head());

            x = tf.placeholder(TFloat32.class);
            levels = tf.placeholder(TInt32.class);
            train = forward(true);
            double weight = spec.codebook().codebookLossWeight();
            Operand<TFloat32> codebookTerm = weight == 1 ? train.codebookLoss()
                    : tf.math.mul(tf.constant((float) weight), train.codebookLoss());
            Operand<TFloat32> trainLoss = tf.math.add(tf.math.add(tf.math.mean(train.nll(), tf.constant(0)),
                    codebookTerm), tf.math.mul(tf.constant((float) spec.beta()), train.commitmentLoss()));
            eval = forward(false);
            evalNllSum = sum(eval.nll(), 0);
            optimise(trainLoss, List.of(), config);
        } catch (RuntimeException | Error e) {
            release();
            throw e;
        }
    }

    private Forward forward(boolean training) {
        Operand<TFloat32> image = tf.linalg.transpose(x, tf.constant(TO_NHWC));
        Operand<TFloat32> batch = tf.dtypes.cast(tf.gather(tf.shape(x), tf.constant(0), tf.constant(0)),
                TFloat32.class);
        Operand<TFloat32> h = image;
        for (int i = 0; i < down.size(); i++) {
            h = tf.nn.relu(apply(downNorm.get(i), apply(down.get(i), h), training));
        }
        for (Residual r : encoderRes) {
            h = apply(r, h, training);
        }
        Operand<TFloat32> ze = apply(encoderProj, h);
        int d = spec.embeddingDim();
        int side = spec.latent().height();
        Operand<TFloat32> flat = tf.reshape(ze, tf.constant(new int[] {-1, d}));
        Operand<TFloat32> cb = codebook.read();
        Operand<TFloat32> sgFlat = tf.stopGradient(flat);
        Operand<TFloat32> sgCb = tf.stopGradient(cb);
        Operand<TFloat32> dist = tf.math.add(tf.math.sub(
                tf.reduceSum(tf.math.square(sgFlat), tf.constant(1), ReduceSum.keepDims(true)),
                tf.math.mul(tf.linalg.matMul(sgFlat, sgCb, MatMul.transposeB(true)),
                        tf.constant(2f))),
                tf.reshape(sum(tf.math.square(sgCb), 1), tf.constant(new int[] {1, -1})));
        Operand<TInt64> codes = tf.math.argMin(dist, tf.constant(1));
        Operand<TFloat32> zq = tf.gather(cb, codes, tf.constant(0));
        Operand<TFloat32> codebookLoss = tf.math.div(sum(tf.math.square(tf.math.sub(zq, sgFlat)), 0, 1), batch);
        Operand<TFloat32> commitment = tf.math.div(sum(tf.math.square(tf.math.sub(flat, tf.stopGradient(zq))), 0, 1),
                batch);
        Operand<TFloat32> decoderIn = training ? tf.math.add(flat, tf.stopGradient(tf.math.sub(zq, flat))) : zq;
        Operand<TFloat32> g = tf.reshape(decoderIn, tf.constant(new int[] {-1, side, side, d}));
        g = apply(decoderProj, g);
        for (Residual r : decoderRes) {
            g = apply(r, g, training);
        }
        g = tf.nn.relu(g);
        for (int j = 0; j < up.size(); j++) {
            g = apply(up.get(j), g);
            if (j < upNorm.size()) {
                g = tf.nn.relu(apply(upNorm.get(j), g, training));
            }
        }
        Operand<TFloat32> out = head == null ? g : apply(head, g);
        return new Forward(nll(out, image), codebookLoss, commitment, codes, flat);
    }

    /** Negative log-likelihood per image [B], nats, of the NHWC decoder output {@code out}. */
    private Operand<TFloat32> nll(Operand<TFloat32> out, Operand<TFloat32> image) {
        int c = spec.image().channels();
        if (spec.head() == DecoderHead.GAUSSIAN) {
            List<Output<TFloat32>> parts = tf.split(tf.constant(3), out, 2L).output();
            Operand<TFloat32> mean = tf.math.sigmoid(parts.get(0));
            Operand<TFloat32> logVar = tf.math.minimum(tf.math.maximum(parts.get(1),
                    tf.constant((float) DecoderHead.LOG_VAR_MIN)), tf.constant((float) DecoderHead.LOG_VAR_MAX));
            Operand<TFloat32> sq = tf.math.mul(tf.math.square(tf.math.sub(image, mean)),
                    tf.math.exp(tf.math.neg(logVar)));
            Operand<TFloat32> perPixel = tf.math.mul(tf.math.add(tf.math.add(logVar, sq),
                    tf.constant((float) Math.log(2 * Math.PI))), tf.constant(0.5f));
            return sum(perPixel, 1, 2, 3);
        }
        int side = spec.image().height();
        Operand<TFloat32> logp = logSoftmax(out, -1, side, side, c, DecoderHead.LEVELS);
        Operand<TInt32> lv = tf.linalg.transpose(levels, tf.constant(TO_NHWC));
        Operand<TFloat32> picked = tf.math.mul(logp, tf.oneHot(lv, tf.constant(DecoderHead.LEVELS), tf.constant(1f),
                tf.constant(0f)));
        return tf.math.neg(sum(picked, 1, 2, 3, 4));
    }

    // ---- running ------------------------------------------------------------------------------

    /**
     * One Adam step with learning rate {@code lr} on images {@code pixels} (NCHW, B images) and,
     * for a categorical head, their levels; returns the batch's mean loss per image and, with
     * {@code latents}, the step's encoder outputs and codes.
     */
    VqVaeRunner.Step trainStep(float[] pixels, int[] levelValues, int b, double lr, boolean latents) {
        List<TType> feeds = new ArrayList<>();
        try {
            float[][] encoded = new float[1][];
            long[][] codes = new long[1][];
            Session.Runner r = feedImages(runner(), pixels, levelValues, b, feeds);
            double loss = latents
                    ? step(r, lr, feeds, List.of(train.encoded(), train.codes()), result -> {
                        encoded[0] = (float[]) TfTypes.toArray((TType) result.get(1));
                        codes[0] = (long[]) TfTypes.toArray((TType) result.get(2));
                    })
                    : step(r, lr, feeds);
            return new VqVaeRunner.Step(loss, encoded[0], codes[0]);
        } finally {
            feeds.forEach(TType::close);
        }
    }

    /**
     * The encoder outputs [B * positions, D] of B images (NCHW) as a training step computes them,
     * without running its updates.
     */
    float[] encode(float[] pixels, int b) {
        List<TType> feeds = new ArrayList<>();
        try (Result result = run(feedImages(runner(), pixels, null, b, feeds).fetch(train.encoded()))) {
            return (float[]) TfTypes.toArray((TType) result.get(0));
        } finally {
            feeds.forEach(TType::close);
        }
    }

    /** The codebook [K, D], row-major. */
    float[] codebook() {
        return value(codebook);
    }

    /** Sets the codebook [K, D], row-major. */
    void setCodebook(float[] values) {
        assign(codebook, values);
    }

    /** The network in inference mode on B images (NCHW) and, for a categorical head, their levels. */
    VqVaeRunner.BatchEvaluation evaluate(float[] pixels, int[] levelValues, int b) {
        List<TType> feeds = new ArrayList<>();
        try {
            Session.Runner r = feedImages(runner(), pixels, levelValues, b, feeds)
                    .fetch(evalNllSum).fetch(eval.codebookLoss()).fetch(eval.commitmentLoss())
                    .fetch(eval.codes());
            try (Result result = run(r)) {
                return new VqVaeRunner.BatchEvaluation(((TFloat32) result.get(0)).getFloat(),
                        ((TFloat32) result.get(1)).getFloat(), ((TFloat32) result.get(2)).getFloat(),
                        (long[]) TfTypes.toArray((TType) result.get(3)));
            }
        } finally {
            feeds.forEach(TType::close);
        }
    }

    private Session.Runner feedImages(Session.Runner r, float[] pixels, int[] levelValues, int b, List<TType> feeds) {
        long[] shape = {b, spec.image().channels(), spec.image().height(), spec.image().width()};
        r.feed(x, own(feeds, TfTypes.fromArray(pixels, DType.FLOAT32, shape)));
        if (spec.head() == DecoderHead.CATEGORICAL) {
            r.feed(levels, own(feeds, TfTypes.fromArray(levelValues, DType.INT32, shape)));
        }
        return r;
    }
}
