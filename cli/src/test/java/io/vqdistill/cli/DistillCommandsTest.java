package io.vqdistill.cli;

import static io.vqdistill.cli.CliFixtures.run;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import io.vqdistill.circuits.io.CircuitFiles;
import io.vqdistill.distill.eval.Sweep;
import io.vqdistill.formats.SafeTensors;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * distill and sweep end to end on a tiny VQ-VAE (2x2 grid, K = 4) and prior trained in the test on
 * synthetic images, through the backend's ModelLoader.
 */
class DistillCommandsTest {
    @TempDir
    static Path dir;

    static Path data;
    static Path vq;
    static Path prior;

    /** MNIST-format files (the split holds out 10,000 of the training images) and two tiny networks. */
    @BeforeAll
    static void train() throws IOException {
        data = dir.resolve("mnist");
        CliFixtures.writeStripedMnist(data);
        vq = dir.resolve("vq");
        prior = dir.resolve("prior");
        run("train", "vqvae", "--backend", "djl", "--data", data.toString(), "--limit", "40", "--out", vq.toString(),
                "--grid", "2", "--codebook", "4", "--dim", "2", "--channels", "2,2,2,2", "--res-blocks", "0",
                "--epochs", "1", "--batch", "8");
        run("train", "prior", "--backend", "djl", "--data", data.toString(), "--limit", "40", "--vqvae", vq.toString(),
                "--out", prior.toString(), "--layers", "2", "--channels", "4", "--head-hidden", "8", "--epochs", "1",
                "--batch", "8");
    }

    @Test
    void distilsWithEverySearchAndWeightingAndSavesTheCircuit() {
        String[][] cases = {{"beam", "uniform"}, {"random", "prior"}, {"top", "uniform"}, {"exhaustive", "em"}};
        for (String[] c : cases) {
            Path out = dir.resolve("circuit-" + c[0]);
            List<String> args = new java.util.ArrayList<>(List.of("distill", "--backend", "djl", "--vqvae",
                    vq.toString(), "--prior", prior.toString(), "--search", c[0], "--components", "8", "--weights",
                    c[1], "--out", out.toString()));
            if (c[1].equals("em")) {
                args.addAll(List.of("--data", data.toString(), "--limit", "40", "--em-images", "20",
                        "--em-iterations", "3"));
            }
            String printed = run(args.toArray(String[]::new));
            assertThat(printed).as(c[0]).containsPattern("search " + c[0] + ": 8 grids \\(8 distinct\\) of .* in "
                    + "\\d+\\.\\d\\d s").containsPattern("distillation \\(" + c[1] + " weights\\): 8 components, .* in "
                    + "\\d+\\.\\d\\d s");
            assertThat(out.resolve(CircuitFiles.JSON)).exists();
            assertThat(out.resolve(CircuitFiles.TENSORS)).exists();
            Map<String, String> provenance = CircuitFiles.provenance(out);
            assertThat(provenance).containsEntry("search", c[0]).containsEntry("distill.components", "8")
                    .containsEntry("distill.weighting", c[1]).containsEntry("seed", "1");
        }
        String evaluated = run("evaluate", "--backend", "djl", "--circuit", dir.resolve("circuit-beam").toString(),
                "--data", data.toString());
        assertThat(evaluated).containsPattern("test BPD \\d+\\.\\d{4} bits/dim on 20 test images");
    }

