package io.vqdistill.models.train;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.vqdistill.api.FormatException;
import io.vqdistill.api.InvalidArgumentException;
import io.vqdistill.api.model.LatentShape;
import io.vqdistill.formats.Json;
import java.nio.file.Path;
import java.util.List;

/**
 * The architecture of the class-conditional gated PixelCNN over code grids (van den Oord et al.,
 * 2016), in raster order.
 *
 * <p>Codes are embedded into {@code channels} features. Each of {@code layers} gated layers has a
 * vertical stack (a convolution over the rows above, kernel (k/2+1) x k) and a horizontal stack (a
 * convolution over the columns to the left in the same row, kernel 1 x (k/2+1)) that also receives
 * the vertical stack through a 1x1 convolution. Both stacks produce 2 * channels features, add the
 * class embedding of the layer (a table [classes, 2 * channels]), and gate them as
 * tanh(a) * sigmoid(b). The first layer has kernel {@code firstKernel} and mask A (a position does
 * not see itself); the others have kernel {@code kernel} and mask B, and a residual connection on
 * the horizontal stack. The head is a 1x1 convolution to {@code headHidden} features, ReLU, and a
 * 1x1 convolution to K logits per position.
 *
 * @param latent      the code grid and K
 * @param numClasses  |C|, >= 1
 * @param layers      gated layers, >= 1 (10 by default)
 * @param channels    features per stack, >= 1
 * @param headHidden  hidden features of the head, >= 1 (512 by default)
 * @param firstKernel kernel of the first (mask A) layer, odd, >= 3 (7 by default)
 * @param kernel      kernel of the other (mask B) layers, odd, >= 3 (3 by default)
 */
public record PriorSpec(LatentShape latent, int numClasses, int layers, int channels, int headHidden,
        int firstKernel, int kernel) {

    /** Validates the architecture. */
    public PriorSpec {
        if (numClasses < 1 || layers < 1 || channels < 1 || headHidden < 1) {
            throw new InvalidArgumentException("numClasses, layers, channels and headHidden must be >= 1, found "
                    + numClasses + ", " + layers + ", " + channels + ", " + headHidden);
        }
        if (firstKernel < 3 || firstKernel % 2 == 0 || kernel < 3 || kernel % 2 == 0) {
            throw new InvalidArgumentException("kernels must be odd and >= 3, found firstKernel " + firstKernel
                    + ", kernel " + kernel);
        }
    }

    /** The defaults of the paper: 10 layers, 7x7 mask-A first layer, 3x3 mask-B layers, head 512, 64 channels. */
    public static PriorSpec defaults(LatentShape latent, int numClasses) {
        return new PriorSpec(latent, numClasses, 10, 64, 512, 7, 3);
    }

    /** This architecture as the {@code architecture} object of a checkpoint configuration. */
    public ObjectNode toJson() {
        ObjectNode n = JsonNodeFactory.instance.objectNode();
        n.put("type", "gated-pixelcnn");
        ObjectNode lat = n.putObject("latent");
        lat.put("height", latent.height());
        lat.put("width", latent.width());
        lat.put("codebook_size", latent.codebookSize());
        n.put("num_classes", numClasses);
        n.put("layers", layers);
        n.put("channels", channels);
        n.put("head_hidden", headHidden);
        n.put("first_kernel", firstKernel);
        n.put("kernel", kernel);
        return n;
    }

    /** Reads {@link #toJson()}'s output; a missing or invalid field names {@code file} and the field. */
    public static PriorSpec fromJson(JsonNode n, Path file) {
        String where = "architecture";
        String type = Json.requireText(n, "type", file, where);
        if (!type.equals("gated-pixelcnn")) {
            throw FormatException.of(file, where + ".type", "'" + type + "' is not 'gated-pixelcnn'");
        }
        JsonNode lat = Json.requireObject(n, "latent", file, where);
        Json.requireOnly(n, List.of("type", "latent", "num_classes", "layers", "channels", "head_hidden",
                "first_kernel", "kernel"), file, where);
        Json.requireOnly(lat, List.of("height", "width", "codebook_size"), file, where + ".latent");
        try {
            return new PriorSpec(
                    new LatentShape(Json.requireInt(lat, "height", 1, file, where + ".latent"),
                            Json.requireInt(lat, "width", 1, file, where + ".latent"),
                            Json.requireInt(lat, "codebook_size", 1, file, where + ".latent")),
                    Json.requireInt(n, "num_classes", 1, file, where),
                    Json.requireInt(n, "layers", 1, file, where),
                    Json.requireInt(n, "channels", 1, file, where),
                    Json.requireInt(n, "head_hidden", 1, file, where),
                    Json.requireInt(n, "first_kernel", 1, file, where),
                    Json.requireInt(n, "kernel", 1, file, where));
        } catch (IllegalArgumentException | InvalidArgumentException e) {
            // the latent shape of the api rejects its values with IllegalArgumentException, the spec with InvalidArgumentException
            throw FormatException.of(file, where, e.getMessage());
        }
    }
}
