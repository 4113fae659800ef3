package io.vqdistill.models.train;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.vqdistill.api.FormatException;
import io.vqdistill.api.InvalidArgumentException;
import io.vqdistill.api.model.ImageShape;
import io.vqdistill.api.model.LatentShape;
import io.vqdistill.formats.Json;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;

/**
 * The architecture of a convolutional VQ-VAE (the paper's Appendix A and C, scaled by
 * {@code channels}).
 *
 * <p>Encoder: one downsampling stage per halving of the image side (28 -> 14 -> 7 -> 4 -> 2), each
 * a stride-2 convolution (kernel 4, padding 1 from an even side; kernel 3, padding 1 from an odd
 * side), BatchNorm and ReLU, with {@code channels.get(i)} outputs; then {@code residualBlocks}
 * residual blocks x + BN(conv1x1(ReLU(BN(conv3x3(ReLU(x)))))) and a 1x1 convolution to
 * {@code embeddingDim}. Quantisation: nearest of K = {@code latent.codebookSize()} codebook vectors
 * (squared Euclidean distance), straight-through gradient. Decoder: a 3x3 convolution back to the
 * last stage's channels, the same number of residual blocks, ReLU, then one stride-2 transposed
 * convolution per stage in reverse order (BatchNorm and ReLU between them); the last one outputs the
 * head's channels directly for {@link DecoderHead#GAUSSIAN}, or {@code channels.get(0)} channels
 * followed by BatchNorm, ReLU and a 1x1 convolution to 256 logits for
 * {@link DecoderHead#CATEGORICAL}.
 *
 * <p>Loss per image: the decoder's negative log-likelihood summed over pixels (nats) plus
 * ||sg(z_e) - e||^2 + beta ||z_e - sg(e)||^2 summed over the latent grid, averaged over the batch;
 * under EMA codebook updates ({@link CodebookTraining}) the first term drops.
 *
 * @param image          the image shape; square
 * @param latent         the code grid (square, reachable by halving the image side) and K
 * @param embeddingDim   D, the size of a codebook vector, >= 1
 * @param channels       output channels of each downsampling stage, one entry per stage
 * @param residualBlocks residual blocks at the latent level in the encoder and the decoder, >= 0
 * @param head           the decoder's output distribution
 * @param beta           the weight of the commitment loss, >= 0 (the authors use 10)
 * @param codebook       how the codebook is trained; recorded in the architecture only when it is not
 *                       {@link CodebookTraining#GRADIENT}, so earlier checkpoints read as they were
 */