    @Test
    void deterministicBeamVarianceFloorAndValidationImages() {
        Path[] outs = {dir.resolve("det-1"), dir.resolve("det-2"), dir.resolve("det-floor")};
        String[] seeds = {"1", "2", "1"};
        for (int i = 0; i < outs.length; i++) {
            List<String> args = new java.util.ArrayList<>(List.of("distill", "--backend", "djl", "--vqvae",
                    vq.toString(), "--prior", prior.toString(), "--search", "beam", "--deterministic", "--components",
                    "6", "--seed", seeds[i], "--out", outs[i].toString()));
            if (i == 2) {
                args.addAll(List.of("--min-std", "0.2"));
            }
            run(args.toArray(String[]::new));
        }
        assertThat(io.vqdistill.formats.SafeTensors.read(outs[1].resolve(CircuitFiles.TENSORS)).get("latents").toInts())
                .as("the deterministic beam ignores the seed")
                .containsExactly(io.vqdistill.formats.SafeTensors.read(outs[0].resolve(CircuitFiles.TENSORS))
                        .get("latents").toInts());
        assertThat(CircuitFiles.provenance(outs[2])).containsEntry("min_std", "0.2");
        float[] logVar = io.vqdistill.formats.SafeTensors.read(outs[2].resolve(CircuitFiles.TENSORS)).get("log_var")
                .toFloats();
        for (float v : logVar) {
            assertThat((double) v).isGreaterThanOrEqualTo(2 * Math.log(0.2) - 1e-6);
        }
        String plain = run("evaluate", "--backend", "djl", "--circuit", outs[0].toString(), "--data", data.toString(),
                "--images", "validation", "--limit", "8");
        assertThat(plain).containsPattern("validation BPD \\d+\\.\\d{4} bits/dim on 8 validation images");
        CliFixtures.Run bad = CliFixtures.execute("evaluate", "--backend", "djl", "--circuit", outs[0].toString(), "--data",
                data.toString(), "--images", "train");
        assertThat(bad.status()).isEqualTo(2);
        assertThat(bad.err()).contains("--images must be test or validation, found 'train'");
    }

    @Test
    void tuneFitsTheDecoderForADistilledCircuitAndRebuildsItWithTheSameGridsAndWeights() {
        Path distilled = dir.resolve("tune-from");
        run("distill", "--backend", "djl", "--vqvae", vq.toString(), "--prior", prior.toString(), "--search", "beam",
                "--components", "6", "--weights", "prior", "--out", distilled.toString());
        Path tuned = dir.resolve("tuned-vq");
        Path rebuilt = dir.resolve("tuned-circuit");
        String printed = run("tune", "--backend", "tensorflow", "--vqvae", vq.toString(), "--circuit",
                distilled.toString(), "--data", data.toString(), "--limit", "40", "--candidates", "2", "--lr", "1e-2",
                "--epochs", "2", "--batch", "8", "--out", tuned.toString(), "--circuit-out", rebuilt.toString());
        assertThat(printed).contains("checkpoint " + tuned + ": 2 epochs", "test_bpd",
                "rebuilt the mixture with the tuned decoder");
        SafeTensors before = SafeTensors.read(distilled.resolve(CircuitFiles.TENSORS));
        SafeTensors after = SafeTensors.read(rebuilt.resolve(CircuitFiles.TENSORS));
        assertThat(after.get("latents").toInts()).containsExactly(before.get("latents").toInts());
        assertThat(after.get("log_weights").toDoubles()).containsExactly(before.get("log_weights").toDoubles(),
                within(1e-6));
        assertThat(after.get("mean").toDoubles()).isNotEqualTo(before.get("mean").toDoubles());
        assertThat(CircuitFiles.provenance(rebuilt)).containsEntry("vqvae", tuned.toAbsolutePath().toString())
                .containsEntry("tune.source_vqvae", vq.toAbsolutePath().toString())
                .containsEntry("tune.candidates", "2").containsEntry("search", "beam");
        String evaluated = run("evaluate", "--backend", "djl", "--circuit", rebuilt.toString(), "--data",
                data.toString(), "--limit", "8");
        assertThat(bpd(evaluated, "test")).isBetween(0.0, 16.0);

        CliFixtures.Run bad = CliFixtures.execute("tune", "--backend", "tensorflow", "--vqvae", vq.toString(),
                "--circuit", distilled.toString(), "--data", data.toString(), "--limit", "40", "--candidates", "7",
                "--out", dir.resolve("never").toString());
        assertThat(bad.status()).isEqualTo(2);
        assertThat(bad.err()).contains("candidates", "7", "the 6 components").doesNotContain("Exception");
        bad = CliFixtures.execute("tune", "--vqvae", vq.toString(), "--circuit", distilled.toString(), "--candidates",
                "0", "--out", dir.resolve("never").toString());
        assertThat(bad.status()).isEqualTo(2);
        assertThat(bad.err()).contains("--candidates");
        bad = CliFixtures.execute("tune", "--vqvae", prior.toString(), "--circuit", distilled.toString(), "--out",
                dir.resolve("never").toString());
        assertThat(bad.status()).isEqualTo(2);
        assertThat(bad.err()).contains(prior.toString());
        assertThat(dir.resolve("never")).doesNotExist();
    }

