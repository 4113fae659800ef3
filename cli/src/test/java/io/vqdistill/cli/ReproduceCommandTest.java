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
 * {@code reproduce --scale tiny} on striped MNIST-format data: it trains every network (two seeds of
 * the 2x2 models, the categorical 4x4 models, the continuous-mixture and Einsum-network baselines
 * with both leaf families), runs every experiment and writes Figures 1, 2, 3, 5, 6, 7 and 8 each as
 * a readable PNG with a CSV holding data rows, and a summary; run again it reuses what exists and
 * takes a curve dropped into {@code curves/} into Figure 2; a folder of another scale is refused.
 */
class ReproduceCommandTest {
    private static final List<String> FIGURES = List.of("figure1-cdf", "figure2-bpd", "figure3-inpainting",
            "figure5-classes", "figure6-corner", "figure7-bpd", "figure8-inpainting");

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
        assertThat(first.out()).contains("[1/9 ").contains("[9/9 ").contains("reproduce done in");
        for (String f : FIGURES) {
            BufferedImage png = ImageIO.read(out.resolve("figures/" + f + ".png").toFile());
            assertThat(png).as(f + ".png").isNotNull();
            assertThat(png.getWidth()).as(f + ".png width").isGreaterThan(100);
            List<String> csv = Files.readAllLines(out.resolve("figures/" + f + ".csv"));
            assertThat(csv).as(f + ".csv: a header and data rows").hasSizeGreaterThan(1);
        }
        assertThat(Files.readAllLines(out.resolve("figures/figure2-bpd.csv")))
                .as("one seed at 4x4; two at 2x2, averaged with a standard deviation; the Gaussian baselines")
                .anyMatch(l -> l.startsWith("DMBS 4x4,") && l.matches(".*,[0-9.]+,,$"))
                .anyMatch(l -> l.startsWith("DMRS 2x2 (mean ± std of 2),") && l.matches(".*,[0-9.]+,[0-9.]+,$"))
                .anyMatch(l -> l.startsWith("ExM 2x2 (mean ± std of 2),") && l.endsWith(",K=4"))
                .anyMatch(l -> l.startsWith("cm-gaussian,") && l.endsWith(",M=4"))
                .anyMatch(l -> l.startsWith("einet-gaussian,"))
                .noneMatch(l -> l.contains("categorical"));
        assertThat(Files.readAllLines(out.resolve("figures/figure7-bpd.csv"))).as("the categorical curves")
                .anyMatch(l -> l.startsWith("DMBS 4x4 categorical,")).anyMatch(l -> l.startsWith("DMRS 4x4 categorical,"))
                .anyMatch(l -> l.startsWith("cm-categorical,")).anyMatch(l -> l.startsWith("einet-categorical,"));
        assertThat(Files.readString(out.resolve("figures/figure3-inpainting.csv")))
                .contains(",cm-gaussian,", ",einet-gaussian,", ",dmbs-4x4,").doesNotContain("categorical");
        assertThat(Files.readString(out.resolve("figures/figure8-inpainting.csv")))
                .contains(",cm-categorical,", ",einet-categorical,", ",dmrs-4x4-categorical,");
        List<String> cdf = Files.readAllLines(out.resolve("figures/figure1-cdf.csv"));
        assertThat(cdf.get(0)).isEqualTo("grid_fraction,pixelcnn_mean,pixelcnn_std,uniform");
        assertThat(cdf.get(1)).as("F(0) = 0").startsWith("0.000000,0.000000,");
        assertThat(cdf.get(cdf.size() - 1)).as("all 4^4 grids hold all the mass").startsWith("1.000000,1.000000,");
        assertThat(Files.readAllLines(out.resolve("figures/figure1-levels.csv"))).as("two priors and their mean at"
                + " 90% and 99%").hasSize(1 + 2 * 3).anyMatch(l -> l.startsWith("0.900000,prior-2x2-seed2,"));
        assertThat(Files.readAllLines(out.resolve("figures/figure6-corner.csv")))
                .as("4 components at 20 images for each of the two mixtures").hasSize(1 + 2 * 4 * 20);
        String summary = Files.readString(out.resolve("summary.md"));
        assertThat(summary).contains("## Figure 1", "## Figure 2", "## Figure 3", "## Figure 5", "## Figure 6",
                "## Figure 7", "## Figure 8").doesNotContain("missing curves");

        Files.writeString(out.resolve("curves/other-test.csv"), "parameters,bpd\n1000,9.5\n2000,9.25\n");
        Run second = CliFixtures.execute(args);
        assertThat(second.status()).as("stderr %s", second.err()).isZero();
        assertThat(second.out()).contains("already holds the finished run")
                .contains("reusing " + out.resolve("sweeps/dmbs-4x4/sweep.csv"))
                .contains("reusing " + out.resolve("sweeps/dmrs-2x2-seed2/sweep.csv"))
                .contains("reusing " + out.resolve("exact/exact-2x2-seed2.csv"))
                .contains("reusing " + out.resolve("enumeration/prior-2x2-seed2.csv"))
                .contains("reusing " + out.resolve("curves/cm-categorical.csv"))
                .contains("reusing " + out.resolve("curves/einet-gaussian.csv"))
                .contains("reusing the circuit in " + out.resolve("circuits/dmrs-4x4-categorical"))
                .doesNotContain("compiled a continuous mixture");
        assertThat(Files.readAllLines(out.resolve("figures/figure2-bpd.csv")))
                .contains("other-test,2000,9.250000,,");

        Run other = CliFixtures.execute("reproduce", "--scale", "small", "--dir", out.toString(), "--data",
                data.toString());
        assertThat(other.status()).isEqualTo(2);
        assertThat(other.err()).startsWith("error: --dir " + out + " holds a reproduction at scale 'tiny', not 'small'");
        CliFixtures.assertNoStackTrace(other);
    }
}
