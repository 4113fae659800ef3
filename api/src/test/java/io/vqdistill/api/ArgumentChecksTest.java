package io.vqdistill.api;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.vqdistill.api.model.ImageShape;
import io.vqdistill.api.model.LatentShape;
import io.vqdistill.api.search.LatentSet;
import io.vqdistill.api.search.SearchOptions;
import io.vqdistill.api.search.SearchRequest;
import io.vqdistill.api.spi.BackendOptions;
import org.junit.jupiter.api.Test;

/** The api's value types reject bad arguments with an InvalidArgumentException naming the argument. */
class ArgumentChecksTest {
    @Test
    void invalidArgumentExceptionNamesArgumentConstraintAndValue() {
        InvalidArgumentException e = InvalidArgumentException.of("--count", 0, ">= 1");
        assertThat(e).isInstanceOf(VqdistillException.class).hasMessage("--count must be >= 1, got 0");
        Throwable cause = new NumberFormatException("x");
        assertThat(new InvalidArgumentException("bad", cause)).hasMessage("bad").hasCause(cause);
    }

    @Test
    void shapesMustBePositive() {
        assertThat(new LatentShape(2, 3, 4).positions()).isEqualTo(6);
        assertThatThrownBy(() -> new LatentShape(0, 3, 4)).isInstanceOf(InvalidArgumentException.class)
                .hasMessage("latent grid must be at least 1x1, found 0x3");
        assertThatThrownBy(() -> new LatentShape(2, 3, 0)).isInstanceOf(InvalidArgumentException.class)
                .hasMessage("codebookSize must be >= 1, found 0");
        assertThat(new ImageShape(1, 2, 3).pixels()).isEqualTo(6);
        assertThatThrownBy(() -> new ImageShape(1, -2, 3)).isInstanceOf(InvalidArgumentException.class)
                .hasMessage("image shape must be positive, found 1x-2x3");
    }

    @Test
    void devicesAndBackendOptionsNameTheBadSetting() {
        assertThat(Device.parse(" GPU:2 ")).isEqualTo(Device.gpu(2));
        assertThat(Device.parse("cpu")).isEqualTo(Device.CPU);
        assertThatThrownBy(() -> Device.parse("gpu:x")).isInstanceOf(InvalidArgumentException.class)
                .hasMessage("device must be cpu, gpu or gpu:N, found 'gpu:x'")
                .hasCauseInstanceOf(NumberFormatException.class);
        assertThatThrownBy(() -> Device.parse("tpu")).isInstanceOf(InvalidArgumentException.class)
                .hasMessage("device must be cpu, gpu or gpu:N, found 'tpu'");
        assertThatThrownBy(() -> Device.gpu(-1)).isInstanceOf(InvalidArgumentException.class)
                .hasMessage("device index must be >= 0, found -1");
        assertThat(new BackendOptions("GPU:1", 4).device()).isEqualTo("gpu:1");
        assertThatThrownBy(() -> new BackendOptions("tpu", 0)).isInstanceOf(InvalidArgumentException.class)
                .hasMessage("device must be auto, cpu, gpu or gpu:N, found 'tpu'");
        assertThatThrownBy(() -> new BackendOptions("cpu", -1)).isInstanceOf(InvalidArgumentException.class)
                .hasMessage("threads must be >= 0, found -1");
    }

    @Test
    void searchRequestsAndOptionsNameTheBadSetting() {
        assertThatThrownBy(() -> SearchRequest.of(0, 1)).isInstanceOf(InvalidArgumentException.class)
                .hasMessage("count must be >= 1, found 0");
        assertThatThrownBy(() -> SearchOptions.defaults().withSamplingBatch(0))
                .isInstanceOf(InvalidArgumentException.class).hasMessage("samplingBatch must be >= 1, found 0");
    }

    @Test
    void latentSetsMustDescribeWholeGridsOfValidCodes() {
        LatentShape shape = new LatentShape(1, 2, 3);
        LatentSet set = new LatentSet(shape, new int[] {0, 1, 2, 2}, new int[] {-1, 4}, new double[] {-1, -2});
        assertThat(set.prefix(1).codes()).containsExactly(0, 1);
        assertThatThrownBy(() -> new LatentSet(shape, new int[] {0, 1, 2}, new int[] {-1, 4}, new double[] {-1, -2}))
                .isInstanceOf(InvalidArgumentException.class)
                .hasMessage("latent set: 2 classes, 2 scores and 3 codes do not describe N grids of 2 positions");
        assertThatThrownBy(() -> new LatentSet(shape, new int[] {0, 3}, new int[] {0}, new double[] {0}))
                .isInstanceOf(InvalidArgumentException.class)
                .hasMessage("latent set: code 3 at grid 0 position 1 is outside [0, 3)");
        assertThatThrownBy(() -> set.prefix(3)).isInstanceOf(InvalidArgumentException.class)
                .hasMessage("prefix length must be in [0, 2], found 3");
    }
}
