package io.vqdistill.backend.tensorflow;

import io.vqdistill.api.DType;
import io.vqdistill.formats.SafeTensors;
import io.vqdistill.models.checkpoint.Checkpoint;
import io.vqdistill.models.layout.ConvTransposeLayer;
import io.vqdistill.models.layout.ResidualLayer;
import io.vqdistill.models.layout.VqVaeLayout;
import io.vqdistill.models.train.DecoderHead;
import io.vqdistill.models.train.DecoderTuning;
import io.vqdistill.models.train.VqVaeRunner;
import io.vqdistill.models.train.VqVaeSpec;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.tensorflow.Operand;
import org.tensorflow.Output;
import org.tensorflow.Result;
import org.tensorflow.Session;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.op.Op;
import org.tensorflow.op.core.Placeholder;
import org.tensorflow.op.core.ReduceMax;
import org.tensorflow.op.core.ReduceSum;
import org.tensorflow.op.core.VarHandleOp;
import org.tensorflow.op.linalg.MatMul;
import org.tensorflow.proto.ConfigProto;
import org.tensorflow.types.TFloat32;
import org.tensorflow.types.TFloat64;
import org.tensorflow.types.TInt32;
import org.tensorflow.types.TInt64;
import org.tensorflow.types.family.TType;

/**
 * The VQ-VAE of a {@link VqVaeSpec} as a {@link TfGraphNet}: the network in training mode
 * (BatchNorm on batch statistics, running statistics updated with PyTorch's momentum 0.1 and the
 * unbiased batch variance) with its Adam updates, and the network in inference mode (running
 * statistics) for evaluation; or, for a {@link DecoderTuning}, the decoder in inference mode tuned
 * on a mixture's log-likelihood (see {@link Tuning}). NHWC inside, which TensorFlow's CPU convolutions want; padding is a
 * {@code Pad} (or, for transposed convolutions, a crop) around {@code VALID} convolutions, since
 * the C++ gradients of TF 2.18 drop the {@code EXPLICIT} padding attribute. Its tensors are those
 * of the spec's {@link VqVaeLayout}.
 */
final class TfVqVaeNet extends TfGraphNet {
    /** Grids per decoder call when a {@link DecoderTuning}'s components are cached. */
    private static final int CACHE_BATCH = 512;

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
    private final Tuning tuning;

    /**
     * Builds the graph of {@code spec} and starts its session.
     *
     * @param seed   seeds the initialisation of a new run
     * @param config the session configuration of the backend
     * @param device the device to pin every operation to, e.g. {@code /device:GPU:1}, or null
     */
    TfVqVaeNet(VqVaeSpec spec, long seed, ConfigProto config, String device) {
        this(new VqVaeLayout(spec), seed, null, config, device);
    }

    /**
     * Builds the graph of a {@link DecoderTuning} run and starts its session; a new run starts from
     * the tuning's source checkpoint (see {@link #start}).
     *
     * @param config the session configuration of the backend
     * @param device the device to pin every operation to, e.g. {@code /device:GPU:1}, or null
     */
    TfVqVaeNet(DecoderTuning tuning, ConfigProto config, String device) {
        this(new VqVaeLayout(tuning.model()), 0, tuning, config, device);
    }

    private TfVqVaeNet(VqVaeLayout layout, long seed, DecoderTuning tuning, ConfigProto config, String device) {
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
            if (tuning != null) {
                train = null;
                eval = null;
                evalNllSum = null;
                this.tuning = new Tuning(tuning);
                optimise(this.tuning.loss, List.of(), config, TfVqVaeNet::decoderSide);
                return;
            }
            this.tuning = null;
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
        return new Forward(nll(decode(decoderIn, training), image), codebookLoss, commitment, codes, flat);
    }

    /** The decoder's NHWC output of the code vectors {@code zq} [G * positions, D] of G grids. */
    private Operand<TFloat32> decode(Operand<TFloat32> zq, boolean training) {
        Operand<TFloat32> g = tf.reshape(zq, tf.constant(new int[] {-1, spec.latent().height(), spec.latent().width(),
            spec.embeddingDim()}));
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
        return head == null ? g : apply(head, g);
    }

    /** The means (through the sigmoid) and clamped log-variances, each NHWC, of a Gaussian head's output. */
    private List<Operand<TFloat32>> gaussian(Operand<TFloat32> out) {
        List<Output<TFloat32>> parts = tf.split(tf.constant(3), out, 2L).output();
        return List.of(tf.math.sigmoid(parts.get(0)), tf.math.minimum(tf.math.maximum(parts.get(1),
                tf.constant((float) DecoderHead.LOG_VAR_MIN)), tf.constant((float) DecoderHead.LOG_VAR_MAX)));
    }

