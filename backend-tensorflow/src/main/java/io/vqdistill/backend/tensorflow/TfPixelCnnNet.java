package io.vqdistill.backend.tensorflow;

import io.vqdistill.api.DType;
import io.vqdistill.models.layout.PixelCnnLayout;
import io.vqdistill.models.train.PriorSpec;
import java.util.ArrayList;
import java.util.List;
import org.tensorflow.Operand;
import org.tensorflow.Output;
import org.tensorflow.Result;
import org.tensorflow.Session;
import org.tensorflow.op.core.Placeholder;
import org.tensorflow.proto.ConfigProto;
import org.tensorflow.types.TFloat32;
import org.tensorflow.types.TInt64;
import org.tensorflow.types.family.TType;

/**
 * The class-conditional gated PixelCNN of a {@link PriorSpec} as a {@link TfGraphNet}, NHWC
 * inside. Causality comes from the kernel shapes and padding as in the DJL backend's network: the
 * vertical stack convolves a (k/2+1) x k window ending at the current row, the horizontal stack a
 * 1 x (k/2+1) window ending at the current column; in the first layer (mask A) the last row,
 * respectively column, of those kernels is masked. Its tensors are those of the spec's
 * {@link PixelCnnLayout}. No BatchNorm: one graph serves training and evaluation.
 */
final class TfPixelCnnNet extends TfGraphNet {
    /** One gated layer with its vertical and horizontal stacks. */
    private record Gated(int pad, boolean residual, Slot classEmbedding, Conv vertical, Conv verticalToHorizontal,
            Conv horizontal, Conv horizontalResidual) {
    }

    private final PriorSpec spec;
    private final Slot embedding;
    private final List<Gated> layers = new ArrayList<>();
    private final Conv head1;
    private final Conv head2;
    private final Placeholder<TInt64> codes;
    private final Placeholder<TInt64> labels;
    private final Operand<TFloat32> nllSum;

    /**
     * Builds the graph of {@code spec} and starts its session.
     *
     * @param classLogPrior log p(c), |C| values, the buffer of the same name
     * @param seed          seeds the initialisation of a new run
     * @param config        the session configuration of the backend
     * @param device        the device to pin every operation to, or null
     */
    TfPixelCnnNet(PriorSpec spec, float[] classLogPrior, long seed, ConfigProto config, String device) {
        this(new PixelCnnLayout(spec), classLogPrior, seed, config, device);
    }

    private TfPixelCnnNet(PixelCnnLayout layout, float[] classLogPrior, long seed, ConfigProto config,
            String device) {
        super(layout, () -> layout.initialValues(seed, classLogPrior), device);
        this.spec = layout.spec();
        try {
            embedding = slot(layout.embedding());
            for (PixelCnnLayout.GatedLayer l : layout.layers()) {
                layers.add(new Gated(l.padding(), l.residual(), slot(l.classEmbedding()), conv(l.vertical()),
                        conv(l.verticalToHorizontal()), conv(l.horizontal()), conv(l.horizontalResidual())));
            }
            head1 = conv(layout.head1());
            head2 = conv(layout.head2());
            codes = tf.placeholder(TInt64.class);
            labels = tf.placeholder(TInt64.class);
            Operand<TFloat32> logProb = logProb();
            nllSum = tf.math.neg(sum(logProb, 0));
            optimise(tf.math.neg(tf.math.mean(logProb, tf.constant(0))), List.of(), config);
        } catch (RuntimeException | Error e) {
            release();
            throw e;
        }
    }

    /** log p(z | c) per grid [B] of the fed codes [B, h*w] and labels [B]. */
    private Operand<TFloat32> logProb() {
        int h = spec.latent().height();
        int w = spec.latent().width();
        int k = spec.latent().codebookSize();
        Operand<TInt64> grid = tf.reshape(codes, tf.constant(new int[] {-1, h, w}));
        Operand<TFloat32> x = tf.gather(embedding.read(), grid, tf.constant(0));
        Operand<TFloat32> v = x;
        Operand<TFloat32> hs = x;
        for (Gated g : layers) {
            int p = g.pad();
            Operand<TFloat32> cond = tf.reshape(tf.gather(g.classEmbedding().read(), labels, tf.constant(0)),
                    tf.constant(new int[] {-1, 1, 1, 2 * spec.channels()}));
            Operand<TFloat32> vPre = apply(g.vertical(), tf.pad(v,
                    tf.constant(new int[][] {{0, 0}, {p, 0}, {p, p}, {0, 0}}), tf.constant(0f)));
            Operand<TFloat32> hPre = tf.math.add(apply(g.horizontal(), tf.pad(hs,
                    tf.constant(new int[][] {{0, 0}, {0, 0}, {p, 0}, {0, 0}}), tf.constant(0f))),
                    apply(g.verticalToHorizontal(), vPre));
            Operand<TFloat32> hOut = apply(g.horizontalResidual(), gate(tf.math.add(hPre, cond)));
            v = gate(tf.math.add(vPre, cond));
            hs = g.residual() ? tf.math.add(hOut, hs) : hOut;
        }
        Operand<TFloat32> logits = apply(head2, tf.nn.relu(apply(head1, hs)));
        Operand<TFloat32> logp = logSoftmax(logits, -1, h, w, k);
        Operand<TFloat32> picked = tf.math.mul(logp, tf.oneHot(grid, tf.constant(k), tf.constant(1f),
                tf.constant(0f)));
        return sum(picked, 1, 2, 3);
    }

    /** tanh of the first half of the channels times the sigmoid of the second. */
    private Operand<TFloat32> gate(Operand<TFloat32> x) {
        List<Output<TFloat32>> halves = tf.split(tf.constant(3), x, 2L).output();
        return tf.math.mul(tf.math.tanh(halves.get(0)), tf.math.sigmoid(halves.get(1)));
    }

    /** One Adam step on {@code n} grids (codes grid after grid) and their labels; returns the mean NLL per grid. */
    double trainStep(long[] gridCodes, long[] gridLabels, int n, double lr) {
        List<TType> feeds = new ArrayList<>();
        try {
            return step(feed(gridCodes, gridLabels, n, feeds), lr, feeds);
        } finally {
            feeds.forEach(TType::close);
        }
    }

    /** -log p(z | c) summed over {@code n} grids, nats. */
    double nllSum(long[] gridCodes, long[] gridLabels, int n) {
        List<TType> feeds = new ArrayList<>();
        try (Result result = run(feed(gridCodes, gridLabels, n, feeds).fetch(nllSum))) {
            return ((TFloat32) result.get(0)).getFloat();
        } finally {
            feeds.forEach(TType::close);
        }
    }

    private Session.Runner feed(long[] gridCodes, long[] gridLabels, int n, List<TType> feeds) {
        return runner()
                .feed(codes, own(feeds, TfTypes.fromArray(gridCodes, DType.INT64, new long[] {n,
                        spec.latent().positions()})))
                .feed(labels, own(feeds, TfTypes.longs(gridLabels)));
    }
}
