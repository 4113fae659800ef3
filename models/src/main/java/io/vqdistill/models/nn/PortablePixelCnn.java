package io.vqdistill.models.nn;

import io.vqdistill.api.Backend;
import io.vqdistill.api.InvalidArgumentException;
import io.vqdistill.api.Tensor;
import io.vqdistill.api.TensorException;
import io.vqdistill.api.TensorScope;
import io.vqdistill.api.model.LatentShape;
import io.vqdistill.api.model.PrefixBatch;
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
 * {@link #nextLogProbs} evaluates just those rows and the head at one position, and
 * {@link #prefixes} keeps what the rows above contribute so that a search step evaluates only the
 * current row. Large batches are processed in chunks of {@value #CHUNK} grids; calls are serialised.
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
            Tensor[] pre = preActivations(ops, v, h);
            return activate(ops, pre[0], pre[1], h, condition(classes));
        }

        /**
         * The class-free part of the layer: (v, h) to the pre-activations (vPre, hPre) [B, 2C, R, W]
         * before the class embedding is added.
         */
        Tensor[] preActivations(NetworkOps ops, Tensor v, Tensor h) {
            // symmetric padding, then the rows (columns) past the input's end are dropped: the window ends at the current one
            Tensor vPre = verticalPre(ops, v);
            Tensor hPre = ops.conv2d(h, horizontal, 1, 0, pad).slice(3, 0, h.shape(3))
                    .add(ops.conv2d(vPre, verticalToHorizontal, 1, 0, 0));
            return new Tensor[] {vPre, hPre};
        }

        /** The pre-activations, the layer's input h and the class embedding [B, 2C, 1, 1] to the next (v, h). */
        Tensor[] activate(NetworkOps ops, Tensor vPre, Tensor hPre, Tensor h, Tensor cond) {
            Tensor vOut = gate(ops, vPre.add(cond));
            Tensor hOut = ops.conv2d(gate(ops, hPre.add(cond)), horizontalResidual, 1, 0, 0);
            return new Tensor[] {vOut, residual ? hOut.add(h) : hOut};
        }

        /** The class embedding of each row, [B, 2C, 1, 1]. */
        Tensor condition(Tensor classes) {
            return classEmbedding.gather(0, classes).reshape(classes.shape(0), -1, 1, 1);
        }

        /**
         * The vertical stack of one layer: v [B, C, R, W] to its pre-activation [B, 2C, R, W], each row
         * seeing the window that ends at it.
         */
        Tensor verticalPre(NetworkOps ops, Tensor v) {
            return ops.conv2d(v, vertical, 1, pad, pad).slice(2, 0, v.shape(2));
        }

        /**
         * What this layer adds to the horizontal stack's pre-activation in row {@code row} from the
         * vertical stack and the class: [B, 2C, 1, W].
         */
        Tensor rowBias(NetworkOps ops, Tensor vPre, Tensor cond, int row) {
            return ops.conv2d(vPre.slice(2, row, row + 1L), verticalToHorizontal, 1, 0, 0).add(cond);
        }

        /** The horizontal stack of one row: h [B, C, 1, c] and its row bias [B, 2C, 1, c] to the next h. */
        Tensor horizontalStep(NetworkOps ops, Tensor h, Tensor bias) {
            Tensor hPre = ops.conv2d(h, horizontal, 1, 0, pad).slice(3, 0, h.shape(3)).add(bias);
            Tensor hOut = ops.conv2d(gate(ops, hPre), horizontalResidual, 1, 0, 0);
            return residual ? hOut.add(h) : hOut;
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

    /**
     * log p(z) = logsumexp_c [log p(c) + log p(z | c)] in one network evaluation per grid and class,
     * the first layer's convolutions (which do not see the class) computed once per grid for all
     * classes.
     */
    @Override
    public synchronized Tensor marginalLogProb(Tensor grids) {
        LatentShape l = spec.latent();
        long[] codes = ModelArguments.grids("marginalLogProb", grids, l, l.positions());
        int p = l.positions();
        int k = l.codebookSize();
        int classes = spec.numClasses();
        int b = codes.length / p;
        int per = Math.max(1, CHUNK / classes);
        float[] out = new float[b];
        for (int from = 0; from < b; from += per) {
            int n = Math.min(per, b - from);
            long[] repeat = new long[n * classes];
            long[] tiled = new long[n * classes];
            for (int r = 0; r < n; r++) {
                for (int c = 0; c < classes; c++) {
                    repeat[r * classes + c] = r;
                    tiled[r * classes + c] = c;
                }
            }
            try (TensorScope scope = TensorScope.open()) {
                Tensor z = rowsOf(codes, from, n, l.height());
                Tensor x = embed(z, n, l.height(), l.width());
                Tensor idx = backend.of(repeat, repeat.length);
                Tensor cls = backend.of(tiled, tiled.length);
                Gated first = layers.get(0);
                Tensor[] pre = first.preActivations(ops, x, x);
                Tensor h = x.gather(0, idx);
                Tensor[] vh = first.activate(ops, pre[0].gather(0, idx), pre[1].gather(0, idx), h,
                        first.condition(cls));
                for (int g = 1; g < layers.size(); g++) {
                    vh = layers.get(g).apply(ops, vh[0], vh[1], cls);
                }
                int rows = n * classes;
                Tensor logp = head(vh[1]).reshape(rows, k, p).logSoftmax(1);
                Tensor perClass = logp.takeAlong(1, z.gather(0, idx).reshape(rows, 1, p)).reshape(rows, p).sum(1);
                Tensor joint = perClass.reshape(n, classes).add(backend.of(classLogPrior.clone(), 1, classes));
                System.arraycopy(joint.logSumExp(1).toFloatArray(), 0, out, from, n);
            }
        }
        return backend.of(out, b);
    }

    /**
     * Prefix batches that keep, for every row, the bias each gated layer adds to the horizontal stack
     * in the current grid row (see {@link RowCachedPrefixes}).
     */
    @Override
    public synchronized PrefixBatch prefixes(Tensor grids, Tensor classes, int position) {
        LatentShape l = spec.latent();
        if (position < 0 || position > l.positions()) {
            throw new TensorException("prefixes: position must be in [0, " + l.positions() + "], found " + position);
        }
        long[] codes = ModelArguments.grids("prefixes", grids, l, position);
        long[] cls = ModelArguments.classes("prefixes", classes, grids.shape(0), spec.numClasses());
        return new RowCachedPrefixes(codes, cls, position, null);
    }

    /**
     * The prefix batch of the gated PixelCNN. Within grid row r, the vertical stack depends on the rows
     * above only, so for every prefix the bias each layer adds to the horizontal stack's
     * pre-activation in row r (the vertical stack through the 1x1 link, plus the class embedding;
     * [rows, 2C, 1, W] per layer) is computed once, at the first answer in the row, and carried to the
     * extensions by a gather. An answer at (r, c) then runs only the horizontal stack over columns
     * 0..c of row r and the head at column c. The bias is recomputed when a row begins.
     */
    private final class RowCachedPrefixes implements PrefixBatch {
        private final long[] codes;
        private final long[] classes;
        private final int position;
        /** Per gated layer, the row bias of every row; null until the first answer in this grid row. */
        private Tensor[] rowBias;
        private boolean closed;

        RowCachedPrefixes(long[] codes, long[] classes, int position, Tensor[] rowBias) {
            this.codes = codes;
            this.classes = classes;
            this.position = position;
            this.rowBias = rowBias;
        }

        @Override
        public int position() {
            return position;
        }

        @Override
        public int size() {
            return classes.length;
        }

        @Override
        public Tensor nextLogProbs(int from, int to) {
            synchronized (PortablePixelCnn.this) {
                checkOpen();
                LatentShape l = spec.latent();
                if (from < 0 || to > size() || from > to) {
                    throw new InvalidArgumentException("prefixes: rows [" + from + ", " + to + ") outside [0, "
                            + size() + ")");
                }
                if (position >= l.positions()) {
                    throw new InvalidArgumentException("prefixes: every position of the grids is filled");
                }
                int k = l.codebookSize();
                if (from == to) {
                    return backend.of(new float[0], 0, k);
                }
                int row = position / l.width();
                int cols = position % l.width() + 1;
                if (rowBias == null) {
                    rowBias = computeRowBias(row);
                }
                float[] out = new float[(to - from) * k];
                for (int a = from; a < to; a += CHUNK) {
                    int b = Math.min(to, a + CHUNK);
                    try (TensorScope scope = TensorScope.open()) {
                        Tensor h = embed(rowCodes(a, b, row, cols), b - a, 1, cols);
                        for (int g = 0; g < layers.size(); g++) {
                            h = layers.get(g).horizontalStep(ops, h, rowBias[g].slice(0, a, b).slice(3, 0, cols));
                        }
                        float[] part = head(h.slice(3, cols - 1L, cols)).reshape(b - a, k).logSoftmax(1)
                                .toFloatArray();
                        System.arraycopy(part, 0, out, (a - from) * k, part.length);
                    }
                }
                return backend.of(out, to - from, k);
            }
        }

        /** The row bias of every row for grid row {@code row}, computed in chunks, outside every scope. */
        private Tensor[] computeRowBias(int row) {
            int n = size();
            List<List<Tensor>> parts = new ArrayList<>();
            for (int g = 0; g < layers.size(); g++) {
                parts.add(new ArrayList<>());
            }
            try {
                for (int a = 0; a < n; a += CHUNK) {
                    int b = Math.min(n, a + CHUNK);
                    try (TensorScope scope = TensorScope.open()) {
                        Tensor cls = backend.of(Arrays.copyOfRange(classes, a, b), b - a);
                        Tensor v = embed(rowsOf(codes, a, b - a, row + 1), b - a, row + 1, spec.latent().width());
                        for (int g = 0; g < layers.size(); g++) {
                            Gated layer = layers.get(g);
                            Tensor cond = layer.condition(cls);
                            Tensor vPre = layer.verticalPre(ops, v);
                            parts.get(g).add(TensorScope.detach(layer.rowBias(ops, vPre, cond, row)));
                            if (g + 1 < layers.size()) {
                                v = Gated.gate(ops, vPre.add(cond));
                            }
                        }
                    }
                }
                Tensor[] bias = new Tensor[layers.size()];
                for (int g = 0; g < bias.length; g++) {
                    List<Tensor> p = parts.get(g);
                    bias[g] = p.size() == 1 ? p.remove(0) : TensorScope.detach(backend.concat(p, 0));
                }
                return bias;
            } finally {
                parts.forEach(p -> p.forEach(Tensor::close));
            }
        }

        /** Codes of columns [0, cols) of grid row {@code row} of rows [a, b): INT64 [b - a, cols]. */
        private Tensor rowCodes(int a, int b, int row, int cols) {
            int p = spec.latent().positions();
            int start = row * spec.latent().width();
            long[] part = new long[(b - a) * cols];
            for (int r = a; r < b; r++) {
                System.arraycopy(codes, r * p + start, part, (r - a) * cols, cols);
            }
            return backend.of(part, b - a, cols);
        }

        @Override
        public PrefixBatch extend(int[] parents, int[] next) {
            synchronized (PortablePixelCnn.this) {
                checkOpen();
                LatentShape l = spec.latent();
                int p = l.positions();
                if (position >= p) {
                    throw new InvalidArgumentException("prefixes: every position of the grids is filled");
                }
                if (parents.length != next.length) {
                    throw new InvalidArgumentException("prefixes: " + parents.length + " parents but " + next.length
                            + " codes");
                }
                long[] grids = new long[parents.length * p];
                long[] cls = new long[parents.length];
                long[] index = new long[parents.length];
                for (int r = 0; r < parents.length; r++) {
                    int parent = parents[r];
                    if (parent < 0 || parent >= size()) {
                        throw new InvalidArgumentException("prefixes: parent row " + parent + " is outside [0, "
                                + size() + ")");
                    }
                    if (next[r] < 0 || next[r] >= l.codebookSize()) {
                        throw new InvalidArgumentException("prefixes: code " + next[r] + " is outside [0, "
                                + l.codebookSize() + ")");
                    }
                    System.arraycopy(codes, parent * p, grids, r * p, position);
                    grids[r * p + position] = next[r];
                    cls[r] = classes[parent];
                    index[r] = parent;
                }
                Tensor[] carried = null;
                boolean sameRow = (position + 1) % l.width() != 0;
                if (rowBias != null && sameRow && parents.length > 0) {
                    carried = new Tensor[rowBias.length];
                    try (TensorScope scope = TensorScope.open()) {
                        Tensor idx = backend.of(index, index.length);
                        for (int g = 0; g < carried.length; g++) {
                            carried[g] = TensorScope.detach(rowBias[g].gather(0, idx));
                        }
                    }
                }
                close();
                return new RowCachedPrefixes(grids, cls, position + 1, carried);
            }
        }

        private void checkOpen() {
            if (closed) {
                throw new TensorException("prefixes: this batch was closed or extended");
            }
        }

        @Override
        public void close() {
            synchronized (PortablePixelCnn.this) {
                closed = true;
                if (rowBias != null) {
                    for (Tensor t : rowBias) {
                        t.close();
                    }
                    rowBias = null;
                }
            }
        }
    }

    /** Codes [n, rows * cols] to their embeddings [n, E, rows, cols]. */
    private Tensor embed(Tensor codes, long n, long rows, long cols) {
        return embedding.gather(0, codes.reshape(-1)).reshape(n, rows, cols, -1).transpose(0, 3, 1, 2);
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
        Tensor x = embed(codes, codes.shape(0), rows, spec.latent().width());
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
