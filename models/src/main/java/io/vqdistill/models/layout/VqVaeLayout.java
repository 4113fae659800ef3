package io.vqdistill.models.layout;

import io.vqdistill.models.train.DecoderHead;
import io.vqdistill.models.train.VqVaeSpec;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * The tensors of the VQ-VAE of a {@link VqVaeSpec}, named as PyTorch's state dict of the equivalent
 * module and registered in its order:
 *
 * <pre>
 * encoder.down.{i}.conv, encoder.down.{i}.bn      one per stage, stride 2, padding 1
 * encoder.res.{r}.conv1, .bn1, .conv2, .bn2       3x3 padding 1, then 1x1
 * encoder.proj                                    1x1 to the embedding dimension
 * codebook.weight                                 [K, D], U(-1/K, 1/K)
 * decoder.proj                                    3x3 padding 1 back to the last stage's channels
 * decoder.res.{r}.conv1, .bn1, .conv2, .bn2
 * decoder.up.{j}.conv, decoder.up.{j}.bn          transposed, stride 2, padding 1; no bn after the
 *                                                 last stage of a Gaussian head
 * decoder.head                                    1x1 to the logits (categorical head only)
 * </pre>
 *
 * A convolution or BatchNorm {@code name} holds the tensors {@code name.weight}, {@code name.bias}
 * (and {@code name.running_mean}, {@code name.running_var}, {@code name.num_batches_tracked}).
 */
public final class VqVaeLayout extends NetworkLayout {
    /** The convolution of a down- or upsampling stage. */
    private static final String STAGE_CONV = ".conv";
    /** The BatchNorm of a down- or upsampling stage. */
    private static final String STAGE_NORM = ".bn";

    /** A downsampling stage: convolution, then BatchNorm and ReLU. */
    public record DownStage(ConvLayer conv, BatchNormLayer norm) {
    }

    /**
     * An upsampling stage: transposed convolution from {@code inputSide} to {@code outputSide},
     * then BatchNorm and ReLU unless {@code norm} is null (the last stage of a Gaussian head).
     */
    public record UpStage(ConvTransposeLayer conv, BatchNormLayer norm, int inputSide, int outputSide) {
    }

    private final VqVaeSpec spec;
    private final List<DownStage> down = new ArrayList<>();
    private final List<ResidualLayer> encoderResiduals = new ArrayList<>();
    private final ConvLayer encoderProjection;
    private final Parameter codebook;
    private final ConvLayer decoderProjection;
    private final List<ResidualLayer> decoderResiduals = new ArrayList<>();
    private final List<UpStage> up = new ArrayList<>();
    private final ConvLayer head;

    /** The layout of {@code spec}. */
    public VqVaeLayout(VqVaeSpec spec) {
        this.spec = spec;
        int stages = spec.stages();
        int imageChannels = spec.image().channels();
        int in = imageChannels;
        for (int i = 0; i < stages; i++) {
            int c = spec.channels().get(i);
            String stage = "encoder.down." + i;
            down.add(new DownStage(conv(stage + STAGE_CONV, in, c, spec.stageKernel(i), 2, 1),
                    batchNorm(stage + STAGE_NORM, c)));
            in = c;
        }
        int latentChannels = in;
        for (int r = 0; r < spec.residualBlocks(); r++) {
            encoderResiduals.add(residual("encoder.res." + r, latentChannels));
        }
        int d = spec.embeddingDim();
        encoderProjection = conv("encoder.proj", latentChannels, d, 1, 1, 0);
        int k = spec.latent().codebookSize();
        codebook = table("codebook", k, d, Initialiser.uniform(1.0 / k));
        decoderProjection = conv("decoder.proj", d, latentChannels, 3, 1, 1);
        for (int r = 0; r < spec.residualBlocks(); r++) {
            decoderResiduals.add(residual("decoder.res." + r, latentChannels));
        }
        boolean gaussian = spec.head() == DecoderHead.GAUSSIAN;
        for (int j = 0; j < stages; j++) {
            int s = stages - 1 - j;
            int cout = spec.upChannels(j);
            String stage = "decoder.up." + j;
            ConvTransposeLayer t = convTranspose(stage + STAGE_CONV, spec.channels().get(s), cout,
                    spec.stageKernel(s), 2, 1, 0);
            if (t.outputSide(spec.side(s + 1)) != spec.side(s)) {
                throw new AssertionError("decoder stage " + j + " maps side " + spec.side(s + 1) + " to "
                        + t.outputSide(spec.side(s + 1)) + ", expected " + spec.side(s));
            }
            BatchNormLayer norm = s == 0 && gaussian ? null : batchNorm(stage + STAGE_NORM, cout);
            up.add(new UpStage(t, norm, spec.side(s + 1), spec.side(s)));
        }
        head = gaussian ? null : conv("decoder.head", spec.channels().get(0),
                imageChannels * spec.head().outputsPerPixel(), 1, 1, 0);
    }

    /** The architecture. */
    public VqVaeSpec spec() {
        return spec;
    }

    /** The downsampling stages, from the image. */
    public List<DownStage> down() {
        return List.copyOf(down);
    }

    /** The encoder's residual blocks. */
    public List<ResidualLayer> encoderResiduals() {
        return List.copyOf(encoderResiduals);
    }

    /** The 1x1 convolution to the embedding dimension, z_e. */
    public ConvLayer encoderProjection() {
        return encoderProjection;
    }

    /** The codebook [K, D]. */
    public Parameter codebook() {
        return codebook;
    }

    /** The decoder's first convolution, from z_q. */
    public ConvLayer decoderProjection() {
        return decoderProjection;
    }

    /** The decoder's residual blocks. */
    public List<ResidualLayer> decoderResiduals() {
        return List.copyOf(decoderResiduals);
    }

    /** The upsampling stages, from the latent grid. */
    public List<UpStage> up() {
        return List.copyOf(up);
    }

    /** The 1x1 convolution to the logits of a categorical head, or null for a Gaussian head. */
    public ConvLayer head() {
        return head;
    }

    /** The initial values of a training run seeded with {@code seed} (see {@link NetworkLayout#initialValues}). */
    public Map<String, float[]> initialValues(long seed) {
        return initialValues(seed, Map.of());
    }
}
