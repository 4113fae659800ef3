package io.vqdistill.models.train;

import io.vqdistill.api.InvalidArgumentException;
import java.util.List;

/**
 * The decoder architecture of a continuous mixture ({@link CmSpec}): from a latent point z to the
 * leaf parameters of every pixel. See {@link io.vqdistill.models.layout.CmLayout} for the tensors.
 */
public sealed interface CmDecoder {
    /** The {@code type} of a checkpoint's architecture object with this decoder. */
    String type();

    /**
     * A multilayer perceptron: z through the {@code hidden} widths with ReLU, then one linear layer
     * to every leaf parameter.
     *
     * @param hidden the widths of the hidden layers, each >= 1; may be empty
     */
    record Mlp(List<Integer> hidden) implements CmDecoder {
        /** The {@code type} of its architecture object. */
        public static final String TYPE = "cm-mlp";

        /** Validates the widths. */
        public Mlp {
            hidden = List.copyOf(hidden);
            for (int h : hidden) {
                if (h < 1) {
                    throw new InvalidArgumentException("hidden widths must be >= 1, found " + hidden);
                }
            }
        }

        @Override
        public String type() {
            return TYPE;
        }
    }

    /**
     * A convolutional decoder: z through a linear layer to {@code channels} maps of a quarter of
     * the image's height and width, BatchNorm and ReLU, a residual block, a transposed convolution
     * doubling the side with BatchNorm and ReLU, and a transposed convolution doubling it again to
     * the leaf parameters of every pixel. The image's height and width must be multiples of
     * {@value #SCALE}.
     *
     * @param channels the feature maps of the hidden layers, >= 1
     */
    record Conv(int channels) implements CmDecoder {
        /** The {@code type} of its architecture object. */
        public static final String TYPE = "cm-conv";
        /** How much the two transposed convolutions enlarge each side. */
        public static final int SCALE = 4;

        /** Validates the channels. */
        public Conv {
            if (channels < 1) {
                throw InvalidArgumentException.of("channels", channels, ">= 1");
            }
        }

        @Override
        public String type() {
            return TYPE;
        }
    }
}