    private static double bpd(String printed, String label) {
        Matcher m = Pattern.compile(label + " BPD (\\d+\\.\\d{4}) bits/dim").matcher(printed);
        assertThat(m.find()).as(printed).isTrue();
        return Double.parseDouble(m.group(1));
    }

    @Test
    void precisionAndUnscoredSearchesReachTheirCommands() {
        Path out = dir.resolve("unscored");
        run("distill", "--backend", "djl", "--vqvae", vq.toString(), "--prior", prior.toString(), "--search",
                "random", "--components", "6", "--no-scores", "--out", out.toString());
        double[] scores = SafeTensors.read(out.resolve(CircuitFiles.TENSORS)).get("latent_log_probs").toDoubles();
        assertThat(Arrays.stream(scores).allMatch(Double::isNaN)).as("--no-scores leaves log p(z) unknown").isTrue();
        String fast = run("evaluate", "--backend", "djl", "--circuit", out.toString(), "--data", data.toString());
        String precise = run("evaluate", "--backend", "djl", "--circuit", out.toString(), "--data", data.toString(),
                "--precision", "double");
        assertThat(fast).contains("fast precision");
        assertThat(precise).contains("double precision");
        assertThat(bpd(precise, "test")).isCloseTo(bpd(fast, "test"), within(2e-4));

        CliFixtures.Run bad = CliFixtures.execute("evaluate", "--circuit", out.toString(), "--data", data.toString(),
                "--precision", "half");
        assertThat(bad.status()).isEqualTo(2);
        assertThat(bad.err()).contains("unknown --precision 'half'; known: fast, double");
        bad = CliFixtures.execute("distill", "--vqvae", vq.toString(), "--prior", prior.toString(), "--search",
                "random", "--components", "6", "--no-scores", "--weights", "prior", "--out",
                dir.resolve("never").toString());
        assertThat(bad.status()).isEqualTo(2);
        assertThat(bad.err()).contains("--no-scores leaves the grids' prior probabilities unknown, but --weights"
                + " prior weighs the components by them");
        bad = CliFixtures.execute("distill", "--vqvae", vq.toString(), "--prior", prior.toString(), "--search",
                "random", "--components", "6", "--precision", "double", "--out", dir.resolve("never").toString());
        assertThat(bad.status()).isEqualTo(2);
        assertThat(bad.err()).contains("--precision applies only to --weights em");
        assertThat(dir.resolve("never")).doesNotExist();

        String em = run("distill", "--backend", "djl", "--vqvae", vq.toString(), "--prior", prior.toString(),
                "--search", "top", "--components", "6", "--no-scores", "--weights", "em", "--precision", "double",
                "--data", data.toString(), "--limit", "40", "--em-images", "10", "--em-iterations", "2", "--out",
                dir.resolve("em-double").toString());
        assertThat(em).contains("distillation (em weights): 6 components");
        String swept = run("sweep", "--backend", "djl", "--vqvae", vq.toString(), "--prior", prior.toString(),
                "--search", "beam", "--no-scores", "--precision", "double", "--max-exponent", "1", "--data",
                data.toString(), "--limit", "5", "--out", dir.resolve("sweep-double").toString());
        assertThat(swept).contains("N =      2:");
    }

