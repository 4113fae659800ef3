package io.vqdistill.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.vqdistill.cli.CliFixtures.Run;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code reproduce --scale tiny} on striped MNIST-format data: it trains every network, runs every
 * experiment and writes every figure as a readable PNG with a CSV holding data rows, and a summary;
 * run again it reuses what exists and takes a curve dropped into {@code curves/} into Figure 2; a
 * folder of another scale is refused.
 */
class ReproduceCommandTest {
    private static final List<String> FIGURES = List.of("figure2-bpd", "figure3-inpainting", "figure5-classes",
            "figure6-corner");

    @TempDir
    Path dir;

    @Test
    void aTinyRunWritesEveryFigureWithItsDataAndResumes() throws IOException {
        Path data = dir.resolve("data");
        CliFixtures.writeStripedMnist(data);
        Path out = dir.resolve("repro");
        String[] args = {"reproduce", "--scale", "tiny", "--dir", out.toString(), "--data", data.toString()};

        Run first = CliFixtures.execute(args);
        assertThat(first.status()).as("stderr %s", first.err()).isZero();
        assertThat(first.out()).contains("[1/7 ").contains("[7/7 ").contains("reproduce done in");
        for (String f : FIGURES) {
            BufferedImage png = ImageIO.read(out.resolve("figures/" + f + ".png").toFile());
            assertThat(png).as(f + ".png").isNotNull();
            assertThat(png.getWidth()).as(f + ".png width").isGreaterThan(100);
            List<String> csv = Files.readAllLines(out.resolve("figures/" + f + ".csv"));
            assertThat(csv).as(f + ".csv: a header and data rows").hasSizeGreaterThan(1);
        }
        assertThat(Files.readAllLines(out.resolve("figures/figure2-bpd.csv")))
                .anyMatch(l -> l.startsWith("DMBS 4x4,")).anyMatch(l -> l.startsWith("DMRS 2x2,"))
                .anyMatch(l -> l.startsWith("ExM 2x2,") && l.endsWith(",K=4"));
        assertThat(Files.readAllLines(out.resolve("figures/figure6-corner.csv")))
                .as("4 components at 20 images for each of the two mixtures").hasSize(1 + 2 * 4 * 20);
        String summary = Files.readString(out.resolve("summary.md"));
        assertThat(summary).contains("## Figure 2", "## Figure 3", "## Figure 5", "## Figure 6",
                "missing curves: continuous mixtures (CM), EinsumNetworks (EiNet)");

        Files.writeString(out.resolve("curves/cm-test.csv"), "parameters,bpd\n1000,9.5\n2000,9.25\n");
        Run second = CliFixtures.execute(args);
        assertThat(second.status()).as("stderr %s", second.err()).isZero();
        assertThat(second.out()).contains("already holds the finished run")
                .contains("reusing " + out.resolve("sweeps/dmbs-4x4/sweep.csv"))
                .contains("reusing the circuit in " + out.resolve("circuits/dmrs-4x4"));
        assertThat(Files.readAllLines(out.resolve("figures/figure2-bpd.csv")))
                .contains("cm-test,2000,9.250000,");
        assertThat(Files.readString(out.resolve("summary.md"))).contains("missing curves: EinsumNetworks (EiNet)")
                .doesNotContain("continuous mixtures (CM)");

        Run other = CliFixtures.execute("reproduce", "--scale", "small", "--dir", out.toString(), "--data",
                data.toString());
        assertThat(other.status()).isEqualTo(2);
        assertThat(other.err()).startsWith("error: --dir " + out + " holds a reproduction at scale 'tiny', not 'small'");
        CliFixtures.assertNoStackTrace(other);
    }
}
