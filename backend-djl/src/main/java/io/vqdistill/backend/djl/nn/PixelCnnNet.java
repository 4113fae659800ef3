package io.vqdistill.backend.djl.nn;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import io.vqdistill.models.layout.PixelCnnLayout;
import io.vqdistill.models.train.PriorSpec;
import java.util.ArrayList;
import java.util.List;

/**
 * The class-conditional gated PixelCNN of a {@link PriorSpec} on DJL. Causality comes from the
 * kernel shapes and padding: the vertical stack convolves a (k/2+1) x k window ending at the current
 * row, the horizontal stack a 1 x (k/2+1) window ending at the current column; in the first layer
 * (mask A) the last row, respectively column, of those kernels is masked, so position (i, j) only
 * ever sees rows above i and the columns left of j in row i. Its tensors are those of the spec's
 * {@link PixelCnnLayout}.
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

        Gated(Params p, NDManager constants, PixelCnnLayout.GatedLayer layer) {
            this.pad = layer.padding();
            this.residual = layer.residual();
            this.classEmbedding = p.array(layer.classEmbedding());
            this.vertical = new Layers.Conv(p, layer.vertical(), constants);
            this.verticalToHorizontal = new Layers.Conv(p, layer.verticalToHorizontal());
            this.horizontal = new Layers.Conv(p, layer.horizontal(), constants);
            this.horizontalResidual = new Layers.Conv(p, layer.horizontalResidual());
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
     * The network of {@code layout} on the arrays of {@code p} (made for that layout); the masks are
     * constants of {@code constants}.
     */
    PixelCnnNet(Params p, NDManager constants, PixelCnnLayout layout) {
        this.spec = layout.spec();
        this.embedding = p.array(layout.embedding());
        for (PixelCnnLayout.GatedLayer l : layout.layers()) {
            layers.add(new Gated(p, constants, l));
        }
        this.head1 = new Layers.Conv(p, layout.head1());
        this.head2 = new Layers.Conv(p, layout.head2());
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
