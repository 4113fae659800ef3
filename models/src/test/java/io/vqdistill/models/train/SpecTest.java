package io.vqdistill.models.train;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.vqdistill.api.FormatException;
import io.vqdistill.api.InvalidArgumentException;
import io.vqdistill.api.model.ImageShape;
import io.vqdistill.api.model.LatentShape;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;

class SpecTest {
    private static final Path FILE = Path.of("config.json");

    @Test
    void aDecoderTuningRefusesCategoricalLeavesCodesOutsideTheCodebookAndTooManyCandidatesNamingThem() {
        VqVaeSpec gaussian = VqVaeSpec.defaults(ImageShape.MNIST, new LatentShape(2, 2, 4), DecoderHead.GAUSSIAN);
        Path source = Path.of("vq");
        int[] grids = {0, 1, 2, 3, 3, 2, 1, 0};
        double[] logWeights = {Math.log(0.5), Math.log(0.5)};
        DecoderTuning ok = new DecoderTuning(gaussian, source, grids, logWeights, 2, "two grids");
        assertThat(ok.components()).isEqualTo(2);
        grids[0] = 3;
        assertThat(ok.grids()[0]).as("the tuning holds its own copy").isZero();
        assertThatThrownBy(() -> new DecoderTuning(gaussian, source, grids, logWeights, 3, "two grids"))
                .isInstanceOf(InvalidArgumentException.class).hasMessageContaining("candidates")
                .hasMessageContaining("3").hasMessageContaining("the 2 components");
        assertThatThrownBy(() -> new DecoderTuning(gaussian, source, new int[] {0, 1, 2, 4, 0, 0, 0, 0}, logWeights, 1,
                "two grids")).isInstanceOf(InvalidArgumentException.class)
                .hasMessageContaining("code 4 is outside the codebook of 4");
        assertThatThrownBy(() -> new DecoderTuning(gaussian, source, new int[] {0, 1, 2}, logWeights, 1, "two grids"))
                .isInstanceOf(InvalidArgumentException.class).hasMessageContaining("expected 2 grids of 4 codes");
        VqVaeSpec categorical = VqVaeSpec.defaults(ImageShape.MNIST, new LatentShape(2, 2, 4), DecoderHead.CATEGORICAL);
        assertThatThrownBy(() -> new DecoderTuning(categorical, source, grids, logWeights, 1, "two grids"))
                .isInstanceOf(InvalidArgumentException.class).hasMessageContaining("needs Gaussian leaves");
    }

    @Test
    void stagesHalveTheImageSideDownToTheGrid() {
        assertThat(VqVaeSpec.sides(28, 7)).containsExactly(28, 14, 7);
        assertThat(VqVaeSpec.sides(28, 4)).containsExactly(28, 14, 7, 4);
        assertThat(VqVaeSpec.sides(28, 2)).containsExactly(28, 14, 7, 4, 2);
        VqVaeSpec s = VqVaeSpec.defaults(ImageShape.MNIST, new LatentShape(4, 4, 512), DecoderHead.GAUSSIAN);
        assertThat(s.channels()).containsExactly(32, 64, 64);
        assertThat(s.stageKernel(0)).isEqualTo(4);
        assertThat(s.stageKernel(2)).isEqualTo(3);
        assertThat(s.side(3)).isEqualTo(4);
    }

    @Test
    void decoderStagesMirrorTheEncoderAndEndInTheHead() {
        LatentShape l = new LatentShape(4, 4, 16);
        VqVaeSpec g = new VqVaeSpec(ImageShape.MNIST, l, 8, List.of(16, 32, 64), 1, DecoderHead.GAUSSIAN, 10);
        assertThat(new int[] {g.upChannels(0), g.upChannels(1), g.upChannels(2)}).containsExactly(32, 16, 2);
        VqVaeSpec c = new VqVaeSpec(ImageShape.MNIST, l, 8, List.of(16, 32, 64), 1, DecoderHead.CATEGORICAL, 10);
        assertThat(c.upChannels(2)).isEqualTo(16);
    }

    @Test
    void unreachableGridListsTheReachableSides() {
        assertThatThrownBy(() -> VqVaeSpec.sides(28, 5)).isInstanceOf(InvalidArgumentException.class)
                .hasMessageContaining("5x5")
                .hasMessageContaining("[14, 7, 4, 2, 1]");
    }

