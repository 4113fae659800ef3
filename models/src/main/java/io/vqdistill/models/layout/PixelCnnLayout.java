package io.vqdistill.models.layout;

import io.vqdistill.models.train.PriorSpec;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

/**
 * The tensors of the class-conditional gated PixelCNN of a {@link PriorSpec}, named as PyTorch's
 * state dict of the equivalent module and registered in its order:
 *
 * <pre>
 * embedding.weight                        [K, C], N(0, 1)
 * layers.{l}.class_embedding.weight       [classes, 2C], N(0, 1)
 * layers.{l}.vert                         (k/2+1) x k, C to 2C
 * layers.{l}.vert_to_horiz                1x1, 2C to 2C
 * layers.{l}.horiz                        1 x (k/2+1), C to 2C
 * layers.{l}.horiz_resid                  1x1, C to C
 * head.0, head.2                          1x1 to the hidden features, 1x1 to K logits
 * class_log_prior                         [classes], a buffer the training run supplies
 * </pre>
 *
 * The convolutions have no padding of their own: the forward pass pads (or crops) so that the
 * vertical window ends at the current row and the horizontal one at the current column. The first
 * layer's vertical and horizontal kernels carry mask A, which zeroes their last row, respectively
 * column, so that a position never sees itself.
 */
public final class PixelCnnLayout extends NetworkLayout {

    /**
     * One gated layer: vertical and horizontal stacks with a class embedding inside each gate.
     *
     * @param padding        k/2: the rows above (columns left of) the current one that the windows see
     * @param first          true for the first (mask A) layer, which has no residual connection
     * @param classEmbedding [classes, 2C]
     * @param vertical              the vertical stack's convolution
     * @param verticalToHorizontal  the vertical stack's features into the horizontal stack
     * @param horizontal            the horizontal stack's convolution
     * @param horizontalResidual    the 1x1 convolution after the horizontal gate
     */
    public record GatedLayer(int padding, boolean first, Parameter classEmbedding, ConvLayer vertical,
            ConvLayer verticalToHorizontal, ConvLayer horizontal, ConvLayer horizontalResidual) {

        /** True when the horizontal stack's input is added to its output (every layer but the first). */
        public boolean residual() {
            return !first;
        }
    }

    private final PriorSpec spec;
    private final Parameter embedding;
    private final List<GatedLayer> layers = new ArrayList<>();
    private final ConvLayer head1;
    private final ConvLayer head2;
    private final Parameter classLogPrior;

    /** The layout of {@code spec}. */
    public PixelCnnLayout(PriorSpec spec) {
        this.spec = spec;
        int c = spec.channels();
        int k = spec.latent().codebookSize();
        embedding = table("embedding", k, c, Initialiser.normal(1));
        for (int l = 0; l < spec.layers(); l++) {
            layers.add(gated("layers." + l, c, l == 0 ? spec.firstKernel() : spec.kernel(), spec.numClasses(),
                    l == 0));
        }
        head1 = conv("head.0", c, spec.headHidden(), 1, 1, 0);
        head2 = conv("head.2", spec.headHidden(), k, 1, 1, 0);
        classLogPrior = add("class_log_prior", Parameter.Role.BUFFER, Initialiser.given(), spec.numClasses());
    }

    private GatedLayer gated(String name, int c, int k, int classes, boolean first) {
        int pad = k / 2;
        Parameter classEmbedding = table(name + ".class_embedding", classes, 2 * c, Initialiser.normal(1));
        float[] vMask = null;
        float[] hMask = null;
        if (first) {
            vMask = new float[(pad + 1) * k];
            Arrays.fill(vMask, 0, pad * k, 1f);
            hMask = new float[pad + 1];
            Arrays.fill(hMask, 0, pad, 1f);
        }
        return new GatedLayer(pad, first, classEmbedding,
                conv(name + ".vert", c, 2 * c, pad + 1, k, 1, 0, 0, vMask),
                conv(name + ".vert_to_horiz", 2 * c, 2 * c, 1, 1, 0),
                conv(name + ".horiz", c, 2 * c, 1, pad + 1, 1, 0, 0, hMask),
                conv(name + ".horiz_resid", c, c, 1, 1, 0));
    }

    /** The architecture. */
    public PriorSpec spec() {
        return spec;
    }

    /** The code embedding [K, C]. */
    public Parameter embedding() {
        return embedding;
    }

    /** The gated layers, first to last. */
    public List<GatedLayer> layers() {
        return List.copyOf(layers);
    }

    /** The head's first 1x1 convolution, to the hidden features (ReLU follows). */
    public ConvLayer head1() {
        return head1;
    }

    /** The head's second 1x1 convolution, to K logits. */
    public ConvLayer head2() {
        return head2;
    }

    /** The class prior log p(c) [classes], a buffer. */
    public Parameter classLogPrior() {
        return classLogPrior;
    }

    /**
     * The initial values of a training run seeded with {@code seed} (see
     * {@link NetworkLayout#initialValues}), the class prior being {@code classLogPrior}.
     */
    public Map<String, float[]> initialValues(long seed, float[] classLogPrior) {
        return initialValues(seed, Map.of(this.classLogPrior.name(), classLogPrior));
    }
}
