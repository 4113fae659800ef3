package io.vqdistill.models.train;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.vqdistill.api.FormatException;
import io.vqdistill.api.InvalidArgumentException;
import io.vqdistill.api.model.ImageShape;
import io.vqdistill.models.layout.CmLayout;
import io.vqdistill.models.layout.Parameter;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The architecture object of a continuous mixture: both decoders survive a round trip, a
 * {@code cm-mlp} object as written before the convolutional decoder existed still reads, bad
 * objects and shapes are refused naming the field, and the convolutional layout has PyTorch's names
 * and shapes.
 */
class CmSpecTest {
    private static final Path FILE = Path.of("config.json");

    @Test
    void bothDecodersSurviveARoundTrip() {
        for (CmDecoder decoder : List.of(new CmDecoder.Mlp(List.of(8, 16)), new CmDecoder.Mlp(List.of()),
                new CmDecoder.Conv(32))) {
            CmSpec spec = new CmSpec(ImageShape.MNIST, 16, decoder, DecoderHead.GAUSSIAN, 1024, CmRule.TOP1);
            ObjectNode json = spec.toJson();
            assertThat(json.get("type").asText()).isEqualTo(decoder.type());
            assertThat(CmSpec.fromJson(json, FILE)).isEqualTo(spec);
        }
        assertThat(new CmSpec(ImageShape.MNIST, 16, new CmDecoder.Conv(8), DecoderHead.GAUSSIAN, 4, CmRule.LSE)
                .toJson().get("channels").asInt()).isEqualTo(8);
    }

    @Test
    void aMultilayerPerceptronObjectAsWrittenBeforeStillReads() throws Exception {
        JsonNode old = new ObjectMapper().readTree("{\"type\":\"cm-mlp\",\"image\":{\"channels\":1,\"height\":28,"
                + "\"width\":28},\"latent_dim\":16,\"hidden\":[128,256],\"head\":\"gaussian\",\"points\":1024,"
                + "\"rule\":\"lse\"}");
        assertThat(CmSpec.fromJson(old, FILE)).isEqualTo(new CmSpec(ImageShape.MNIST, 16, List.of(128, 256),
                DecoderHead.GAUSSIAN, 1024, CmRule.LSE));
    }

    @Test
    void badObjectsAreRefusedNamingTheField() {
        ObjectNode conv = new CmSpec(ImageShape.MNIST, 16, new CmDecoder.Conv(8), DecoderHead.GAUSSIAN, 4,
                CmRule.LSE).toJson();
        ObjectNode withHidden = conv.deepCopy();
        withHidden.putArray("hidden").add(3);
        assertThatThrownBy(() -> CmSpec.fromJson(withHidden, FILE)).isInstanceOf(FormatException.class)
                .hasMessageContaining("hidden");
        ObjectNode noChannels = conv.deepCopy();
        noChannels.remove("channels");
        assertThatThrownBy(() -> CmSpec.fromJson(noChannels, FILE)).isInstanceOf(FormatException.class)
                .hasMessageContaining("channels");
        ObjectNode zero = conv.deepCopy();
        zero.put("channels", 0);
        assertThatThrownBy(() -> CmSpec.fromJson(zero, FILE)).isInstanceOf(FormatException.class)
                .hasMessageContaining("channels");
        ObjectNode unknown = conv.deepCopy();
        unknown.put("type", "cm-transformer");
        assertThatThrownBy(() -> CmSpec.fromJson(unknown, FILE)).isInstanceOf(FormatException.class)
                .hasMessageContaining("architecture.type").hasMessageContaining("cm-transformer");
        ObjectNode odd = conv.deepCopy();
        ((ObjectNode) odd.get("image")).put("width", 30);
        assertThatThrownBy(() -> CmSpec.fromJson(odd, FILE)).isInstanceOf(FormatException.class)
                .hasMessageContaining("divisible by 4").hasMessageContaining("28x30");
        assertThatThrownBy(() -> new CmDecoder.Conv(0)).isInstanceOf(InvalidArgumentException.class)
                .hasMessageContaining("channels");
    }

    @Test
    void theConvolutionalLayoutHasPyTorchsNamesAndShapes() {
        CmLayout layout = new CmLayout(new CmSpec(new ImageShape(1, 8, 12), 4, new CmDecoder.Conv(5),
                DecoderHead.CATEGORICAL, 4, CmRule.TOP1));
        assertThat(layout.parameters()).extracting(Parameter::name).containsExactly(
                "decoder.fc.weight", "decoder.fc.bias",
                "decoder.fc_bn.weight", "decoder.fc_bn.bias", "decoder.fc_bn.running_mean",
                "decoder.fc_bn.running_var", "decoder.fc_bn.num_batches_tracked",
                "decoder.res.0.conv1.weight", "decoder.res.0.conv1.bias",
                "decoder.res.0.bn1.weight", "decoder.res.0.bn1.bias", "decoder.res.0.bn1.running_mean",
                "decoder.res.0.bn1.running_var", "decoder.res.0.bn1.num_batches_tracked",
                "decoder.res.0.conv2.weight", "decoder.res.0.conv2.bias",
                "decoder.res.0.bn2.weight", "decoder.res.0.bn2.bias", "decoder.res.0.bn2.running_mean",
                "decoder.res.0.bn2.running_var", "decoder.res.0.bn2.num_batches_tracked",
                "decoder.up.0.conv.weight", "decoder.up.0.conv.bias",
                "decoder.up.0.bn.weight", "decoder.up.0.bn.bias", "decoder.up.0.bn.running_mean",
                "decoder.up.0.bn.running_var", "decoder.up.0.bn.num_batches_tracked",
                "decoder.up.1.conv.weight", "decoder.up.1.conv.bias");
        assertThat(layout.projection().weight().shape()).containsExactly(5L * 2 * 3, 4);
        assertThat(layout.up().weight().shape()).containsExactly(5, 5, 4, 4);
        assertThat(layout.outputConv().weight().shape()).containsExactly(5, 256, 4, 4);
        assertThat(layout.up().outputSide(2)).isEqualTo(4);
        assertThat(layout.outputConv().outputSide(6)).isEqualTo(12);
        assertThat(layout.hidden()).isEmpty();
        assertThat(layout.output()).isNull();
    }
}