public record VqVaeSpec(ImageShape image, LatentShape latent, int embeddingDim, List<Integer> channels,
        int residualBlocks, DecoderHead head, double beta, CodebookTraining codebook) {

    /** The architecture field holding {@link #codebook()} when it is not the default. */
    public static final String CODEBOOK_TRAINING = "codebook_training";

    /** Validates the architecture. */
    public VqVaeSpec {
        channels = List.copyOf(channels);
        Objects.requireNonNull(codebook, "codebook");
        if (image.height() != image.width()) {
            throw new InvalidArgumentException("images must be square, found " + image.height() + "x" + image.width());
        }
        if (latent.height() != latent.width()) {
            throw new InvalidArgumentException("the latent grid must be square, found " + latent.height() + "x"
                    + latent.width());
        }
        int stages = sides(image.height(), latent.height()).length - 1;
        if (channels.size() != stages) {
            throw new InvalidArgumentException("channels must have one entry per downsampling stage: "
                    + image.height() + " -> " + latent.height() + " takes " + stages + ", found " + channels);
        }
        for (int c : channels) {
            if (c < 1) {
                throw new InvalidArgumentException("channels must be >= 1, found " + channels);
            }
        }
        if (embeddingDim < 1) {
            throw new InvalidArgumentException("embeddingDim must be >= 1, found " + embeddingDim);
        }
        if (residualBlocks < 0) {
            throw new InvalidArgumentException("residualBlocks must be >= 0, found " + residualBlocks);
        }
        if (!(beta >= 0) || Double.isInfinite(beta)) {
            throw new InvalidArgumentException("beta must be finite and >= 0, found " + beta);
        }
    }

    /** A spec whose codebook is trained by the gradient ({@link CodebookTraining#GRADIENT}). */
    public VqVaeSpec(ImageShape image, LatentShape latent, int embeddingDim, List<Integer> channels,
            int residualBlocks, DecoderHead head, double beta) {
        this(image, latent, embeddingDim, channels, residualBlocks, head, beta, CodebookTraining.GRADIENT);
    }

    /** This spec with its codebook trained as {@code training} says. */
    public VqVaeSpec withCodebook(CodebookTraining training) {
        return new VqVaeSpec(image, latent, embeddingDim, channels, residualBlocks, head, beta, training);
    }

    /**
     * A spec with the defaults of this project: D = 64, two residual blocks, beta = 10, 32 channels
     * in the first stage and 64 in every later one (small enough to train many epochs on a CPU).
     */
    public static VqVaeSpec defaults(ImageShape image, LatentShape latent, DecoderHead head) {
        int stages = sides(image.height(), latent.height()).length - 1;
        List<Integer> channels = new ArrayList<>();
        for (int i = 0; i < stages; i++) {
            channels.add(i == 0 ? 32 : 64);
        }
        return new VqVaeSpec(image, latent, 64, channels, 2, head, 10.0);
    }

    /**
     * The sides from {@code imageSide} down to {@code latentSide}, halving (rounding up) each time,
     * e.g. 28, 14, 7, 4 for a 4x4 grid. An unreachable latent side is an error listing the reachable ones.
     */
    public static int[] sides(int imageSide, int latentSide) {
        List<Integer> s = new ArrayList<>();
        int side = imageSide;
        s.add(side);
        while (side > latentSide && side > 1) {
            side = (side + 1) / 2;
            s.add(side);
        }
        if (side != latentSide || s.size() < 2) {
            List<Integer> reachable = new ArrayList<>();
            for (int r = (imageSide + 1) / 2; ; r = (r + 1) / 2) {
                reachable.add(r);
                if (r == 1) {
                    break;
                }
            }
            throw new InvalidArgumentException("a " + latentSide + "x" + latentSide + " latent grid is not reachable"
                    + " from " + imageSide + "x" + imageSide + " images by stride-2 stages; reachable sides: " + reachable);
        }
        return s.stream().mapToInt(Integer::intValue).toArray();
    }

    /** Number of downsampling (and upsampling) stages. */
    public int stages() {
        return channels.size();
    }

    /** The kernel of stage {@code i} (0 = at the image): 4 when its input side is even, else 3. */
    public int stageKernel(int i) {
        return sides(image.height(), latent.height())[i] % 2 == 0 ? 4 : 3;
    }

    /**
     * The output channels of decoder stage {@code j} (0 = at the latent grid), the transposed
     * convolution that undoes encoder stage {@code stages() - 1 - j}: that stage's input channels,
     * except the last one, which outputs the head's channels for {@link DecoderHead#GAUSSIAN} and
     * {@code channels.get(0)} for {@link DecoderHead#CATEGORICAL} (a 1x1 convolution follows).
     */
    public int upChannels(int j) {
        int s = stages() - 1 - j;
        if (s > 0) {
            return channels.get(s - 1);
        }
        return head == DecoderHead.GAUSSIAN ? head.outputsPerPixel() * image.channels() : channels.get(0);
    }

    /** The spatial side at the input of downsampling stage {@code i}; {@code i = stages()} is the latent side. */
    public int side(int i) {
        return sides(image.height(), latent.height())[i];
    }

    /** This architecture as the {@code architecture} object of a checkpoint configuration. */
    public ObjectNode toJson() {
        ObjectNode n = JsonNodeFactory.instance.objectNode();
        n.put("type", "vqvae-conv");
        ObjectNode img = n.putObject("image");
        img.put("channels", image.channels());
        img.put("height", image.height());
        img.put("width", image.width());
        ObjectNode lat = n.putObject("latent");
        lat.put("height", latent.height());
        lat.put("width", latent.width());
        lat.put("codebook_size", latent.codebookSize());
        n.put("embedding_dim", embeddingDim);
        n.putArray("channels").addAll(channels.stream().map(JsonNodeFactory.instance::numberNode).toList());
        n.put("residual_blocks", residualBlocks);
        n.put("head", head.leafFamily());
        n.put("beta", beta);
        if (!codebook.isGradient()) {
            n.set(CODEBOOK_TRAINING, codebook.toJson());
        }
        return n;
    }

    /** Reads {@link #toJson()}'s output; a missing or invalid field names {@code file} and the field. */
    public static VqVaeSpec fromJson(JsonNode n, Path file) {
        String where = "architecture";
        String type = Json.requireText(n, "type", file, where);
        if (!type.equals("vqvae-conv")) {
            throw FormatException.of(file, where + ".type", "'" + type + "' is not 'vqvae-conv'");
        }
        JsonNode img = Json.requireObject(n, "image", file, where);
        JsonNode lat = Json.requireObject(n, "latent", file, where);
        Json.requireOnly(n, List.of("type", "image", "latent", "embedding_dim", "channels", "residual_blocks", "head",
                "beta", CODEBOOK_TRAINING), file, where);
        Json.requireOnly(img, List.of("channels", "height", "width"), file, where + ".image");
        Json.requireOnly(lat, List.of("height", "width", "codebook_size"), file, where + ".latent");
        String headName = Json.requireText(n, "head", file, where);
        DecoderHead head;
        try {
            head = DecoderHead.parse(headName);
        } catch (InvalidArgumentException e) {
            throw FormatException.of(file, where + ".head", e.getMessage());
        }
        int[] channels = Json.requireIntArray(n, "channels", 1, file, where);
        CodebookTraining codebook = n.has(CODEBOOK_TRAINING)
                ? CodebookTraining.fromJson(Json.requireObject(n, CODEBOOK_TRAINING, file, where), file,
                        where + "." + CODEBOOK_TRAINING)
                : CodebookTraining.GRADIENT;
        try {
            return new VqVaeSpec(
                    new ImageShape(Json.requireInt(img, "channels", 1, file, where + ".image"),
                            Json.requireInt(img, "height", 1, file, where + ".image"),
                            Json.requireInt(img, "width", 1, file, where + ".image")),
                    new LatentShape(Json.requireInt(lat, "height", 1, file, where + ".latent"),
                            Json.requireInt(lat, "width", 1, file, where + ".latent"),
                            Json.requireInt(lat, "codebook_size", 1, file, where + ".latent")),
                    Json.requireInt(n, "embedding_dim", 1, file, where),
                    Arrays.stream(channels).boxed().toList(),
                    Json.requireInt(n, "residual_blocks", 0, file, where),
                    head,
                    Json.requireDouble(n, "beta", file, where),
                    codebook);
        } catch (IllegalArgumentException | InvalidArgumentException e) {
            // the shapes of the api reject their values with IllegalArgumentException, the spec with InvalidArgumentException
            throw FormatException.of(file, where, e.getMessage());
        }
    }
}
