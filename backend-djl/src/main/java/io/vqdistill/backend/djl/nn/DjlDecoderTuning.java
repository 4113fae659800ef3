package io.vqdistill.backend.djl.nn;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import io.vqdistill.api.Backend;
import io.vqdistill.models.checkpoint.Checkpoint;
import io.vqdistill.models.data.DataSplit;
import io.vqdistill.models.layout.VqVaeLayout;
import io.vqdistill.models.train.DecoderTuning;
import io.vqdistill.models.train.DecoderTuningRunner;
import io.vqdistill.models.train.EpochRunner;
import io.vqdistill.models.train.TrainingListener;
import io.vqdistill.models.train.TrainingSpec;
import java.nio.file.Path;
import java.util.List;

/**
 * Tunes the decoder and codebook of a {@link VqVaeNet} for a distilled mixture with DJL (the epoch
 * loop is {@link DecoderTuningRunner}'s). The cache holds, in float64, the coefficients of the
 * mixture's scores log w_n + log p(x | n) = sum_i (-a x^2 / 2 + a mu x) + c_n with a = 1/s^2 and
 * c_n = log w_n - sum_i (a mu^2 + log s^2) / 2 - S log(2 pi) / 2, so a batch's scores against all N
 * components are two float64 matrix products that lose nothing at s = 1e-3. A step takes each image's
 * best-scoring candidates under the cache, decodes their grids with the current weights (BatchNorm
 * on its running statistics) and minimises -log sum_k w_k p(x | decoder(z_k)) over them, averaged
 * over the batch; only the decoder's and the codebook's tensors are fitted. The cache's arrays belong
 * to the run's root manager, which closes after the run.
 */
final class DjlDecoderTuning extends DecoderTuningRunner {
    /** Grids per decoder call when the components are cached. */
    private static final int CACHE_BATCH = 256;
    private static final double LOG_2PI = Math.log(2 * Math.PI);

    private final NDManager root;
    private final DjlRun run;
    private final int variables;
    private final int positions;
    private VqVaeNet net;
    private NDManager cache;
    private NDArray quadratic;
    private NDArray linear;
    private NDArray offset;

    DjlDecoderTuning(DecoderTuning tuning, TrainingSpec training, DataSplit data, Backend backend, NDManager root,
            Path dir, TrainingListener listener) {
        super(tuning, training, data, backend, dir, listener);
        this.root = root;
        VqVaeLayout layout = new VqVaeLayout(tuning.model());
        this.variables = tuning.model().image().pixels() * tuning.model().image().channels();
        this.positions = tuning.model().latent().positions();
        this.run = DjlRun.fitting(root, training, layout, () -> Checkpoint.weights(tuning.source()),
                DjlDecoderTuning::decoderSide, p -> net = new VqVaeNet(p, layout));
    }

    /** Whether {@code name} is a tensor the tuning fits: the decoder's and the codebook. */
    private static boolean decoderSide(String name) {
        return name.startsWith("decoder.") || name.startsWith("codebook.");
    }

    @Override
    protected EpochRunner.Engine engine() {
        return run;
    }

    @Override
    protected void cacheComponents() {
        int n = tuning.components();
        double[] means = new double[n * variables];
        double[] logVars = new double[n * variables];
        GradMode.off();
        try (NDManager scope = root.newSubManager()) {
            run.params().attachTo(scope);
            for (int from = 0; from < n; from += CACHE_BATCH) {
                int len = Math.min(CACHE_BATCH, n - from);
                long[] codes = new long[len * positions];
                for (int i = 0; i < codes.length; i++) {
                    codes[i] = tuning.grids()[from * positions + i];
                }
                try (NDManager batch = scope.newSubManager()) {
                    List<NDArray> leaves = leaves(batch.create(codes, new Shape(len, positions)));
                    copy(leaves.get(0).toType(DataType.FLOAT64, false).toDoubleArray(), means, from);
                    copy(leaves.get(1).toType(DataType.FLOAT64, false).toDoubleArray(), logVars, from);
                }
            }
        }
        if (cache != null) {
            cache.close();
        }
        cache = root.newSubManager();
        try (NDManager work = root.newSubManager()) {
            Shape shape = new Shape(n, variables);
            NDArray mean = work.create(means, shape);
            NDArray logVar = work.create(logVars, shape);
            NDArray a = logVar.neg().exp();
            quadratic = kept(a.mul(-0.5).transpose());
            linear = kept(a.mul(mean).transpose());
            offset = kept(work.create(tuning.logWeights())
                    .sub(a.mul(mean.square()).add(logVar).sum(new int[] {1}).mul(0.5))
                    .sub(0.5 * variables * LOG_2PI).reshape(1, n));
        }
    }

