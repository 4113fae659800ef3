package io.vqdistill.models.train;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.vqdistill.api.FormatException;
import io.vqdistill.api.InvalidArgumentException;
import io.vqdistill.api.model.ImageShape;
import io.vqdistill.formats.Json;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;

/**
 * A continuous mixture p(x) = integral of p(x | z) N(z; 0, I) dz (Correia et al., "Continuous
 * mixtures of tractable probabilistic models", AAAI 2023), trained as the finite mixture over the M
 * points of a randomised quasi-Monte-Carlo lattice ({@link RqmcLattice}) with weights 1/M.
 *
 * <p>Decoder ({@link CmDecoder}): a multilayer perceptron or a convolutional network from z in
 * R^{@code latentDim} to the leaf parameters of every pixel: for {@link DecoderHead#GAUSSIAN} a mean
 * through a sigmoid and a natural-log variance clamped to [{@link DecoderHead#LOG_VAR_MIN},
 * {@link DecoderHead#LOG_VAR_MAX}] (a standard deviation in [1e-3, 1]), for
 * {@link DecoderHead#CATEGORICAL} 256 logits. See {@link io.vqdistill.models.layout.CmLayout} for
 * the tensors.
 *
 * @param image     the image shape
 * @param latentDim the dimension of z, >= 1 (16 in the paper)
 * @param decoder   the decoder's architecture
 * @param head      the leaves' distribution
 * @param points    M, the integration points of each training step and of validation, >= 1
 * @param rule      how the training loss combines the points
 */
public record CmSpec(ImageShape image, int latentDim, CmDecoder decoder, DecoderHead head, int points,
        CmRule rule) {

    /** Validates the settings. */
    public CmSpec {
        if (latentDim < 1) {
            throw InvalidArgumentException.of("latentDim", latentDim, ">= 1");
        }
        if (decoder instanceof CmDecoder.Conv && (image.height() % CmDecoder.Conv.SCALE != 0
                || image.width() % CmDecoder.Conv.SCALE != 0)) {
            throw new InvalidArgumentException("a convolutional decoder needs an image height and width divisible by "
                    + CmDecoder.Conv.SCALE + ", found " + image.height() + "x" + image.width());
        }
        if (points < 1) {
            throw InvalidArgumentException.of("points", points, ">= 1");
        }
        long outputs = (long) image.pixels() * image.channels() * head.outputsPerPixel();
        if (outputs > Integer.MAX_VALUE) {
            throw new InvalidArgumentException("the decoder would output " + outputs + " values per point");
        }
    }

    /** A spec with a multilayer-perceptron decoder of the {@code hidden} widths. */
    public CmSpec(ImageShape image, int latentDim, List<Integer> hidden, DecoderHead head, int points, CmRule rule) {
        this(image, latentDim, new CmDecoder.Mlp(hidden), head, points, rule);
    }

    /** Leaf parameters per point: S values per output channel of the head. */
    public int outputsPerPoint() {
        return image.pixels() * image.channels() * head.outputsPerPixel();
    }

    /** S, the pixels (times channels) each point's leaves cover. */
    public int variables() {
        return image.pixels() * image.channels();
    }

    /** This architecture as the {@code architecture} object of a checkpoint configuration. */
    public ObjectNode toJson() {
        ObjectNode n = JsonNodeFactory.instance.objectNode();
        n.put("type", decoder.type());
        ObjectNode img = n.putObject("image");
        img.put("channels", image.channels());
        img.put("height", image.height());
        img.put("width", image.width());
        n.put("latent_dim", latentDim);
        if (decoder instanceof CmDecoder.Mlp m) {
            n.putArray("hidden").addAll(m.hidden().stream().map(JsonNodeFactory.instance::numberNode).toList());
        } else {
            n.put("channels", ((CmDecoder.Conv) decoder).channels());
        }
        n.put("head", head.leafFamily());
        n.put("points", points);
        n.put("rule", rule.label());
        return n;
    }

    /** Reads {@link #toJson()}'s output; a missing or invalid field names {@code file} and the field. */
    public static CmSpec fromJson(JsonNode n, Path file) {
        String where = "architecture";
        String type = Json.requireText(n, "type", file, where);
        boolean mlp = type.equals(CmDecoder.Mlp.TYPE);
        if (!mlp && !type.equals(CmDecoder.Conv.TYPE)) {
            throw FormatException.of(file, where + ".type", "'" + type + "' is neither '" + CmDecoder.Mlp.TYPE
                    + "' nor '" + CmDecoder.Conv.TYPE + "'");
        }
        String decoderField = mlp ? "hidden" : "channels";
        JsonNode img = Json.requireObject(n, "image", file, where);
        Json.requireOnly(n, List.of("type", "image", "latent_dim", decoderField, "head", "points", "rule"), file,
                where);
        Json.requireOnly(img, List.of("channels", "height", "width"), file, where + ".image");
        try {
            return new CmSpec(
                    new ImageShape(Json.requireInt(img, "channels", 1, file, where + ".image"),
                            Json.requireInt(img, "height", 1, file, where + ".image"),
                            Json.requireInt(img, "width", 1, file, where + ".image")),
                    Json.requireInt(n, "latent_dim", 1, file, where),
                    mlp ? new CmDecoder.Mlp(Arrays.stream(Json.requireIntArray(n, "hidden", 1, file, where)).boxed()
                            .toList())
                            : new CmDecoder.Conv(Json.requireInt(n, "channels", 1, file, where)),
                    DecoderHead.parse(Json.requireText(n, "head", file, where)),
                    Json.requireInt(n, "points", 1, file, where),
                    CmRule.parse(Json.requireText(n, "rule", file, where)));
        } catch (IllegalArgumentException | InvalidArgumentException e) {
            // the image shape rejects its values with IllegalArgumentException, the spec with InvalidArgumentException
            throw FormatException.of(file, where, e.getMessage());
        }
    }
}