    @Test
    void exactContinuesFromItsStateAndRefusesAStateOfOtherOptions() throws IOException {
        Path state = dir.resolve("exact/state.safetensors");
        String first = run("exact", "--backend", "djl", "--vqvae", vq.toString(), "--prior", prior.toString(),
                "--data", data.toString(), "--limit", "10", "--chunk", "64", "--state", state.toString());
        assertThat(first).contains("exact model: 256 grids of 2x2 K=4 on 10 test images, chunks of 64, fast precision,"
                + " on djl");
        assertThat(state).exists();
        String again = run("exact", "--backend", "djl", "--vqvae", vq.toString(), "--prior", prior.toString(),
                "--data", data.toString(), "--limit", "10", "--chunk", "64", "--state", state.toString());
        assertThat(again).contains("continuing from " + state + ": 256 of 256 grids summed");
        assertThat(bpd(again, "ExM test")).isEqualTo(bpd(first, "ExM test"));
        String plain = run("exact", "--backend", "djl", "--vqvae", vq.toString(), "--prior", prior.toString(),
                "--data", data.toString(), "--limit", "10", "--chunk", "64", "--precision", "double");
        assertThat(bpd(plain, "ExM test")).isCloseTo(bpd(first, "ExM test"), within(2e-4));

        CliFixtures.Run bad = CliFixtures.execute("exact", "--backend", "djl", "--vqvae", vq.toString(), "--prior",
                prior.toString(), "--data", data.toString(), "--limit", "10", "--chunk", "32", "--state",
                state.toString());
        assertThat(bad.status()).isEqualTo(2);
        assertThat(bad.err()).contains("error: the exact-model state " + state + " was made with chunk = 64, but"
                + " this run has chunk = 32").doesNotContain("Exception");
        bad = CliFixtures.execute("exact", "--backend", "djl", "--vqvae", vq.toString(), "--prior", prior.toString(),
                "--data", data.toString(), "--limit", "8", "--chunk", "64", "--state", state.toString());
        assertThat(bad.status()).isEqualTo(2);
        assertThat(bad.err()).contains("was made with images = 10 images of");
        bad = CliFixtures.execute("exact", "--vqvae", vq.toString(), "--prior", prior.toString(), "--data",
                data.toString(), "--state", dir.toString());
        assertThat(bad.status()).isEqualTo(2);
        assertThat(bad.err()).contains("--state " + dir + " is a folder, not a file");
    }

    @Test
    void searchFlagsReachTheSearchAreRecordedAndKeepEveryPrefixFair() {
        String[][] cases = {{"per-class", "2", "3"}, {"class-marginal", "1", "4"}};
        for (String[] c : cases) {
            Path out = dir.resolve("tuned-" + c[0]);
            String printed = run("distill", "--backend", "djl", "--vqvae", vq.toString(), "--prior", prior.toString(),
                    "--search", "beam", "--deterministic", "--beam-scoring", c[0], "--beam-starts", c[1],
                    "--beam-width", c[2], "--components", "20", "--out", out.toString());
            assertThat(printed).contains("search beam: 20 grids (20 distinct)");
            assertThat(CircuitFiles.provenance(out)).containsEntry("beam_scoring", c[0])
                    .containsEntry("beam_starts", c[1]).containsEntry("beam_width", c[2])
                    .containsEntry("stochastic", "false").doesNotContainKey("random_classes");
            int[] classes = SafeTensors.read(out.resolve(CircuitFiles.TENSORS)).get("classes").toInts();
            int[] counts = new int[10];
            for (int i = 0; i < classes.length; i++) {
                counts[classes[i]]++;
                int max = Arrays.stream(counts).max().orElseThrow();
                int min = Arrays.stream(counts).min().orElseThrow();
                assertThat(max - min).as("%s: class counts %s after %d grids", c[0], Arrays.toString(counts), i + 1)
                        .isLessThanOrEqualTo(1);
            }
        }
        Path random = dir.resolve("tuned-random");
        run("distill", "--backend", "djl", "--vqvae", vq.toString(), "--prior", prior.toString(), "--search", "random",
                "--random-classes", "prior", "--components", "4", "--out", random.toString());
        assertThat(CircuitFiles.provenance(random)).containsEntry("random_classes", "prior")
                .doesNotContainKey("beam_starts");
        Path top = dir.resolve("tuned-top");
        run("distill", "--backend", "djl", "--vqvae", vq.toString(), "--prior", prior.toString(), "--search", "top",
                "--top-width-factor", "3", "--components", "4", "--out", top.toString());
        assertThat(CircuitFiles.provenance(top)).containsEntry("top_width_factor", "3");
    }

