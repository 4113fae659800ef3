package io.vqdistill.distill.toy;

import io.vqdistill.api.Backend;
import io.vqdistill.api.Tensor;
import io.vqdistill.api.model.LatentShape;
import io.vqdistill.api.model.Prior;
import java.util.Random;

/**
 * A class-conditional autoregressive prior given by a table: for every class, position and prefix, a
 * row of K log-probabilities (random logits, log-softmaxed, rounded to float32 and taken as exact).
 * Probabilities are therefore known exactly, and small grids can be enumerated by brute force.
 * Counts its calls, so tests can check that searches batch them.
 */
public final class TablePrior implements Prior {
    private final Backend backend;
    private final LatentShape shape;
    private final int classes;
    private final float[] classLogPrior;
    /** table[c][offset(i) + prefixIndex(z_&lt;i)] = K log-probabilities. */
    private final float[][][] table;
    private int nextCalls;
    private int logProbCalls;

    private TablePrior(Backend backend, LatentShape shape, float[] classLogPrior, float[][][] table) {
        this.backend = backend;
        this.shape = shape;
        this.classes = classLogPrior.length;
        this.classLogPrior = classLogPrior;
        this.table = table;
    }

    /**
     * A random table.
     *
     * @param classProbabilities p(c), summing to 1
     * @param sharpness          the standard deviation of the logits; large values concentrate the mass
     */
    public static TablePrior random(Backend backend, LatentShape shape, double[] classProbabilities, double sharpness,
                                    long seed) {
        Random rng = new Random(seed);
        int k = shape.codebookSize();
        int rows = 0;
        for (int i = 0; i < shape.positions(); i++) {
            rows += (int) Math.pow(k, i);
        }
        float[][][] table = new float[classProbabilities.length][rows][k];
        for (float[][] perClass : table) {
            for (float[] row : perClass) {
                double[] logits = new double[k];
                double max = Double.NEGATIVE_INFINITY;
                for (int j = 0; j < k; j++) {
                    logits[j] = sharpness * rng.nextGaussian();
                    max = Math.max(max, logits[j]);
                }
                double sum = 0;
                for (double l : logits) {
                    sum += Math.exp(l - max);
                }
                for (int j = 0; j < k; j++) {
                    row[j] = (float) (logits[j] - max - Math.log(sum));
                }
            }
        }
        float[] logPc = new float[classProbabilities.length];
        for (int c = 0; c < logPc.length; c++) {
            logPc[c] = (float) Math.log(classProbabilities[c]);
        }
        return new TablePrior(backend, shape, logPc, table);
    }

    /** Number of {@link #nextLogProbs} calls so far. */
    public int nextCalls() {
        return nextCalls;
    }

    /** Number of {@link #logProb} calls so far. */
    public int logProbCalls() {
        return logProbCalls;
    }

    private float[] row(int c, int[] grid, int position) {
        int k = shape.codebookSize();
        int offset = 0;
        for (int i = 0; i < position; i++) {
            offset += (int) Math.pow(k, i);
        }
        int index = 0;
        for (int i = 0; i < position; i++) {
            index = index * k + grid[i];
        }
        return table[c][offset + index];
    }

    /** log p(z | c), exactly, in double. */
    public double logProb(int[] grid, int c) {
        double sum = 0;
        for (int i = 0; i < shape.positions(); i++) {
            sum += row(c, grid, i)[grid[i]];
        }
        return sum;
    }

    /** log p(c) + log p(z | c), exactly. */
    public double logJoint(int[] grid, int c) {
        return classLogPrior[c] + logProb(grid, c);
    }

    /** log p(z) = logsumexp_c log p(c) p(z | c), exactly. */
    public double marginalLogProb(int[] grid) {
        double[] v = new double[classes];
        for (int c = 0; c < classes; c++) {
            v[c] = logJoint(grid, c);
        }
        return Brute.logSumExp(v);
    }

    /** p(c), as stored (float32 rounded). */
    public double classProbability(int c) {
        return Math.exp(classLogPrior[c]);
    }

    @Override
    public LatentShape latentShape() {
        return shape;
    }

    @Override
    public int numClasses() {
        return classes;
    }

    @Override
    public Tensor classLogPrior() {
        return backend.of(classLogPrior.clone(), classes);
    }

    @Override
    public Tensor nextLogProbs(Tensor grids, Tensor classes, int position) {
        nextCalls++;
        int p = shape.positions();
        int k = shape.codebookSize();
        long[] g = grids.toLongArray();
        long[] c = classes.toLongArray();
        int b = c.length;
        float[] out = new float[b * k];
        int[] grid = new int[p];
        for (int r = 0; r < b; r++) {
            for (int i = 0; i < position; i++) {
                grid[i] = (int) g[r * p + i];
            }
            System.arraycopy(row((int) c[r], grid, position), 0, out, r * k, k);
        }
        return backend.of(out, b, k);
    }

    @Override
    public Tensor logProb(Tensor grids, Tensor classes) {
        logProbCalls++;
        int p = shape.positions();
        long[] g = grids.toLongArray();
        long[] c = classes.toLongArray();
        float[] out = new float[c.length];
        for (int r = 0; r < c.length; r++) {
            int[] grid = new int[p];
            for (int i = 0; i < p; i++) {
                grid[i] = (int) g[r * p + i];
            }
            out[r] = (float) logProb(grid, (int) c[r]);
        }
        return backend.of(out, c.length);
    }

    @Override
    public void close() {
    }
}
