package io.vqdistill.models.layout;

import io.vqdistill.models.train.CmDecoder;
import io.vqdistill.models.train.CmSpec;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * The tensors of the decoder of a continuous mixture ({@link CmSpec}), named as PyTorch's state
 * dict of the equivalent module and registered in its order. A multilayer perceptron
 * ({@link CmDecoder.Mlp}):
 *
 * <pre>
 * decoder.hidden.{i}     Linear, latent (i = 0) or the previous width to hidden(i), then ReLU
 * decoder.out            Linear to the leaf parameters of every pixel
 * </pre>
 *
 * A convolutional decoder ({@link CmDecoder.Conv}) of C channels, an image of H x W and a grid of
 * H/4 x W/4:
 *
 * <pre>
 * decoder.fc                                  Linear, latent to C * (H/4) * (W/4), viewed as [C, H/4, W/4]
 * decoder.fc_bn                               BatchNorm, then ReLU
 * decoder.res.0.conv1, .bn1, .conv2, .bn2     a residual block ({@link ResidualLayer}), then ReLU
 * decoder.up.0.conv, decoder.up.0.bn          transposed, kernel 4, stride 2, padding 1, C to C; ReLU
 * decoder.up.1.conv                           transposed, kernel 4, stride 2, padding 1, C to the
 *                                             head's outputs per pixel times the image's channels
 * </pre>
 *
 * The output row of a latent point holds, for a Gaussian head, the S raw means (a sigmoid follows)
 * and then the S raw natural-log variances (clamped to the head's range); for a categorical head
 * the 256 logits of pixel 0, then those of pixel 1, and so on. The convolutional decoder's output
 * [2 channels or 256 channels, H, W] gives them: its first image-channels maps are the means, the
 * next the log-variances (pixels in channel, row, column order); for a categorical head the maps
 * of image channel c are 256 c to 256 c + 255, one per level.
 */
public final class CmLayout extends NetworkLayout {
    /** The transposed convolutions' kernel side. */
    private static final int UP_KERNEL = 4;

    private final CmSpec spec;
    private final List<LinearLayer> hidden = new ArrayList<>();
    private final LinearLayer output;
    private final LinearLayer projection;
    private final BatchNormLayer projectionNorm;
    private final ResidualLayer residual;
    private final ConvTransposeLayer up;
    private final BatchNormLayer upNorm;
    private final ConvTransposeLayer outputConv;

    /** The layout of {@code spec}. */
    public CmLayout(CmSpec spec) {
        this.spec = spec;
        if (spec.decoder() instanceof CmDecoder.Mlp mlp) {
            int in = spec.latentDim();
            for (int i = 0; i < mlp.hidden().size(); i++) {
                int width = mlp.hidden().get(i);
                hidden.add(linear("decoder.hidden." + i, in, width));
                in = width;
            }
            output = linear("decoder.out", in, spec.outputsPerPoint());
            projection = null;
            projectionNorm = null;
            residual = null;
            up = null;
            upNorm = null;
            outputConv = null;
        } else {
            int c = ((CmDecoder.Conv) spec.decoder()).channels();
            output = null;
            projection = linear("decoder.fc", spec.latentDim(), c * gridHeight() * gridWidth());
            projectionNorm = batchNorm("decoder.fc_bn", c);
            residual = residual("decoder.res.0", c);
            up = convTranspose("decoder.up.0.conv", c, c, UP_KERNEL, 2, 1, 0);
            upNorm = batchNorm("decoder.up.0.bn", c);
            outputConv = convTranspose("decoder.up.1.conv", c, outputChannels(), UP_KERNEL, 2, 1, 0);
        }
    }

    /** The architecture. */
    public CmSpec spec() {
        return spec;
    }

    /** Whether the decoder is convolutional ({@link CmDecoder.Conv}); else a multilayer perceptron. */
    public boolean convolutional() {
        return projection != null;
    }

    /** The hidden layers of a multilayer perceptron, from the latent point; empty for a convolutional decoder. */
    public List<LinearLayer> hidden() {
        return List.copyOf(hidden);
    }

    /** The layer of a multilayer perceptron to the leaf parameters, or null. */
    public LinearLayer output() {
        return output;
    }

    /** The convolutional decoder's linear layer from the latent point to the grid, or null. */
    public LinearLayer projection() {
        return projection;
    }

    /** The BatchNorm after {@link #projection()}, or null. */
    public BatchNormLayer projectionNorm() {
        return projectionNorm;
    }

    /** The convolutional decoder's residual block on the grid, or null. */
    public ResidualLayer residual() {
        return residual;
    }

    /** The transposed convolution from the grid to half the image's side, or null. */
    public ConvTransposeLayer up() {
        return up;
    }

    /** The BatchNorm after {@link #up()}, or null. */
    public BatchNormLayer upNorm() {
        return upNorm;
    }

    /** The transposed convolution to the leaf parameters at the image's side, or null. */
    public ConvTransposeLayer outputConv() {
        return outputConv;
    }

    /** The rows of the convolutional decoder's grid: a quarter of the image's height. */
    public int gridHeight() {
        return spec.image().height() / CmDecoder.Conv.SCALE;
    }

    /** The columns of the convolutional decoder's grid: a quarter of the image's width. */
    public int gridWidth() {
        return spec.image().width() / CmDecoder.Conv.SCALE;
    }

    /** The output maps of the convolutional decoder: the head's outputs per pixel times the image's channels. */
    public int outputChannels() {
        return spec.image().channels() * spec.head().outputsPerPixel();
    }

    /** The initial values of a training run seeded with {@code seed} (see {@link NetworkLayout#initialValues}). */
    public Map<String, float[]> initialValues(long seed) {
        return initialValues(seed, Map.of());
    }
}
