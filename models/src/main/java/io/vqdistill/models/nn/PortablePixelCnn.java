package io.vqdistill.models.nn;

import io.vqdistill.api.Backend;
import io.vqdistill.api.Tensor;
import io.vqdistill.api.TensorScope;
import io.vqdistill.api.model.LatentShape;
import io.vqdistill.api.model.Prior;
import io.vqdistill.models.layout.PixelCnnLayout;
import io.vqdistill.models.train.PriorSpec;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * The class-conditional gated PixelCNN of a {@link PriorSpec} in inference mode on any backend with
 * {@link NetworkOps}, its tensors those of the spec's {@link PixelCnnLayout}. The causal windows are
 * those of the training network: the vertical stack
 * sees a (k/2+1) x k window ending at the current row, the horizontal stack a 1 x (k/2+1) window
 * ending at the current column, and the first layer's masks (applied to the weights at load time)
 * hide the current row and column. So the logits of row r depend on rows 0..r only, and
 * {@link #nextLogProbs} evaluates just those rows and the head at one position. Large batches are
 * processed in chunks of {@value #CHUNK} grids; calls are serialised.
 */
final class PortablePixelCnn implements Prior {
    /** Grids per network evaluation. */
    static final int CHUNK = 2048;

    private final PriorSpec spec;
    private final NetworkWeights weights;
    private final NetworkOps ops;
    private final Backend backend;
    private final float[] classLogPrior;
    private final Tensor embedding;
    private final List<Gated> layers = new ArrayList<>();
    private final ConvWeights head1;
    private final ConvWeights head2;

    /** One gated layer: vertical and horizontal stacks with a class embedding inside each gate. */
    private record Gated(int pad, boolean residual, Tensor classEmbedding, ConvWeights vertical,
            ConvWeights verticalToHorizontal, ConvWeights horizontal, ConvWeights horizontalResidual) {

        static Gated read(NetworkWeights w, PixelCnnLayout.GatedLayer layer) {
            return new Gated(layer.padding(), layer.residual(), w.tensor(layer.classEmbedding()),
                    w.conv(layer.vertical()), w.conv(layer.verticalToHorizontal()), w.conv(layer.horizontal()),
                    w.conv(layer.horizontalResidual()));
        }

        /** (v, h) [B, C, R, W] each and classes [B] to the next (v, h). */
        Tensor[] apply(NetworkOps ops, Tensor v, Tensor h, Tensor classes) {
            long rows = v.shape(2);
            long cols = v.shape(3);
            Tensor cond = classEmbedding.gather(0, classes).reshape(classes.shape(0), -1, 1, 1);
            // symmetric padding, then the rows (columns) past the input's end are dropped: the window ends at the current one
            Tensor vPre = ops.conv2d(v, vertical, 1, pad, pad).slice(2, 0, rows);
            Tensor hPre = ops.conv2d(h, horizontal, 1, 0, pad).slice(3, 0, cols)
                    .add(ops.conv2d(vPre, verticalToHorizontal, 1, 0, 0));
            Tensor vOut = gate(ops, vPre.add(cond));
            Tensor hOut = ops.conv2d(gate(ops, hPre.add(cond)), horizontalResidual, 1, 0, 0);
            return new Tensor[] {vOut, residual ? hOut.add(h) : hOut};
        }

        private static Tensor gate(NetworkOps ops, Tensor x) {
            long c = x.shape(1) / 2;
            return ops.activation(Activation.TANH, x.slice(1, 0, c))
                    .mul(ops.activation(Activation.SIGMOID, x.slice(1, c, 2 * c)));
        }
    }

    /** Reads every tensor of {@code layout} from {@code weights}, which this network then owns. */
    PortablePixelCnn(PixelCnnLayout layout, NetworkWeights weights) {
        this.spec = layout.spec();
        this.weights = weights;
        this.ops = weights.ops();
        this.backend = weights.backend();
        this.embedding = weights.tensor(layout.embedding());
        for (PixelCnnLayout.GatedLayer l : layout.layers()) {
            layers.add(Gated.read(weights, l));
        }
        this.head1 = weights.conv(layout.head1());
        this.head2 = weights.conv(layout.head2());
        this.classLogPrior = weights.floats(layout.classLogPrior());
        weights.checkAllUsed();
    }

    @Override
    public LatentShape latentShape() {
        return spec.latent();
    }

    @Override
    public int numClasses() {
        return spec.numClasses();
    }

    @Override
    public Tensor classLogPrior() {
        return backend.of(classLogPrior.clone(), spec.numClasses());
    }

    @Override
    public synchronized Tensor nextLogProbs(Tensor grids, Tensor classes, int position) {
        LatentShape l = spec.latent();
        ModelArguments.position("nextLogProbs", position, l);
        long[] codes = ModelArguments.grids("nextLogProbs", grids, l, position);
        long[] cls = ModelArguments.classes("nextLogProbs", classes, grids.shape(0), spec.numClasses());
        int b = cls.length;
        int k = l.codebookSize();
        int row = position / l.width();
        int col = position % l.width();
        int rows = row + 1;
        float[] out = new float[b * k];
        for (int from = 0; from < b; from += CHUNK) {
            int n = Math.min(CHUNK, b - from);
            try (TensorScope scope = TensorScope.open()) {
                Tensor features = stacks(rowsOf(codes, from, n, rows), backend.of(Arrays.copyOfRange(cls, from, from + n), n),
                        rows);
                Tensor at = features.slice(2, row, row + 1L).slice(3, col, col + 1L);
                float[] part = head(at).reshape(n, k).logSoftmax(1).toFloatArray();
                System.arraycopy(part, 0, out, from * k, part.length);
            }
        }
        return backend.of(out, b, k);
    }

    @Override
    public synchronized Tensor logProb(Tensor grids, Tensor classes) {
        LatentShape l = spec.latent();
        long[] codes = ModelArguments.grids("logProb", grids, l, l.positions());
        long[] cls = ModelArguments.classes("logProb", classes, grids.shape(0), spec.numClasses());
        int b = cls.length;
        int p = l.positions();
        float[] out = new float[b];
        for (int from = 0; from < b; from += CHUNK) {
            int n = Math.min(CHUNK, b - from);
            try (TensorScope scope = TensorScope.open()) {
                Tensor z = rowsOf(codes, from, n, l.height());
                Tensor logits = head(stacks(z, backend.of(Arrays.copyOfRange(cls, from, from + n), n), l.height()));
                Tensor logp = logits.reshape(n, l.codebookSize(), p).logSoftmax(1);
                float[] part = logp.takeAlong(1, z.reshape(n, 1, p)).reshape(n, p).sum(1).toFloatArray();
                System.arraycopy(part, 0, out, from, n);
            }
        }
        return backend.of(out, b);
    }

    /** The first {@code rows} rows of grids {@code from .. from+n-1}: INT64 [n, rows * w]. */
    private Tensor rowsOf(long[] codes, int from, int n, int rows) {
        LatentShape l = spec.latent();
        int p = l.positions();
        int keep = rows * l.width();
        long[] part = new long[n * keep];
        for (int i = 0; i < n; i++) {
            System.arraycopy(codes, (from + i) * p, part, i * keep, keep);
        }
        return backend.of(part, n, keep);
    }

    /** Codes [n, rows * w] and classes [n] to the horizontal stack's output [n, C, rows, w]. */
    private Tensor stacks(Tensor codes, Tensor classes, int rows) {
        long n = codes.shape(0);
        Tensor x = embedding.gather(0, codes.reshape(-1)).reshape(n, rows, spec.latent().width(), -1)
                .transpose(0, 3, 1, 2);
        Tensor v = x;
        Tensor h = x;
        for (Gated g : layers) {
            Tensor[] next = g.apply(ops, v, h, classes);
            v = next[0];
            h = next[1];
        }
        return h;
    }

    /** Features [n, C, R, W] to logits [n, K, R, W]: 1x1 conv, ReLU, 1x1 conv. */
    private Tensor head(Tensor features) {
        return ops.conv2d(ops.activation(Activation.RELU, ops.conv2d(features, head1, 1, 0, 0)), head2, 1, 0, 0);
    }

    @Override
    public synchronized void close() {
        weights.close();
    }
}
