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
 * <p>Decoder: a multilayer perceptron from z in R^{@code latentDim}, through the {@code hidden}
 * widths with ReLU, to the leaf parameters of every pixel: for {@link DecoderHead#GAUSSIAN} a mean
 * through a sigmoid and a natural-log variance clamped to [{@link DecoderHead#LOG_VAR_MIN},
 * {@link DecoderHead#LOG_VAR_MAX}] (a standard deviation in [1e-3, 1]), for
 * {@link DecoderHead#CATEGORICAL} 256 logits. See {@link io.vqdistill.models.layout.CmLayout} for
 * the tensors.
 *
 * @param image     the image shape
 * @param latentDim the dimension of z, >= 1 (16 in the paper)
 * @param hidden    the widths of the hidden layers, each >= 1; may be empty
 * @param head      the leaves' distribution
 * @param points    M, the integration points of each training step and of validation, >= 1
 * @param rule      how the training loss combines the points
 */
public record CmSpec(ImageShape image, int latentDim, List<Integer> hidden, DecoderHead head, int points,
        CmRule rule) {
    /** The {@code type} of the architecture object. */
    public static final String TYPE = "cm-mlp";

    /** Validates the settings. */
    public CmSpec {
        hidden = List.copyOf(hidden);
        if (latentDim < 1) {
            throw InvalidArgumentException.of("latentDim", latentDim, ">= 1");
        }
        for (int h : hidden) {
            if (h < 1) {
                throw new InvalidArgumentException("hidden widths must be >= 1, found " + hidden);
            }
        }
        if (points < 1) {
            throw InvalidArgumentException.of("points", points, ">= 1");
        }
        long outputs = (long) image.pixels() * image.channels() * head.outputsPerPixel();
        if (outputs > Integer.MAX_VALUE) {
            throw new InvalidArgumentException("the decoder would output " + outputs + " values per point");
        }
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
        n.put("type", TYPE);
        ObjectNode img = n.putObject("image");
        img.put("channels", image.channels());
        img.put("height", image.height());
        img.put("width", image.width());
        n.put("latent_dim", latentDim);
        n.putArray("hidden").addAll(hidden.stream().map(JsonNodeFactory.instance::numberNode).toList());
        n.put("head", head.leafFamily());
        n.put("points", points);
        n.put("rule", rule.label());
        return n;
    }

    /** Reads {@link #toJson()}'s output; a missing or invalid field names {@code file} and the field. */
    public static CmSpec fromJson(JsonNode n, Path file) {
        String where = "architecture";
        String type = Json.requireText(n, "type", file, where);
        if (!type.equals(TYPE)) {
            throw FormatException.of(file, where + ".type", "'" + type + "' is not '" + TYPE + "'");
        }
        JsonNode img = Json.requireObject(n, "image", file, where);
        Json.requireOnly(n, List.of("type", "image", "latent_dim", "hidden", "head", "points", "rule"), file, where);
        Json.requireOnly(img, List.of("channels", "height", "width"), file, where + ".image");
        try {
            return new CmSpec(
                    new ImageShape(Json.requireInt(img, "channels", 1, file, where + ".image"),
                            Json.requireInt(img, "height", 1, file, where + ".image"),
                            Json.requireInt(img, "width", 1, file, where + ".image")),
                    Json.requireInt(n, "latent_dim", 1, file, where),
                    Arrays.stream(Json.requireIntArray(n, "hidden", 1, file, where)).boxed().toList(),
                    DecoderHead.parse(Json.requireText(n, "head", file, where)),
                    Json.requireInt(n, "points", 1, file, where),
                    CmRule.parse(Json.requireText(n, "rule", file, where)));
        } catch (IllegalArgumentException | InvalidArgumentException e) {
            // the image shape rejects its values with IllegalArgumentException, the spec with InvalidArgumentException
            throw FormatException.of(file, where, e.getMessage());
        }
    }
}
