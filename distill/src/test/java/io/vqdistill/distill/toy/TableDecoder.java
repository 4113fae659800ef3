package io.vqdistill.distill.toy;

import io.vqdistill.api.Backend;
import io.vqdistill.api.Tensor;
import io.vqdistill.api.model.Decoder;
import io.vqdistill.api.model.ImageShape;
import io.vqdistill.api.model.LatentShape;
import java.util.Map;
import java.util.Random;

/**
 * A Gaussian decoder given by tables: mean_s(z) = sum_i W[i][z_i][s] and log_var_s(z) = V[z_0][s]
 * in [-2, -1], float32 values taken as exact. Counts its calls and the grids it decoded.
 */
public final class TableDecoder implements Decoder {
    private final Backend backend;
    private final LatentShape latentShape;
    private final ImageShape imageShape;
    private final float[][][] w;
    private final float[][] v;
    private int calls;
    private int decoded;

    /** Random tables for {@code latentShape} grids and {@code imageShape} images. */
    public TableDecoder(Backend backend, LatentShape latentShape, ImageShape imageShape, long seed) {
        this.backend = backend;
        this.latentShape = latentShape;
        this.imageShape = imageShape;
        Random rng = new Random(seed);
        int k = latentShape.codebookSize();
        int s = imageShape.pixels();
        w = new float[latentShape.positions()][k][s];
        for (float[][] perPosition : w) {
            for (float[] perCode : perPosition) {
                for (int j = 0; j < s; j++) {
                    perCode[j] = (float) (0.4 * rng.nextGaussian());
                }
            }
        }
        v = new float[k][s];
        for (float[] perCode : v) {
            for (int j = 0; j < s; j++) {
                perCode[j] = (float) (-2 + rng.nextDouble());
            }
        }
    }

    /** Number of decode calls so far. */
    public int calls() {
        return calls;
    }

    /** Number of grids decoded so far. */
    public int decoded() {
        return decoded;
    }

    /** The means of grid z. */
    public float[] mean(int[] grid) {
        float[] m = new float[imageShape.pixels()];
        for (int i = 0; i < grid.length; i++) {
            for (int j = 0; j < m.length; j++) {
                m[j] += w[i][grid[i]][j];
            }
        }
        return m;
    }

    /** The log-variances of grid z. */
    public float[] logVar(int[] grid) {
        return v[grid[0]].clone();
    }

    /** log p(x | z), exactly, in double. */
    public double logDensity(int[] grid, float[] x) {
        float[] m = mean(grid);
        float[] lv = logVar(grid);
        double sum = 0;
        for (int j = 0; j < x.length; j++) {
            double d = x[j] - m[j];
            sum += -0.5 * (Math.log(2 * Math.PI) + lv[j] + d * d / Math.exp(lv[j]));
        }
        return sum;
    }

    @Override
    public LatentShape latentShape() {
        return latentShape;
    }

    @Override
    public ImageShape imageShape() {
        return imageShape;
    }

    @Override
    public String leafFamily() {
        return "gaussian";
    }

    @Override
    public Map<String, Tensor> decode(Tensor codes) {
        calls++;
        long[] c = codes.toLongArray();
        int p = latentShape.positions();
        int b = c.length / p;
        decoded += b;
        int s = imageShape.pixels();
        float[] means = new float[b * s];
        float[] logVars = new float[b * s];
        for (int r = 0; r < b; r++) {
            int[] grid = new int[p];
            for (int i = 0; i < p; i++) {
                grid[i] = (int) c[r * p + i];
            }
            System.arraycopy(mean(grid), 0, means, r * s, s);
            System.arraycopy(logVar(grid), 0, logVars, r * s, s);
        }
        return Map.of("mean", backend.of(means, b, s), "log_var", backend.of(logVars, b, s));
    }

    @Override
    public void close() {
    }
}
