package io.vqdistill.backend.djl.nn;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.Shape;
import io.vqdistill.models.layout.ResidualLayer;
import io.vqdistill.models.layout.VqVaeLayout;
import io.vqdistill.models.train.DecoderHead;
import io.vqdistill.models.train.VqVaeSpec;
import java.util.ArrayList;
import java.util.List;
import java.util.function.BiFunction;

/**
 * The VQ-VAE of a {@link VqVaeSpec} on DJL: encoder, codebook with nearest-neighbour quantisation
 * and the straight-through gradient, decoder, and the training loss. Its tensors are those of the
 * spec's {@link VqVaeLayout}.
 */
final class VqVaeNet {
    private static final float LOG_2PI = (float) Math.log(2 * Math.PI);

    /** The result of quantising encoder outputs. */
    record Quantised(NDArray codes, NDArray quantised, NDArray straightThrough, NDArray codebookLoss,
            NDArray commitmentLoss, NDArray encoded) {
    }

    private final VqVaeSpec spec;
    private final List<Layers.Conv> down = new ArrayList<>();
    private final List<Layers.Norm> downNorm = new ArrayList<>();
    private final List<Layers.Residual> encoderRes = new ArrayList<>();
    private final Layers.Conv encoderProj;
    private final NDArray codebook;
    private final Layers.Conv decoderProj;
    private final List<Layers.Residual> decoderRes = new ArrayList<>();
    private final List<Layers.ConvTranspose> up = new ArrayList<>();
    private final List<Layers.Norm> upNorm = new ArrayList<>();
    private final Layers.Conv head;

    /** The network of {@code layout} on the arrays of {@code p} (made for that layout). */
    VqVaeNet(Params p, VqVaeLayout layout) {
        this.spec = layout.spec();
        for (VqVaeLayout.DownStage s : layout.down()) {
            down.add(new Layers.Conv(p, s.conv()));
            downNorm.add(new Layers.Norm(p, s.norm()));
        }
        for (ResidualLayer r : layout.encoderResiduals()) {
            encoderRes.add(new Layers.Residual(p, r));
        }
        encoderProj = new Layers.Conv(p, layout.encoderProjection());
        codebook = p.array(layout.codebook());
        decoderProj = new Layers.Conv(p, layout.decoderProjection());
        for (ResidualLayer r : layout.decoderResiduals()) {
            decoderRes.add(new Layers.Residual(p, r));
        }
        for (VqVaeLayout.UpStage s : layout.up()) {
            up.add(new Layers.ConvTranspose(p, s.conv()));
            if (s.norm() != null) {
                upNorm.add(new Layers.Norm(p, s.norm()));
            }
        }
        head = layout.head() == null ? null : new Layers.Conv(p, layout.head());
    }

    VqVaeSpec spec() {
        return spec;
    }

    /** Images [B, C, H, W] in [0, 1] to encoder outputs z_e [B, D, h, w]. */
    NDArray encode(NDArray x, boolean training) {
        return encode(x, norm(training));
    }

    /**
     * Encoder outputs z_e [B, D, h, w] as in training (BatchNorm on the batch's statistics) without
     * updating the running statistics.
     */
    NDArray encodeOnBatch(NDArray x) {
        return encode(x, Layers.Norm::forwardOnBatch);
    }

    private NDArray encode(NDArray x, BiFunction<Layers.Norm, NDArray, NDArray> norm) {
        NDArray h = x;
        for (int i = 0; i < down.size(); i++) {
            h = Layers.relu(norm.apply(downNorm.get(i), down.get(i).forward(h)));
        }
        for (Layers.Residual r : encoderRes) {
            h = r.forward(h, norm);
        }
        return encoderProj.forward(h);
    }

    /** BatchNorm in training mode (batch statistics, running ones updated) or in inference mode. */
    private static BiFunction<Layers.Norm, NDArray, NDArray> norm(boolean training) {
        return (n, h) -> n.forward(h, training);
    }

