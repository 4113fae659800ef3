package io.vqdistill.backend.djl.nn;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.Shape;
import io.vqdistill.api.Backend;
import io.vqdistill.api.Shapes;
import io.vqdistill.api.Tensor;
import io.vqdistill.api.TensorException;
import io.vqdistill.api.model.LatentShape;
import io.vqdistill.api.model.Prior;

/**
 * The class-conditional PixelCNN of a prior checkpoint. Large batches are evaluated in chunks of
 * {@value #CHUNK} grids to bound memory; calls are serialised.
 */
final class DjlPrior implements Prior {
    /** Grids per network evaluation. */
    static final int CHUNK = 2048;

    private final Backend backend;
    private final NDManager root;
    private final Params params;
    private final PixelCnnNet net;

    DjlPrior(Backend backend, NDManager root, Params params, PixelCnnNet net) {
        this.backend = backend;
        this.root = root;
        this.params = params;
        this.net = net;
    }

    @Override
    public LatentShape latentShape() {
        return net.spec().latent();
    }

    @Override
    public int numClasses() {
        return net.spec().numClasses();
    }

    @Override
    public synchronized Tensor classLogPrior() {
        return backend.of(net.classLogPrior().toFloatArray(), numClasses());
    }

    @Override
    public synchronized Tensor nextLogProbs(Tensor grids, Tensor classes, int position) {
        LatentShape l = latentShape();
        if (position < 0 || position >= l.positions()) {
            throw new TensorException("nextLogProbs: position must be in [0, " + l.positions() + "), found "
                    + position);
        }
        long[] codes = checkGrids("nextLogProbs", grids, position);
        long[] cls = checkClasses("nextLogProbs", classes, grids.shape(0));
        int b = cls.length;
        int k = l.codebookSize();
        float[] out = new float[b * k];
        GradMode.off();
        for (int from = 0; from < b; from += CHUNK) {
            int n = Math.min(CHUNK, b - from);
            try (NDManager scope = root.newSubManager()) {
                params.attachTo(scope);
                NDArray lp = net.logProbs(chunk(scope, codes, from, n, l.positions()), chunk(scope, cls, from, n, 1));
                float[] part = lp.get(new NDIndex(":, :, {}", position)).toFloatArray();
                System.arraycopy(part, 0, out, from * k, part.length);
            }
        }
        return backend.of(out, b, k);
    }

    @Override
    public synchronized Tensor logProb(Tensor grids, Tensor classes) {
        LatentShape l = latentShape();
        long[] codes = checkGrids("logProb", grids, l.positions());
        long[] cls = checkClasses("logProb", classes, grids.shape(0));
        int b = cls.length;
        float[] out = new float[b];
        GradMode.off();
        for (int from = 0; from < b; from += CHUNK) {
            int n = Math.min(CHUNK, b - from);
            try (NDManager scope = root.newSubManager()) {
                params.attachTo(scope);
                float[] part = net.logProb(chunk(scope, codes, from, n, l.positions()), chunk(scope, cls, from, n, 1))
                        .toFloatArray();
                System.arraycopy(part, 0, out, from, n);
            }
        }
        return backend.of(out, b);
    }

    private static NDArray chunk(NDManager scope, long[] values, int from, int n, int width) {
        long[] part = new long[n * width];
        System.arraycopy(values, from * width, part, 0, part.length);
        return width == 1 ? scope.create(part, new Shape(n)) : scope.create(part, new Shape(n, width));
    }

    /** The codes of {@code grids} [B, h*w]; the first {@code checked} positions must lie in [0, K). */
    private long[] checkGrids(String op, Tensor grids, int checked) {
        LatentShape l = latentShape();
        if (grids.rank() != 2 || grids.shape(1) != l.positions() || !grids.dtype().isInteger()) {
            throw new TensorException(op + ": grids must be int64 [B, " + l.positions() + "], found "
                    + grids.dtype().label() + " " + Shapes.format(grids.shape()));
        }
        long[] codes = grids.toLongArray();
        int p = l.positions();
        for (int i = 0; i < codes.length; i++) {
            if (i % p < checked && (codes[i] < 0 || codes[i] >= l.codebookSize())) {
                throw new TensorException(op + ": code " + codes[i] + " of grid " + i / p + " at position " + i % p
                        + " is outside [0, " + l.codebookSize() + ")");
            }
            if (i % p >= checked) {
                codes[i] = 0;
            }
        }
        return codes;
    }

    private long[] checkClasses(String op, Tensor classes, long batch) {
        if (classes.rank() != 1 || classes.shape(0) != batch || !classes.dtype().isInteger()) {
            throw new TensorException(op + ": classes must be int64 [" + batch + "], found " + classes.dtype().label()
                    + " " + Shapes.format(classes.shape()));
        }
        long[] c = classes.toLongArray();
        for (int i = 0; i < c.length; i++) {
            if (c[i] < 0 || c[i] >= numClasses()) {
                throw new TensorException(op + ": class " + c[i] + " of row " + i + " is outside [0, " + numClasses()
                        + ")");
            }
        }
        return c;
    }

    @Override
    public synchronized void close() {
        params.close();
    }
}