    @Test
    void sweepWritesCsvAndPlot() throws IOException {
        Path out = dir.resolve("sweep");
        String printed = run("sweep", "--backend", "djl", "--vqvae", vq.toString(), "--prior", prior.toString(),
                "--search", "beam", "--beam-starts", "1", "--beam-scoring", "class-marginal", "--max-exponent", "3",
                "--data", data.toString(), "--limit", "10", "--reference", "ExM K=4=5.5", "--out", out.toString());
        assertThat(printed).contains("sweep of beam over N = 2^0 .. 2^3 on 10 test images").contains("N =      8:");
        List<String> csv = Files.readAllLines(out.resolve("sweep.csv"));
        assertThat(csv).hasSize(5);
        assertThat(csv.get(0)).isEqualTo(Sweep.CSV_HEADER);
        assertThat(csv.get(4)).startsWith("beam,8,8,");
        BufferedImage png = ImageIO.read(out.resolve("sweep.png").toFile());
        assertThat(png.getWidth()).isEqualTo(800);
    }

    @Test
    void aSweepOfADataGuidedSearchMeasuresAtEveryNTheMixtureDistillAndEvaluateGive() throws IOException {
        // the one-epoch VQ-VAE above gives every training image the same grid; this one gives the 40 images 6
        Path vq = dir.resolve("vq-encoded");
        Path prior = dir.resolve("prior-encoded");
        run("train", "vqvae", "--backend", "djl", "--data", data.toString(), "--limit", "40", "--out", vq.toString(),
                "--grid", "2", "--codebook", "4", "--dim", "2", "--channels", "4,4,4,4", "--res-blocks", "0",
                "--epochs", "3", "--batch", "8");
        run("train", "prior", "--backend", "djl", "--data", data.toString(), "--limit", "40", "--vqvae", vq.toString(),
                "--out", prior.toString(), "--layers", "2", "--channels", "4", "--head-hidden", "8", "--epochs", "1",
                "--batch", "8");
        String[][] cases = {{"encoded", "1"}, {"encoded-sampled", "3"}};
        for (String[] c : cases) {
            Path out = dir.resolve("sweep-" + c[0]);
            String printed = run("sweep", "--backend", "djl", "--vqvae", vq.toString(), "--prior", prior.toString(),
                    "--search", c[0], "--seed", c[1], "--max-exponent", "2", "--data", data.toString(), "--limit",
                    "10", "--out", out.toString());
            assertThat(printed).contains("sweep of " + c[0] + " over N = 2^0 .. 2^2 on 10 test images, the grids of 40"
                    + " training images searched");
            List<String> csv = Files.readAllLines(out.resolve("sweep.csv"));
            assertThat(csv).hasSize(4);
            for (int e = 0; e <= 2; e++) {
                int n = 1 << e;
                String[] row = csv.get(e + 1).split(",");
                assertThat(Arrays.copyOf(row, 3)).as("%s row %d", c[0], e)
                        .containsExactly(c[0], Integer.toString(n), Integer.toString(n));
                Path circuit = dir.resolve("distilled-" + c[0] + "-" + n);
                run("distill", "--backend", "djl", "--vqvae", vq.toString(), "--prior", prior.toString(), "--search",
                        c[0], "--seed", c[1], "--components", Integer.toString(n), "--data", data.toString(), "--out",
                        circuit.toString());
                double evaluated = bpd(run("evaluate", "--backend", "djl", "--circuit", circuit.toString(), "--data",
                        data.toString(), "--limit", "10"), "test");
                assertThat(Double.parseDouble(row[4])).as("%s N = %d: the sweep against distill + evaluate", c[0], n)
                        .isCloseTo(evaluated, within(1e-4));
            }
        }
        CliFixtures.Run bad = CliFixtures.execute("sweep", "--backend", "djl", "--vqvae", vq.toString(), "--prior",
                prior.toString(), "--search", "encoded", "--max-exponent", "8", "--data", data.toString(), "--limit",
                "10", "--out", dir.resolve("sweep-too-many").toString());
        assertThat(bad.status()).isEqualTo(2);
        assertThat(bad.err()).contains("training images, fewer than the 256 asked for");
        CliFixtures.assertNoStackTrace(bad);
        assertThat(dir.resolve("sweep-too-many")).doesNotExist();
    }
}