    /** A contiguous copy of {@code a} owned by the cache, so that the work arrays it came from can go. */
    private NDArray kept(NDArray a) {
        NDArray copy = a.duplicate();
        copy.attach(cache);
        return copy;
    }

    private void copy(double[] rows, double[] into, int fromRow) {
        System.arraycopy(rows, 0, into, fromRow * variables, rows.length);
    }

    /**
     * The Gaussian means and clamped log-variances of the grids {@code codes} INT64 [G, positions],
     * decoded in inference mode (gradients to the decoder and the codebook), each [G, S] in NCHW order.
     */
    private List<NDArray> leaves(NDArray codes) {
        long g = codes.getShape().get(0);
        int side = tuning.model().latent().height();
        int width = tuning.model().latent().width();
        NDArray zq = net.codebook().get(codes.reshape(-1)).reshape(g, side, width, -1).transpose(0, 3, 1, 2);
        NDArray out = net.decode(zq, false);
        return List.of(net.gaussianMean(out).reshape(g, variables), net.gaussianLogVar(out).reshape(g, variables));
    }

    /** The scores [B, N] of B images {@code x} [B, S] against every cached component, float64. */
    private NDArray scores(NDArray x, NDManager scope) {
        quadratic.tempAttach(scope);
        linear.tempAttach(scope);
        offset.tempAttach(scope);
        NDArray x64 = x.toType(DataType.FLOAT64, false);
        return x64.square().matMul(quadratic).add(x64.matMul(linear)).add(offset);
    }

    @Override
    protected double tuneStep(float[] pixels, int b) {
        int k = tuning.candidates();
        return run.step(scope -> {
            NDArray x = scope.create(pixels, new Shape(b, variables));
            long[] best = scores(x, scope).topK(k, 1, true, true).get(1).toLongArray();
            long[] codes = new long[b * k * positions];
            float[] logWeights = new float[b * k];
            for (int c = 0; c < best.length; c++) {
                int component = (int) best[c];
                logWeights[c] = (float) tuning.logWeights()[component];
                for (int p = 0; p < positions; p++) {
                    codes[c * positions + p] = tuning.grids()[component * positions + p];
                }
            }
            List<NDArray> leaves = leaves(scope.create(codes, new Shape(b * k, positions)));
            NDArray mean = leaves.get(0).reshape(b, k, variables);
            NDArray logVar = leaves.get(1).reshape(b, k, variables);
            NDArray image = x.reshape(b, 1, variables);
            NDArray nll = logVar.add(image.sub(mean).square().mul(logVar.neg().exp())).add((float) LOG_2PI)
                    .sum(new int[] {2}).mul(0.5f);
            NDArray joint = scope.create(logWeights, new Shape(b, k)).sub(nll);
            NDArray top = joint.max(new int[] {1}, true).stopGradient();
            NDArray lse = top.reshape(b).add(joint.sub(top).exp().sum(new int[] {1}).log());
            return lse.mean().neg();
        });
    }

    @Override
    protected double[] logLikelihoods(float[] pixels, int b) {
        GradMode.off();
        try (NDManager scope = root.newSubManager()) {
            NDArray s = scores(scope.create(pixels, new Shape(b, variables)), scope);
            NDArray top = s.max(new int[] {1}, true);
            return top.reshape(b).add(s.sub(top).exp().sum(new int[] {1}).log()).toDoubleArray();
        }
    }
}
