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
 * The architecture of a small convolutional image classifier, used to label samples of the
 * distilled models: one stage per entry of {@code channels}, each a convolution of kernel
 * {@value #KERNEL}, stride 2 and padding 2 followed by ReLU (28 -> 14 -> 7), the features
 * flattened in NCHW order, a fully connected layer to {@code hidden} units with ReLU, and one to
 * a logit per class. Loss: the cross-entropy of the softmax, averaged over the batch.
 *
 * @param image      the image shape
 * @param numClasses classes, >= 2
 * @param channels   output channels of each stage, >= 1 stage
 * @param hidden     hidden units, >= 1
 */
public record ClassifierSpec(ImageShape image, int numClasses, List<Integer> channels, int hidden) {
    /** The kernel of every convolution stage. */
    public static final int KERNEL = 5;

    /** Validates the architecture. */
    public ClassifierSpec {
        channels = List.copyOf(channels);
        if (numClasses < 2) {
            throw new InvalidArgumentException("numClasses must be >= 2, found " + numClasses);
        }
        if (channels.isEmpty() || channels.stream().anyMatch(c -> c < 1)) {
            throw new InvalidArgumentException("channels must name at least one stage, each >= 1, found " + channels);
        }
        if (hidden < 1) {
            throw new InvalidArgumentException("hidden must be >= 1, found " + hidden);
        }
    }

    /** The defaults of this project: stages of 16 and 32 channels, 128 hidden units. */
    public static ClassifierSpec defaults(ImageShape image, int numClasses) {
        return new ClassifierSpec(image, numClasses, List.of(16, 32), 128);
    }

    /** The side of a feature map after {@code stages} stages along an axis of {@code side} pixels: halved, rounded up. */
    static int after(int side, int stages) {
        int s = side;
        for (int i = 0; i < stages; i++) {
            s = (s + 2 * (KERNEL / 2) - KERNEL) / 2 + 1;
        }
        return s;
    }

    /** Feature-map rows after the last stage. */
    public int featureHeight() {
        return after(image.height(), channels.size());
    }

    /** Feature-map columns after the last stage. */
    public int featureWidth() {
        return after(image.width(), channels.size());
    }

    /** The number of flattened features entering the hidden layer. */
    public int flattenedFeatures() {
        return channels.get(channels.size() - 1) * featureHeight() * featureWidth();
    }

    /** This architecture as the {@code architecture} object of a checkpoint configuration. */
    public ObjectNode toJson() {
        ObjectNode n = JsonNodeFactory.instance.objectNode();
        n.put("type", "classifier-cnn");
        ObjectNode img = n.putObject("image");
        img.put("channels", image.channels());
        img.put("height", image.height());
        img.put("width", image.width());
        n.put("num_classes", numClasses);
        n.putArray("channels").addAll(channels.stream().map(JsonNodeFactory.instance::numberNode).toList());
        n.put("hidden", hidden);
        return n;
    }

    /** Reads {@link #toJson()}'s output; a missing or invalid field names {@code file} and the field. */
    public static ClassifierSpec fromJson(JsonNode n, Path file) {
        String where = "architecture";
        String type = Json.requireText(n, "type", file, where);
        if (!type.equals("classifier-cnn")) {
            throw FormatException.of(file, where + ".type", "'" + type + "' is not 'classifier-cnn'");
        }
        JsonNode img = Json.requireObject(n, "image", file, where);
        Json.requireOnly(n, List.of("type", "image", "num_classes", "channels", "hidden"), file, where);
        Json.requireOnly(img, List.of("channels", "height", "width"), file, where + ".image");
        int[] channels = Json.requireIntArray(n, "channels", 1, file, where);
        try {
            return new ClassifierSpec(
                    new ImageShape(Json.requireInt(img, "channels", 1, file, where + ".image"),
                            Json.requireInt(img, "height", 1, file, where + ".image"),
                            Json.requireInt(img, "width", 1, file, where + ".image")),
                    Json.requireInt(n, "num_classes", 2, file, where),
                    Arrays.stream(channels).boxed().toList(),
                    Json.requireInt(n, "hidden", 1, file, where));
        } catch (IllegalArgumentException | InvalidArgumentException e) {
            // the image shape of the api rejects its values with IllegalArgumentException, the spec with InvalidArgumentException
            throw FormatException.of(file, where, e.getMessage());
        }
    }
}