    @Test
    void invalidArchitecturesAreRejected() {
        LatentShape l = new LatentShape(7, 7, 512);
        assertThatThrownBy(() -> new VqVaeSpec(ImageShape.MNIST, l, 64, List.of(32), 2, DecoderHead.GAUSSIAN, 10))
                .isInstanceOf(InvalidArgumentException.class).hasMessageContaining("takes 2").hasMessageContaining("[32]");
        assertThatThrownBy(() -> new VqVaeSpec(ImageShape.MNIST, l, 0, List.of(32, 64), 2, DecoderHead.GAUSSIAN, 10))
                .isInstanceOf(InvalidArgumentException.class).hasMessageContaining("embeddingDim");
        assertThatThrownBy(() -> new PriorSpec(l, 10, 10, 64, 512, 4, 3)).isInstanceOf(InvalidArgumentException.class)
                .hasMessageContaining("odd");
        assertThatThrownBy(() -> DecoderHead.parse("laplace")).isInstanceOf(InvalidArgumentException.class)
                .hasMessageContaining("laplace");
        assertThatThrownBy(() -> new TrainingSpec(0, 128, 100, 15, 1)).isInstanceOf(InvalidArgumentException.class)
                .hasMessageContaining("learningRate");
    }

    @Test
    void specsRoundTripThroughJson() {
        VqVaeSpec v = new VqVaeSpec(ImageShape.MNIST, new LatentShape(2, 2, 16), 8, List.of(16, 32, 32, 32), 1,
                DecoderHead.CATEGORICAL, 0.25);
        assertThat(VqVaeSpec.fromJson(v.toJson(), FILE)).isEqualTo(v);
        PriorSpec p = PriorSpec.defaults(new LatentShape(4, 4, 4096), 10);
        assertThat(PriorSpec.fromJson(p.toJson(), FILE)).isEqualTo(p);
    }

    @Test
    void codebookTrainingRoundTripsThroughJsonAndIsAbsentWhenDefault() {
        VqVaeSpec plain = VqVaeSpec.defaults(ImageShape.MNIST, new LatentShape(4, 4, 512), DecoderHead.GAUSSIAN);
        assertThat(plain.codebook()).isEqualTo(CodebookTraining.GRADIENT);
        assertThat(plain.toJson().has(VqVaeSpec.CODEBOOK_TRAINING)).as("earlier checkpoints' JSON unchanged").isFalse();
        VqVaeSpec trained = plain.withCodebook(new CodebookTraining(0.99, 100, 10, 4));
        var json = trained.toJson();
        assertThat(json.get(VqVaeSpec.CODEBOOK_TRAINING).toString())
                .isEqualTo("{\"ema_decay\":0.99,\"dead_code_steps\":100,\"kmeans_iterations\":10,\"kmeans_batches\":4}");
        assertThat(VqVaeSpec.fromJson(json, FILE)).isEqualTo(trained);
        assertThat(VqVaeSpec.fromJson(plain.toJson(), FILE)).isEqualTo(plain);
    }

    @Test
    void invalidCodebookTrainingIsRejectedNamingTheFieldAndValue() {
        var json = VqVaeSpec.defaults(ImageShape.MNIST, new LatentShape(4, 4, 512), DecoderHead.GAUSSIAN)
                .withCodebook(new CodebookTraining(0.99, 0, 0, 10)).toJson();
        ((ObjectNode) json.get(VqVaeSpec.CODEBOOK_TRAINING)).put("ema_decay", 1.5);
        assertThatThrownBy(() -> VqVaeSpec.fromJson(json, FILE)).isInstanceOf(FormatException.class)
                .hasMessageContaining("config.json").hasMessageContaining("architecture.codebook_training")
                .hasMessageContaining("1.5");
        assertThatThrownBy(() -> new CodebookTraining(0.5, -1, 0, 1)).isInstanceOf(InvalidArgumentException.class)
                .hasMessageContaining("deadCodeSteps").hasMessageContaining("-1");
        assertThatThrownBy(() -> new CodebookTraining(0, 0, 3, 0)).isInstanceOf(InvalidArgumentException.class)
                .hasMessageContaining("kmeansBatches").hasMessageContaining("0");
    }

    @Test
    void invalidJsonNamesTheField() {
        var json = VqVaeSpec.defaults(ImageShape.MNIST, new LatentShape(7, 7, 512), DecoderHead.GAUSSIAN).toJson();
        json.putArray("channels").add(32);
        assertThatThrownBy(() -> VqVaeSpec.fromJson(json, FILE)).isInstanceOf(FormatException.class)
                .hasMessageContaining("config.json").hasMessageContaining("takes 2");
        var prior = PriorSpec.defaults(new LatentShape(4, 4, 16), 10).toJson();
        prior.put("type", "transformer");
        assertThatThrownBy(() -> PriorSpec.fromJson(prior, FILE)).hasMessageContaining("architecture.type")
                .hasMessageContaining("transformer");
    }
}
