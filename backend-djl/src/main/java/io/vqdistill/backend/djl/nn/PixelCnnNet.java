package io.vqdistill.backend.djl.nn;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import io.vqdistill.models.train.PriorSpec;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * The class-conditional gated PixelCNN of a {@link PriorSpec} on DJL. Causality comes from the
 * kernel shapes and padding: the vertical stack convolves a (k/2+1) x k window ending at the current
 * row, the horizontal stack a 1 x (k/2+1) window ending at the current column; in the first layer
 * (mask A) the last row, respectively column, of those kernels is masked, so position (i, j) only
 * ever sees rows above i and the columns left of j in row i.
 */
final class PixelCnnNet {
    private final PriorSpec spec;
    private final NDArray embedding;
    private final List<Gated> layers = new ArrayList<>();
    private final Layers.Conv head1;
    private final Layers.Conv head2;

    /** One gated layer with its vertical and horizontal stacks. */
    private static final class Gated {
        private final int pad;
        private final boolean residual;
        private final NDArray classEmbedding;
        private final Layers.Conv vertical;
        private final Layers.Conv verticalToHorizontal;
        private final Layers.Conv horizontal;
        private final Layers.Conv horizontalResidual;

        Gated(Params p, NDManager constants, String name, int c, int k, int classes, boolean first) {
            this.pad = k / 2;
            this.residual = !first;
            this.classEmbedding = p.normal(name + ".class_embedding.weight", new Shape(classes, 2L * c), 1);
            NDArray vMask = null;
            NDArray hMask = null;
            if (first) {
                float[] v = new float[(pad + 1) * k];
                Arrays.fill(v, 0, pad * k, 1f);
                vMask = constants.create(v, new Shape(1, 1, pad + 1, k));
                float[] h = new float[pad + 1];
                Arrays.fill(h, 0, pad, 1f);
                hMask = constants.create(h, new Shape(1, 1, 1, pad + 1));
            }
            this.vertical = new Layers.Conv(p, name + ".vert", c, 2 * c, pad + 1, k, 1, 0, 0, vMask);
            this.verticalToHorizontal = new Layers.Conv(p, name + ".vert_to_horiz", 2 * c, 2 * c, 1, 1, 0);
            this.horizontal = new Layers.Conv(p, name + ".horiz", c, 2 * c, 1, pad + 1, 1, 0, 0, hMask);
            this.horizontalResidual = new Layers.Conv(p, name + ".horiz_resid", c, c, 1, 1, 0);
        }

        /** (v, h) [B, C, H, W] each, classes INT64 [B], to the next (v, h). */
        NDArray[] forward(NDArray v, NDArray h, NDArray classes) {
            long b = classes.getShape().get(0);
            NDArray cond = Layers.lookup(classEmbedding, classes).reshape(b, -1, 1, 1);
            // pad (left, right, top, bottom): rows above and columns either side for the vertical stack
            NDArray vPre = vertical.forward(v.pad(new Shape(pad, pad, pad, 0), 0));
            NDArray hPre = horizontal.forward(h.pad(new Shape(pad, 0), 0)).add(verticalToHorizontal.forward(vPre));
            NDArray vOut = gate(vPre.add(cond));
            NDArray hOut = horizontalResidual.forward(gate(hPre.add(cond)));
            return new NDArray[] {vOut, residual ? hOut.add(h) : hOut};
        }

        private static NDArray gate(NDArray x) {
            long c = x.getShape().get(1) / 2;
            NDList halves = x.split(new long[] {c}, 1);
            return halves.get(0).tanh().mul(Layers.sigmoid(halves.get(1)));
        }
    }

    /**
     * Registers every tensor of {@code spec} with {@code p}; the masks are constants of
     * {@code constants}. {@code classLogPrior} (|C| values) initialises the buffer of the same name.
     */
    PixelCnnNet(Params p, NDManager constants, PriorSpec spec, float[] classLogPrior) {
        this.spec = spec;
        int c = spec.channels();
        int k = spec.latent().codebookSize();
        this.embedding = p.normal("embedding.weight", new Shape(k, c), 1);
        for (int l = 0; l < spec.layers(); l++) {
            layers.add(new Gated(p, constants, "layers." + l, c, l == 0 ? spec.firstKernel() : spec.kernel(),
                    spec.numClasses(), l == 0));
        }
        this.head1 = new Layers.Conv(p, "head.0", c, spec.headHidden(), 1, 1, 0);
        this.head2 = new Layers.Conv(p, "head.2", spec.headHidden(), k, 1, 1, 0);
        p.buffer("class_log_prior", new Shape(spec.numClasses()), classLogPrior);
    }

    PriorSpec spec() {
        return spec;
    }

    /** Codes INT64 [B, h*w] and classes INT64 [B] to logits [B, K, h, w]. */
    NDArray logits(NDArray codes, NDArray classes) {
        long b = codes.getShape().get(0);
        int h = spec.latent().height();
        int w = spec.latent().width();
        NDArray x = Layers.lookup(embedding, codes.reshape(b, h, w)).transpose(0, 3, 1, 2);
        NDArray v = x;
        NDArray hs = x;
        for (Gated g : layers) {
            NDArray[] out = g.forward(v, hs, classes);
            v = out[0];
            hs = out[1];
        }
        return head2.forward(Layers.relu(head1.forward(hs)));
    }

    /** log p(z_i | z_&lt;i, c) of every position, [B, K, h*w]. */
    NDArray logProbs(NDArray codes, NDArray classes) {
        NDArray logits = logits(codes, classes);
        Shape s = logits.getShape();
        return logits.reshape(s.get(0), s.get(1), -1).logSoftmax(1);
    }

    /** log p(z | c) per grid, [B], of codes INT64 [B, h*w]. */
    NDArray logProb(NDArray codes, NDArray classes) {
        NDArray lp = logProbs(codes, classes);
        long b = codes.getShape().get(0);
        return lp.gather(codes.reshape(b, 1, -1), 1).reshape(b, -1).sum(new int[] {1});
    }
}
