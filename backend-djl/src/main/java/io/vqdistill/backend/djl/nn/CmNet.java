package io.vqdistill.backend.djl.nn;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import io.vqdistill.models.layout.CmLayout;
import io.vqdistill.models.layout.LinearLayer;
import io.vqdistill.models.train.CmDecoder;
import io.vqdistill.models.train.CmRule;
import io.vqdistill.models.train.CmSpec;
import io.vqdistill.models.train.DecoderHead;
import java.util.ArrayList;
import java.util.List;

/**
 * The decoder of a continuous mixture ({@link CmSpec}) on DJL, and its scores and losses as the
 * TensorFlow trainer computes them: log p(x_b | z_m) [B, M] as one float64 matrix product, the
 * mixture's log-likelihood by a log-sum-exp over the points minus log M, and the loss of the spec's
 * {@link CmRule}. Its tensors are those of the spec's {@link CmLayout}; a convolutional decoder
 * is built from the {@link Layers} the VQ-VAE uses.
 */
final class CmNet {
    private final CmSpec spec;
    private final CmLayout layout;
    private final List<NDArray[]> layers = new ArrayList<>();
    private final Layers.Norm projectionNorm;
    private final Layers.Residual residual;
    private final Layers.ConvTranspose up;
    private final Layers.Norm upNorm;
    private final Layers.ConvTranspose outputConv;

    /** The network of {@code layout} on the arrays of {@code p} (made for that layout). */
    CmNet(Params p, CmLayout layout) {
        this.spec = layout.spec();
        this.layout = layout;
        if (layout.convolutional()) {
            layers.add(new NDArray[] {p.array(layout.projection().weight()), p.array(layout.projection().bias())});
            projectionNorm = new Layers.Norm(p, layout.projectionNorm());
            residual = new Layers.Residual(p, layout.residual());
            up = new Layers.ConvTranspose(p, layout.up());
            upNorm = new Layers.Norm(p, layout.upNorm());
            outputConv = new Layers.ConvTranspose(p, layout.outputConv());
        } else {
            for (LinearLayer l : layout.hidden()) {
                layers.add(new NDArray[] {p.array(l.weight()), p.array(l.bias())});
            }
            layers.add(new NDArray[] {p.array(layout.output().weight()), p.array(layout.output().bias())});
            projectionNorm = null;
            residual = null;
            up = null;
            upNorm = null;
            outputConv = null;
        }
    }

    /**
     * log p(x_b | z_m), FLOAT64 [B, M], of the points {@code z} FLOAT32 [M, d]: of pixels {@code x}
     * FLOAT32 [B, S] for Gaussian leaves, of levels {@code levels} INT32 [B, S] for categorical ones
     * (the other may be null). With {@code training} a convolutional decoder's BatchNorm layers
     * normalise by the statistics of the M points and update their running statistics; else they
     * use the running ones.
     */
    NDArray scores(NDArray z, NDArray x, NDArray levels, boolean training) {
        NDArray h = layout.convolutional() ? convolutional(z, training) : perceptron(z);
        int s = spec.variables();
        if (spec.head() == DecoderHead.GAUSSIAN) {
            NDArray mean = float64(Layers.sigmoid(h.get(new NDIndex(":, 0:{}", s))));
            NDArray logVar = float64(h.get(new NDIndex(":, {}:{}", s, 2 * s))
                    .clip((float) DecoderHead.LOG_VAR_MIN, (float) DecoderHead.LOG_VAR_MAX));
            NDArray a = logVar.neg().exp();
            NDArray px = x.toType(DataType.FLOAT64, false);
            NDArray quadratic = px.square().matMul(a.mul(-0.5).transpose());
            NDArray linear = px.matMul(a.mul(mean).transpose());
            NDArray constant = a.mul(mean.square()).add(logVar).sum(new int[] {1}).mul(-0.5)
                    .sub(0.5 * s * Math.log(2 * Math.PI));
            return quadratic.add(linear).add(constant.reshape(1, -1));
        }
        int width = s * DecoderHead.LEVELS;
        NDArray logp = float64(h.reshape(-1, DecoderHead.LEVELS).logSoftmax(1).reshape(-1, width));
        NDArray oneHot = oneHot(levels.reshape(-1, s, 1), DecoderHead.LEVELS).reshape(-1, width);
        return oneHot.matMul(logp.transpose());
    }

    /** The multilayer perceptron's output rows [M, outputs]. */
    private NDArray perceptron(NDArray z) {
        NDArray h = z;
        for (int i = 0; i < layers.size(); i++) {
            NDArray[] l = layers.get(i);
            h = h.matMul(l[0].transpose()).add(l[1]);
            if (i < layers.size() - 1) {
                h = Layers.relu(h);
            }
        }
        return h;
    }

    /** The convolutional decoder's output maps [M, maps, H, W] as rows [M, outputs] in {@link CmLayout}'s order. */
    private NDArray convolutional(NDArray z, boolean training) {
        long m = z.getShape().get(0);
        int c = ((CmDecoder.Conv) spec.decoder()).channels();
        NDArray[] fc = layers.get(0);
        NDArray h = z.matMul(fc[0].transpose()).add(fc[1]).reshape(m, c, layout.gridHeight(), layout.gridWidth());
        h = Layers.relu(projectionNorm.forward(h, training));
        h = Layers.relu(residual.forward(h, (n, a) -> n.forward(a, training)));
        h = Layers.relu(upNorm.forward(up.forward(h), training));
        NDArray out = outputConv.forward(h);
        if (spec.head() == DecoderHead.GAUSSIAN) {
            return out.reshape(m, spec.outputsPerPoint());
        }
        return out.reshape(m, spec.image().channels(), DecoderHead.LEVELS, spec.image().height(), spec.image().width())
                .transpose(0, 1, 3, 4, 2).reshape(m, spec.outputsPerPoint());
    }

    /**
     * {@code a} in FLOAT64 with its gradient: DJL's {@code toType} returns an array cut off from the
     * autograd graph, while PyTorch's type promotion in a product with a float64 one keeps it.
     */
    private static NDArray float64(NDArray a) {
        return a.mul(a.getManager().ones(new Shape(1), DataType.FLOAT64));
    }

    /** FLOAT64 indicators [..., n] of the integer {@code indices} [..., 1] (no gradient). */
    private static NDArray oneHot(NDArray indices, int n) {
        NDArray range = indices.getManager().arange(0, n, 1, indices.getDataType());
        return indices.eq(range).toType(DataType.FLOAT64, false);
    }

    /** The mixture's log-likelihood of each image, FLOAT64 [B], from its scores [B, M]. */
    NDArray logLikelihood(NDArray scores) {
        NDArray top = scores.max(new int[] {1}, true).stopGradient();
        return scores.sub(top).exp().sum(new int[] {1}).log().add(top.reshape(-1)).sub(Math.log(spec.points()));
    }

    /** The spec rule's loss, the mean over the batch, FLOAT64 scalar, from the scores [B, M]. */
    NDArray loss(NDArray scores) {
        if (spec.rule() == CmRule.LSE) {
            return logLikelihood(scores).mean().neg();
        }
        NDArray best = oneHot(scores.argMax(1).reshape(-1, 1), spec.points());
        return scores.mul(best).sum(new int[] {1}).mean().neg().add(Math.log(spec.points()));
    }
}
