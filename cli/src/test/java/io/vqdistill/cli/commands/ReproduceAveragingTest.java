package io.vqdistill.cli.commands;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import io.vqdistill.cli.render.Charts;
import io.vqdistill.cli.render.CsvTable;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The curves of independently trained models averaged for Figures 1 and 2: row by row the mean of
 * the parameters and of the bits per dimension with their sample standard deviation, cut to the
 * shortest table; one table passes unchanged, without deviations.
 */
class ReproduceAveragingTest {
    @Test
    void rowsAreAveragedWithTheSampleStandardDeviation() {
        CsvTable a = CsvTable.of("label", "parameters", "bpd").with("K=4", 100L, 5.0).with("K=4", 200L, 4.0)
                .with("K=4", 400L, 3.0);
        CsvTable b = CsvTable.of("label", "parameters", "bpd").with("K=4", 100L, 6.0).with("K=4", 202L, 4.5);
        CsvTable c = CsvTable.of("parameters", "bpd").with(100L, 7.0).with(204L, 5.0);
        Charts.Curve m = ReproduceCommand.averaged("ExM", List.of(a, b, c), false);
        assertThat(m.name()).isEqualTo("ExM (mean ± std of 3)");
        assertThat(m.parameters()).containsExactly(100.0, 202.0);
        assertThat(m.bpd()[0]).isCloseTo(6.0, within(1e-12));
        assertThat(m.std()[0]).as("sqrt((1 + 0 + 1) / 2)").isCloseTo(1.0, within(1e-12));
        assertThat(m.bpd()[1]).isCloseTo(4.5, within(1e-12));
        assertThat(m.std()[1]).as("sqrt((0.25 + 0 + 0.25) / 2)").isCloseTo(0.5, within(1e-12));
        assertThat(m.labels()).containsExactly("K=4", "K=4");
        assertThat(m.line()).isFalse();

        Charts.Curve one = ReproduceCommand.averaged("DMRS 2x2", List.of(a), true);
        assertThat(one.name()).isEqualTo("DMRS 2x2");
        assertThat(one.bpd()).containsExactly(5.0, 4.0, 3.0);
        assertThat(one.std()).isNull();
    }
}