    /** Negative log-likelihood per image [B], nats, of the NHWC decoder output {@code out}. */
    private Operand<TFloat32> nll(Operand<TFloat32> out, Operand<TFloat32> image) {
        int c = spec.image().channels();
        if (spec.head() == DecoderHead.GAUSSIAN) {
            List<Operand<TFloat32>> leaves = gaussian(out);
            Operand<TFloat32> mean = leaves.get(0);
            Operand<TFloat32> logVar = leaves.get(1);
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

    // ---- decoder tuning -----------------------------------------------------------------------

    /** A new tuning run starts from every tensor and counter of its source checkpoint, with Adam's moments zero. */
    @Override
    public void start(SafeTensors resume, long optimiserSteps) {
        if (tuning != null && resume == null) {
            loadBest(Checkpoint.weights(tuning.source));
        } else {
            super.start(resume, optimiserSteps);
        }
    }

    /** Whether {@code name} is a tensor a {@link DecoderTuning} fits: the decoder's and the codebook. */
    private static boolean decoderSide(String name) {
        return name.startsWith("decoder.") || name.startsWith("codebook.");
    }

    /**
     * The graph of a {@link DecoderTuning}. The cache holds, in float64 resource variables, the
     * coefficients of the mixture's scores log w_n + log p(x | n) = sum_i (-a x^2 / 2 + a mu x) + c_n
     * with a = 1/s^2 and c_n = log w_n - sum_i (a mu^2 + log s^2) / 2 - S log(2 pi) / 2, so a batch's
     * scores against all N components are two float64 matrix products that lose nothing at
     * s = 1e-3. A step takes each image's best-scoring candidates under the cache, decodes their
     * grids with the current weights (BatchNorm on its running statistics), and minimises
     * -log sum_k w_k p(x | decoder(z_k)) over them, averaged over the batch.
     */
    private final class Tuning {
        private final Path source;
        private final int[] codes;
        private final int variables;
        private final int components;
        private final Placeholder<TInt32> grids;
        private final Operand<TFloat32> decodedMean;
        private final Operand<TFloat32> decodedLogVar;
        private final Placeholder<TFloat32> cacheMean;
        private final Placeholder<TFloat32> cacheLogVar;
        private final List<Op> cache = new ArrayList<>();
        private final Operand<TFloat64> logLikelihood;
        private final Operand<TFloat32> loss;

        Tuning(DecoderTuning t) {
            variables = spec.image().pixels() * spec.image().channels();
            components = t.components();
            int positions = spec.latent().positions();
            source = t.source();
            codes = t.grids();
            Operand<TInt32> table = tf.reshape(tf.constant(codes), tf.constant(new int[] {components, positions}));
            Operand<TFloat64> logWeights = tf.constant(t.logWeights());

            grids = tf.placeholder(TInt32.class);
            List<Operand<TFloat32>> decoded = leaves(grids, -1);
            decodedMean = decoded.get(0);
            decodedLogVar = decoded.get(1);

            cacheMean = tf.placeholder(TFloat32.class);
            cacheLogVar = tf.placeholder(TFloat32.class);
            Operand<TFloat64> mean = tf.dtypes.cast(cacheMean, TFloat64.class);
            Operand<TFloat64> logVar = tf.dtypes.cast(cacheLogVar, TFloat64.class);
            Operand<TFloat64> a = tf.math.exp(tf.math.neg(logVar));
            Operand<TFloat64> constant = tf.math.sub(tf.math.sub(logWeights, tf.math.mul(tf.constant(0.5),
                    tf.reduceSum(tf.math.add(tf.math.mul(a, tf.math.square(mean)), logVar), tf.constant(1)))),
                    tf.constant(0.5 * variables * Math.log(2 * Math.PI)));
            Operand<TFloat64> quadratic = cached("tuning.quadratic", tf.math.mul(tf.constant(-0.5), a),
                    components, variables);
            Operand<TFloat64> linear = cached("tuning.linear", tf.math.mul(a, mean), components, variables);
            Operand<TFloat64> offset = cached("tuning.constant", constant, components);

            Operand<TFloat64> px = tf.dtypes.cast(x, TFloat64.class);
            MatMul.Options transposeB = MatMul.transposeB(true);
            Operand<TFloat64> scores = tf.math.add(tf.math.add(tf.linalg.matMul(tf.math.square(px), quadratic,
                    transposeB), tf.linalg.matMul(px, linear, transposeB)),
                    tf.reshape(offset, tf.constant(new int[] {1, -1})));
            logLikelihood = logSumExp(scores);

            Operand<TInt32> best = tf.nn.topK(scores, tf.constant(t.candidates()), TInt32.class).indices();
            List<Operand<TFloat32>> candidates = leaves(tf.gather(table, tf.reshape(best, tf.constant(new int[] {-1})),
                    tf.constant(0)), t.candidates());
            Operand<TFloat32> image = tf.reshape(x, tf.constant(new int[] {-1, 1, variables}));
            Operand<TFloat32> cLogVar = candidates.get(1);
            Operand<TFloat32> nll = tf.math.mul(sum(tf.math.add(tf.math.add(cLogVar, tf.math.mul(
                    tf.math.square(tf.math.sub(image, candidates.get(0))), tf.math.exp(tf.math.neg(cLogVar)))),
                    tf.constant((float) Math.log(2 * Math.PI))), 2), tf.constant(0.5f));
            Operand<TFloat32> joint = tf.math.sub(tf.dtypes.cast(tf.gather(logWeights, best, tf.constant(0)),
                    TFloat32.class), nll);
            Operand<TFloat32> top = tf.stopGradient(tf.reduceMax(joint, tf.constant(1), ReduceMax.keepDims(true)));
            Operand<TFloat32> lse = tf.math.add(tf.reshape(top, tf.constant(new int[] {-1})),
                    tf.math.log(sum(tf.math.exp(tf.math.sub(joint, top)), 1)));
            loss = tf.math.neg(tf.math.mean(lse, tf.constant(0)));
        }

        /**
         * The means and log-variances of the grids {@code codes} [G, positions], decoded in inference
         * mode, each NCHW-flattened to [G, S], or to [G / per, per, S] when {@code per} is positive.
         */
        private List<Operand<TFloat32>> leaves(Operand<TInt32> codes, int per) {
            Operand<TFloat32> zq = tf.gather(codebook.read(), tf.reshape(codes, tf.constant(new int[] {-1})),
                    tf.constant(0));
            int[] shape = per > 0 ? new int[] {-1, per, variables} : new int[] {-1, variables};
            List<Operand<TFloat32>> out = new ArrayList<>();
            for (Operand<TFloat32> nhwc : gaussian(decode(zq, false))) {
                out.add(tf.reshape(tf.linalg.transpose(nhwc, tf.constant(new int[] {0, 3, 1, 2})), tf.constant(shape)));
            }
            return out;
        }

        /** A float64 resource variable of {@code shape} named {@code name}, whose cache update assigns {@code value}. */
        private Operand<TFloat64> cached(String name, Operand<TFloat64> value, long... shape) {
            Operand<? extends TType> handle = tf.varHandleOp(TFloat64.class, Shape.of(shape),
                    VarHandleOp.sharedName(name));
            cache.add(tf.assignVariableOp(handle, value));
            return tf.readVariableOp(handle, TFloat64.class);
        }

        private Operand<TFloat64> logSumExp(Operand<TFloat64> scores) {
            Operand<TFloat64> top = tf.reduceMax(scores, tf.constant(1), ReduceMax.keepDims(true));
            return tf.math.add(tf.reshape(top, tf.constant(new int[] {-1})), tf.math.log(tf.reduceSum(
                    tf.math.exp(tf.math.sub(scores, top)), tf.constant(1), ReduceSum.keepDims(false))));
        }
    }

    /** Decodes every grid of the tuning with the current weights and caches the mixture's score coefficients. */
    void cacheComponents() {
        int n = tuning.components;
        int s = tuning.variables;
        int positions = spec.latent().positions();
        int[] all = tuning.codes;
        float[] means = new float[n * s];
        float[] logVars = new float[n * s];
        for (int from = 0; from < n; from += CACHE_BATCH) {
            int len = Math.min(CACHE_BATCH, n - from);
            List<TType> feeds = new ArrayList<>();
            try {
                Session.Runner r = runner().feed(tuning.grids, own(feeds, TfTypes.fromArray(
                        Arrays.copyOfRange(all, from * positions, (from + len) * positions), DType.INT32,
                        new long[] {len, positions}))).fetch(tuning.decodedMean).fetch(tuning.decodedLogVar);
                try (Result result = run(r)) {
                    System.arraycopy((float[]) TfTypes.toArray((TType) result.get(0)), 0, means, from * s, len * s);
                    System.arraycopy((float[]) TfTypes.toArray((TType) result.get(1)), 0, logVars, from * s, len * s);
                }
            } finally {
                feeds.forEach(TType::close);
            }
        }
        List<TType> feeds = new ArrayList<>();
        try {
            long[] shape = {n, s};
            Session.Runner r = runner().feed(tuning.cacheMean, own(feeds, TfTypes.fromArray(means, DType.FLOAT32, shape)))
                    .feed(tuning.cacheLogVar, own(feeds, TfTypes.fromArray(logVars, DType.FLOAT32, shape)));
            tuning.cache.forEach(r::addTarget);
            run(r).close();
        } finally {
            feeds.forEach(TType::close);
        }
    }

    /**
     * One Adam step with learning rate {@code lr} of the tuning's loss on B dequantised images
     * {@code pixels} [B, S] against their candidates under the cache; returns the batch's mean loss.
     */
    double tuneStep(float[] pixels, int b, double lr) {
        List<TType> feeds = new ArrayList<>();
        try {
            return step(feedFlat(pixels, b, feeds), lr, feeds);
        } finally {
            feeds.forEach(TType::close);
        }
    }

    /** The cached mixture's log-likelihood of each of B dequantised images {@code pixels} [B, S], nats. */
    double[] mixtureLogLikelihoods(float[] pixels, int b) {
        List<TType> feeds = new ArrayList<>();
        try (Result result = run(feedFlat(pixels, b, feeds).fetch(tuning.logLikelihood))) {
            return (double[]) TfTypes.toArray((TType) result.get(0));
        } finally {
            feeds.forEach(TType::close);
        }
    }

    private Session.Runner feedFlat(float[] pixels, int b, List<TType> feeds) {
        return runner().feed(x, own(feeds, TfTypes.fromArray(pixels, DType.FLOAT32, new long[] {b, tuning.variables})));
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