    /**
     * Nearest codebook vectors of z_e [B, D, h, w] by squared Euclidean distance: codes INT64
     * [B, h*w], the quantised z_q [B, D, h, w] (gradient to the codebook), the straight-through
     * z_e + sg(z_q - z_e), and the codebook and commitment losses summed over the grid, averaged
     * over the batch.
     */
    Quantised quantise(NDArray ze) {
        Shape s = ze.getShape();
        long b = s.get(0);
        long d = s.get(1);
        long h = s.get(2);
        long w = s.get(3);
        NDArray flat = ze.transpose(0, 2, 3, 1).reshape(b * h * w, d);
        NDArray codes = nearest(flat);
        NDArray zq = codebook.get(codes);
        NDArray codebookLoss = zq.sub(flat.stopGradient()).square().sum().div((float) b);
        NDArray commitment = flat.sub(zq.stopGradient()).square().sum().div((float) b);
        NDArray st = flat.add(zq.sub(flat).stopGradient());
        return new Quantised(codes.reshape(b, h * w), toGrid(zq, b, h, w), toGrid(st, b, h, w), codebookLoss,
                commitment, flat);
    }

    /** The codebook [K, D], the parameter itself. */
    NDArray codebook() {
        return codebook;
    }

    /** Codes [N] INT64 of the nearest codebook vector of each row of {@code flat} [N, D]. */
    NDArray nearest(NDArray flat) {
        NDArray cb = codebook.stopGradient();
        NDArray dist = flat.square().sum(new int[] {1}, true)
                .sub(flat.matMul(cb.transpose()).mul(2f))
                .add(cb.square().sum(new int[] {1}).reshape(1, -1));
        return dist.argMin(1);
    }

    private static NDArray toGrid(NDArray rows, long b, long h, long w) {
        return rows.reshape(b, h, w, -1).transpose(0, 3, 1, 2);
    }

    /** z_q [B, D, h, w] to the head's output [B, 2C or 256 C, H, W] (Gaussian raw mean and log-variance, or logits). */
    NDArray decode(NDArray zq, boolean training) {
        NDArray h = decoderProj.forward(zq);
        for (Layers.Residual r : decoderRes) {
            h = r.forward(h, norm(training));
        }
        h = Layers.relu(h);
        for (int j = 0; j < up.size(); j++) {
            h = up.get(j).forward(h);
            if (j < upNorm.size()) {
                h = Layers.relu(upNorm.get(j).forward(h, training));
            }
        }
        return head == null ? h : head.forward(h);
    }

    /** The Gaussian mean (sigmoid) [B, C, H, W] of a decoder output. */
    NDArray gaussianMean(NDArray out) {
        int c = spec.image().channels();
        return Layers.sigmoid(out.get(new NDIndex(":, 0:{}", c)));
    }

    /** The clamped natural-log variance [B, C, H, W] of a decoder output. */
    NDArray gaussianLogVar(NDArray out) {
        int c = spec.image().channels();
        return out.get(new NDIndex(":, {}:{}", c, 2 * c)).clip((float) DecoderHead.LOG_VAR_MIN, (float) DecoderHead.LOG_VAR_MAX);
    }

    /** Log-probabilities [B, C, 256, H, W] of a categorical decoder output. */
    NDArray categoricalLogProbs(NDArray out) {
        Shape s = out.getShape();
        int c = spec.image().channels();
        return out.reshape(s.get(0), c, DecoderHead.LEVELS, s.get(2), s.get(3)).logSoftmax(2);
    }

    /**
     * Negative log-likelihood per image, in nats, FLOAT32 [B]: of continuous pixels {@code x}
     * [B, C, H, W] for a Gaussian head, of integer levels {@code levels} INT64 [B, C, H, W] for a
     * categorical head (the other argument may be null).
     */
    NDArray nll(NDArray out, NDArray x, NDArray levels) {
        if (spec.head() == DecoderHead.GAUSSIAN) {
            NDArray mean = gaussianMean(out);
            NDArray logVar = gaussianLogVar(out);
            NDArray perPixel = logVar.add(x.sub(mean).square().mul(logVar.neg().exp())).add(LOG_2PI).mul(0.5f);
            return perPixel.reshape(perPixel.getShape().get(0), -1).sum(new int[] {1});
        }
        NDArray logp = categoricalLogProbs(out);
        Shape s = levels.getShape();
        NDArray picked = logp.gather(levels.reshape(s.get(0), s.get(1), 1, s.get(2), s.get(3)), 2);
        return picked.reshape(s.get(0), -1).sum(new int[] {1}).neg();
    }
}
