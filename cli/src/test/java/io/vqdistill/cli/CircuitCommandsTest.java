package io.vqdistill.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.vqdistill.api.Backend;
import io.vqdistill.api.BackendSelector;
import io.vqdistill.api.InvalidArgumentException;
import io.vqdistill.api.spi.BackendOptions;
import io.vqdistill.circuits.LeafFamilies;
import io.vqdistill.circuits.ShallowMixture;
import io.vqdistill.circuits.io.CircuitFiles;
import io.vqdistill.cli.CliFixtures.Run;
import io.vqdistill.cli.options.Flags;
import io.vqdistill.cli.render.LinePlot;
import io.vqdistill.distill.eval.Evaluator;
import io.vqdistill.distill.eval.PixelEncoding;
import io.vqdistill.distill.pipeline.CircuitEvaluation;
import io.vqdistill.distill.pipeline.Inpainting;
import io.vqdistill.distill.pipeline.Sampling;
import io.vqdistill.formats.AtomicFolder;
import io.vqdistill.models.data.Mnist;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.knowm.xchart.XYChart;

/**
 * evaluate, sample and inpaint on a tiny Gaussian mixture written in the test, and the bad inputs
 * of distill, evaluate and sweep, which fail with exit status 2 before any model is loaded.
 */
class CircuitCommandsTest {
    private static final int S = 784;

    @TempDir
    static Path dir;

    static Path data;
    static Path circuit;
    static Backend backend;

    /** Five synthetic test images (horizontal bars) and a 3-component Gaussian mixture. */
    @BeforeAll
    static void setUp() throws IOException {
        data = dir.resolve("mnist");
        Files.createDirectories(data);
        writeSet(data, Mnist.TRAIN_IMAGES, Mnist.TRAIN_LABELS, 10);
        writeSet(data, Mnist.TEST_IMAGES, Mnist.TEST_LABELS, 5);
        backend = BackendSelector.discover().select("djl", new BackendOptions("cpu", 0));
        float[] mean = new float[3 * S];
        float[] logVar = new float[3 * S];
        for (int n = 0; n < 3; n++) {
            for (int p = 0; p < S; p++) {
                mean[n * S + p] = (p / 28) % 3 == n ? 0.8f : 0.05f;
                logVar[n * S + p] = (float) Math.log(0.04);
            }
        }
        circuit = dir.resolve("circuit");
        try (ShallowMixture m = ShallowMixture.builder(LeafFamilies.create("gaussian"))
                .parameters(Map.of("mean", backend.of(mean, 3, S), "log_var", backend.of(logVar, 3, S))).build()) {
            CircuitFiles.write(circuit, m, Map.of("made_by", "CircuitCommandsTest"));
        }
    }

    @AfterAll
    static void tearDown() {
        backend.close();
    }

    private static void writeSet(Path folder, String images, String labels, int n) throws IOException {
        ByteBuffer img = ByteBuffer.allocate(16 + n * S).putInt(0x803).putInt(n).putInt(28).putInt(28);
        ByteBuffer lab = ByteBuffer.allocate(8 + n).putInt(0x801).putInt(n);
        for (int i = 0; i < n; i++) {
            for (int p = 0; p < S; p++) {
                img.put((byte) ((p / 28) % 3 == i % 3 ? 200 : 10));
            }
            lab.put((byte) (i % 10));
        }
        Files.write(folder.resolve(images), img.array());
        Files.write(folder.resolve(labels), lab.array());
    }

    private static Run run(String... args) {
        return CliFixtures.execute(args);
    }

    private static String ok(String... args) {
        Run r = run(args);
        assertThat(r.status()).as("exit status; stderr: %s; stdout: %s", r.err(), r.out()).isZero();
        return r.out();
    }

    @Test
    void evaluatePrintsTheBitsPerDimensionOfTheEvaluator() {
        String out = ok("evaluate", "--backend", "djl", "--circuit", circuit.toString(), "--data", data.toString(),
                "--limit", "4");
        double expected;
        try (var c = CircuitFiles.read(circuit, backend)) {
            expected = new Evaluator(Mnist.load(data).test().range(0, 4), PixelEncoding.DEQUANTISED,
                    CircuitEvaluation.DEFAULT_SEED, Evaluator.DEFAULT_BATCH).bitsPerDim(c);
        }
        assertThat(out).contains(String.format(Locale.ROOT, "test BPD %.4f bits/dim on 4 test images", expected))
                .contains("seed 0, +8").containsPattern("in \\d+\\.\\d\\d s");
    }

    @Test
    void sampleDrawsComponentMeansInGreyByDefault() throws IOException {
        Path png = dir.resolve("samples.png");
        String out = ok("sample", "--backend", "djl", "--circuit", circuit.toString(), "--count", "5", "--columns",
                "3", "--scale", "1", "--out", png.toString());
        assertThat(out).isEqualTo("wrote " + png + " (5 component means, seed 1)" + System.lineSeparator());
        Sampling drawn;
        try (var c = CircuitFiles.read(circuit, backend)) {
            drawn = Sampling.draw(c, 5, 1, Sampling.Draw.MEANS);
        }
        BufferedImage img = ImageIO.read(png.toFile());
        assertThat(img.getWidth()).isEqualTo(3 * 29);
        assertThat(img.getHeight()).isEqualTo(2 * 29);
        int[] components = drawn.components();
        for (int i = 0; i < 5; i++) {
            for (int p = 0; p < S; p++) {
                int rgb = img.getRGB((i % 3) * 29 + p % 28, (i / 3) * 29 + p / 28);
                int expected = (int) Math.floor(256 * (p / 28 % 3 == components[i] ? 0.8f : 0.05f));
                assertThat(new int[] {(rgb >> 16) & 0xff, (rgb >> 8) & 0xff, rgb & 0xff})
                        .as("sample %d pixel %d: the grey level of its component's mean", i, p)
                        .containsExactly(expected, expected, expected);
            }
        }
    }

    @Test
    void samplePixelDrawsOnRequestAlsoInGrey() throws IOException {
        Path png = dir.resolve("draws.png");
        String out = ok("sample", "--backend", "djl", "--circuit", circuit.toString(), "--count", "4", "--draw",
                "pixels", "--seed", "3", "--scale", "2", "--out", png.toString());
        assertThat(out).contains("wrote " + png + " (4 pixel draws, seed 3)");
        BufferedImage img = ImageIO.read(png.toFile());
        assertThat(img.getWidth()).isEqualTo(4 * 29 * 2);
        long grey = 0;
        long bright = 0;
        for (int y = 0; y < img.getHeight(); y++) {
            for (int x = 0; x < img.getWidth(); x++) {
                int rgb = img.getRGB(x, y);
                int r = (rgb >> 16) & 0xff;
                if (r == ((rgb >> 8) & 0xff) && r == (rgb & 0xff)) {
                    grey++;
                }
                if (r > 150) {
                    bright++;
                }
            }
        }
        assertThat(grey).as("every pixel grey").isEqualTo((long) img.getWidth() * img.getHeight());
        assertThat(bright).as("the bright bands of the drawn components").isPositive();
        Run r = run("sample", "--circuit", circuit.toString(), "--draw", "modes", "--out", png.toString());
        assertThat(r.status()).isEqualTo(2);
        assertThat(r.err()).contains("--draw").contains("'modes'").contains("means, pixels");
    }

    @Test
    void inpaintTintsObservedPixelsBlueAndFilledInPixelsRed() throws IOException {
        for (String query : new String[] {"mean", "mode", "sample"}) {
            Path png = dir.resolve("inpaint-" + query + ".png");
            String out = ok("inpaint", "--backend", "djl", "--circuit", circuit.toString(), "--data", data.toString(),
                    "--mask", "left", "--query", query, "--count", "3", "--columns", "2", "--scale", "1", "--out",
                    png.toString());
            assertThat(out).contains("inpainted 3 test images (left hidden, conditional " + query + ")");
            BufferedImage img = ImageIO.read(png.toFile());
            assertThat(img.getWidth()).isEqualTo(4 * 29);
            assertThat(img.getHeight()).isEqualTo(2 * 29);
            int hidden = img.getRGB(29 + 3, 14);
            int seen = img.getRGB(29 + 20, 14);
            assertThat((hidden >> 16) & 0xff).as("red of a filled-in pixel").isGreaterThan(hidden & 0xff);
            assertThat(seen & 0xff).as("blue of an observed pixel").isGreaterThan((seen >> 16) & 0xff);
            int original = img.getRGB(3, 14);
            assertThat((original >> 16) & 0xff).as("the original is grey").isEqualTo(original & 0xff);
        }
    }

    @Test
    void inpaintMasksCoverTheirRegion() {
        assertThat(Inpainting.Mask.CENTRE.hides(14, 14, 28, 28)).isTrue();
        assertThat(Inpainting.Mask.CENTRE.hides(2, 14, 28, 28)).isFalse();
        assertThat(Inpainting.Mask.RIGHT.hides(0, 14, 28, 28)).isTrue();
        assertThat(Inpainting.Mask.TOP.hides(13, 0, 28, 28)).isTrue();
        assertThat(Inpainting.Mask.BOTTOM.hides(13, 0, 28, 28)).isFalse();
    }

    @Test
    void unknownMaskOrQueryIsRefusedNamingIt() {
        Run r = run("inpaint", "--circuit", circuit.toString(), "--data", data.toString(), "--mask", "diagonal",
                "--out", dir.resolve("x.png").toString());
        assertThat(r.status()).isEqualTo(2);
        assertThat(r.err()).contains("'diagonal'").contains("left, right, top, bottom, centre");
        r = run("inpaint", "--circuit", circuit.toString(), "--data", data.toString(), "--mask", "left", "--query",
                "median", "--out", dir.resolve("x.png").toString());
        assertThat(r.status()).isEqualTo(2);
        assertThat(r.err()).contains("'median'").contains("mean, mode, sample");
    }

    @Test
    void inpaintScorePrintsTemperedAndNearestRowsBesideTheCircuitAndTheMeanImage() throws IOException {
        Path split = dir.resolve("mnist-split");
        Files.createDirectories(split);
        writeSet(split, Mnist.TRAIN_IMAGES, Mnist.TRAIN_LABELS, 10_030);
        writeSet(split, Mnist.TEST_IMAGES, Mnist.TEST_LABELS, 5);
        String out = ok("inpaint-score", "--backend", "djl", "--circuit", circuit.toString(), "--data",
                split.toString(), "--mask", "left", "--temperature", "2.5", "--neighbours", "1,2");
        List<String> rows = out.lines().filter(l -> l.startsWith("left ")).toList();
        assertThat(rows).hasSize(5);
        assertThat(rows.get(0)).startsWith("left    circuit ");
        assertThat(rows.get(1)).startsWith("left    circuit T=2.5 ");
        assertThat(rows.get(2)).as("30 training images after the split hold every pattern of bars: the nearest one is exact")
                .matches("left    1 nearest +392 +0\\.00000 +0\\.000 +-");
        assertThat(rows.get(3)).startsWith("left    2 nearest ").endsWith(" -");
        assertThat(rows.get(4)).startsWith("left    mean image ").containsPattern(" 1\\.000 +\\d+\\.\\d{4}$");
    }

    @Test
    void refineClassifyAndInpaintScoreRefuseBadInputNamingIt() {
        Run r = run("refine", "--circuit", circuit.toString(), "--data", data.toString(), "--floor", "0.01,2",
                "--out", dir.resolve("refined").toString());
        assertThat(r.status()).isEqualTo(2);
        assertThat(r.err()).contains("--floor must be in (0, 1], found 2.0");
        r = run("refine", "--circuit", circuit.toString(), "--data", data.toString(), "--patience", "0",
                "--out", dir.resolve("refined").toString());
        assertThat(r.status()).isEqualTo(2);
        assertThat(r.err()).contains("--patience");
        r = run("refine", "--circuit", circuit.toString(), "--data", data.toString(), "--shrinkage", "0.02,-1",
                "--out", dir.resolve("refined").toString());
        assertThat(r.status()).isEqualTo(2);
        assertThat(r.err()).contains("--shrinkage must be finite and >= 0, found -1.0").doesNotContain("Exception");
        r = run("classify", "--backend", "djl", "--circuit", circuit.toString(), "--data", data.toString());
        assertThat(r.status()).isEqualTo(2);
        assertThat(r.err()).contains("no latent grids, so its components have no classes");
        r = run("inpaint-score", "--circuit", circuit.toString(), "--data", data.toString(), "--mask", "left,diagonal");
        assertThat(r.status()).isEqualTo(2);
        assertThat(r.err()).contains("'diagonal'");
        r = run("inpaint-score", "--circuit", circuit.toString(), "--data", data.toString(), "--temperature", "4,0");
        assertThat(r.status()).isEqualTo(2);
        assertThat(r.err()).contains("--temperature must be positive and finite, found 0.0").doesNotContain("\tat ");
        r = run("inpaint-score", "--circuit", circuit.toString(), "--data", data.toString(), "--neighbours", "0");
        assertThat(r.status()).isEqualTo(2);
        assertThat(r.err()).contains("--neighbours must be >= 1, found 0");
    }

    @Test
    void refineStateMustBeAFolderOfItsOwnNamingTheFlagAndValue() throws IOException {
        Path file = dir.resolve("state-file");
        Files.writeString(file, "not a folder");
        Run r = run("refine", "--circuit", circuit.toString(), "--data", data.toString(), "--state", file.toString(),
                "--out", dir.resolve("refined-s").toString());
        assertThat(r.status()).isEqualTo(2);
        assertThat(r.err()).contains("--state " + file + " is an existing file, not a folder").doesNotContain("\tat ");
        Path busy = dir.resolve("state-busy");
        Files.createDirectories(busy);
        Files.writeString(busy.resolve("notes.txt"), "mine");
        r = run("refine", "--circuit", circuit.toString(), "--data", data.toString(), "--state", busy.toString(),
                "--out", dir.resolve("refined-s").toString());
        assertThat(r.status()).isEqualTo(2);
        assertThat(r.err()).contains("--state " + busy + " is a folder holding other files and no refinement state");
        r = run("refine", "--circuit", circuit.toString(), "--data", data.toString(), "--state",
                dir.resolve("refined-s").toString(), "--out", dir.resolve("refined-s").toString());
        assertThat(r.status()).isEqualTo(2);
        assertThat(r.err()).contains("--state " + dir.resolve("refined-s") + " is the --out folder");
        assertThat(busy.resolve("notes.txt")).hasContent("mine");
    }

    @Test
    void unknownSearchNameIsRefusedListingTheKnownOnes() {
        Run r = run("distill", "--vqvae", "vq", "--prior", "pr", "--search", "nope", "--components", "4", "--out",
                dir.resolve("o").toString());
        assertThat(r.status()).isEqualTo(2);
        assertThat(r.err()).contains("unknown latent search 'nope'").contains("beam").contains("exhaustive")
                .contains("random").contains("top");
        r = run("sweep", "--vqvae", "vq", "--prior", "pr", "--search", "nope", "--max-exponent", "2", "--out",
                dir.resolve("o").toString());
        assertThat(r.status()).isEqualTo(2);
        assertThat(r.err()).contains("'nope'");
    }

    @Test
    void componentsOutOfRangeAreRefusedNamingTheValue() {
        for (String n : new String[] {"0", "-3", "2000000"}) {
            Run r = run("distill", "--vqvae", "vq", "--prior", "pr", "--search", "beam", "--components", n, "--out",
                    dir.resolve("o").toString());
            assertThat(r.status()).isEqualTo(2);
            assertThat(r.err()).contains("--components").contains("found " + n);
        }
        Run r = run("sweep", "--vqvae", "vq", "--prior", "pr", "--search", "beam", "--max-exponent", "21", "--out",
                dir.resolve("o").toString());
        assertThat(r.status()).isEqualTo(2);
        assertThat(r.err()).contains("--max-exponent").contains("found 21");
        r = run("distill", "--vqvae", "vq", "--prior", "pr", "--search", "beam", "--components", "4", "--weights",
                "heavy", "--out", dir.resolve("o").toString());
        assertThat(r.status()).isEqualTo(2);
        assertThat(r.err()).contains("'heavy'");
    }

    @Test
    void missingCircuitFolderIsRefusedNamingIt() {
        Path missing = dir.resolve("no-such-circuit");
        String png = dir.resolve("x.png").toString();
        String[][] commands = {{"evaluate", "--circuit", missing.toString()},
            {"sample", "--circuit", missing.toString(), "--out", png},
            {"inpaint", "--circuit", missing.toString(), "--mask", "left", "--out", png}};
        for (String[] command : commands) {
            Run r = run(command);
            assertThat(r.status()).as(command[0]).isEqualTo(2);
            assertThat(r.err()).as(command[0]).contains(missing.toString()).contains("no such folder");
        }
    }

    @Test
    @Timeout(120)
    void namedPipesAreReportedAsWhatTheyAre() throws Exception {
        Path pipe = CliFixtures.mkfifo(dir.resolve("pipe"));
        Run r = run("evaluate", "--circuit", pipe.toString());
        assertThat(r.status()).isEqualTo(2);
        assertThat(r.err()).startsWith("error: --circuit " + pipe + " is a named pipe (FIFO), not a circuit folder");
        Path pipeJson = Files.createDirectories(dir.resolve("pipe-json"));
        CliFixtures.mkfifo(pipeJson.resolve(CircuitFiles.JSON));
        r = run("evaluate", "--circuit", pipeJson.toString());
        assertThat(r.status()).isEqualTo(2);
        assertThat(r.err()).contains("its circuit.json is a named pipe (FIFO), not a regular file");
        Path pipeData = Files.createDirectories(dir.resolve("pipe-data"));
        for (String f : Mnist.FILES) {
            if (f.equals(Mnist.TEST_LABELS)) {
                CliFixtures.mkfifo(pipeData.resolve(f));
            } else {
                Files.copy(data.resolve(f), pipeData.resolve(f));
            }
        }
        r = run("evaluate", "--backend", "djl", "--circuit", circuit.toString(), "--data", pipeData.toString());
        assertThat(r.status()).isEqualTo(2);
        assertThat(r.err()).startsWith("error: " + pipeData.resolve(Mnist.TEST_LABELS)
                + ": file: is a named pipe (FIFO), not a regular file").doesNotContain("not found");
        CliFixtures.assertNoStackTrace(r);
    }

    @Test
    void tooManySamplesAreRefusedBeforeAnyEngineStarts() {
        Run r = run("sample", "--circuit", circuit.toString(), "--count", "2000000000", "--out",
                dir.resolve("many.png").toString());
        assertThat(r.status()).isEqualTo(2);
        assertThat(r.err()).startsWith("error: sample --count 2000000000 needs about ")
                .contains("for 2000000000 samples of 784 pixels drawn at scale 2").contains("lower --count or --scale");
        assertThat(r.out()).isEmpty();
        assertThat(dir.resolve("many.png")).doesNotExist();
    }

    @Test
    void aCircuitAwaitingRecoveryAfterAKillIsReadNotReportedMissing() throws Exception {
        Path killed = Files.createDirectories(dir.resolve("killed"));
        for (String f : new String[] {CircuitFiles.JSON, CircuitFiles.TENSORS}) {
            Files.copy(circuit.resolve(f), killed.resolve(f));
        }
        try (AutoCloseable hook = AtomicFolder.installFaultHook(new AtomicFolder.FaultHook() {
            @Override
            public void at(AtomicFolder.Boundary boundary, Path folder) {
                if (boundary == AtomicFolder.Boundary.MOVED_ASIDE) {
                    throw new IllegalStateException("killed");
                }
            }
        })) {
            assertThatThrownBy(() -> AtomicFolder.update(killed, s -> s.writeString("note.txt", "new")))
                    .hasMessage("killed");
        }
        assertThat(killed).as("a kill between the renames left the folder aside").doesNotExist();
        String out = ok("evaluate", "--backend", "djl", "--circuit", killed.toString(), "--data", data.toString());
        assertThat(out).contains("test BPD");
        assertThat(killed.resolve(CircuitFiles.JSON)).as("restored").exists();
    }

    @Test
    void circuitFolderWithoutCircuitJsonIsRefused() throws IOException {
        Path empty = Files.createDirectories(dir.resolve("empty"));
        Run r = run("evaluate", "--circuit", empty.toString());
        assertThat(r.status()).isEqualTo(2);
        assertThat(r.err()).contains(empty.toString()).contains("no circuit.json");
    }

    @Test
    void linePlotWritesAPngOfTheChartSizeWithPointsAndReferenceLines() throws IOException {
        XYChart chart = LinePlot.chart("title", "beam", new int[] {0, 1, 2, 3}, new double[] {6.0, 5.0, 4.5, 4.2},
                Map.of("ExM K=4", 3.9));
        assertThat(chart.getSeriesMap().keySet()).containsExactly("beam", "ExM K=4 3.900");
        assertThat(chart.getStyler().isYAxisLogarithmic()).isFalse();
        Path png = dir.resolve("plot.png");
        LinePlot.writePng(chart, png);
        BufferedImage img = ImageIO.read(png.toFile());
        assertThat(img.getWidth()).isEqualTo(LinePlot.WIDTH).isEqualTo(800);
        assertThat(img.getHeight()).isEqualTo(LinePlot.HEIGHT).isEqualTo(500);
        long blue = 0;
        long red = 0;
        for (int y = 0; y < img.getHeight(); y++) {
            for (int x = 0; x < img.getWidth(); x++) {
                int rgb = img.getRGB(x, y);
                int r = (rgb >> 16) & 0xff;
                int b = rgb & 0xff;
                blue += b - r > 60 ? 1 : 0;
                red += r - b > 60 ? 1 : 0;
            }
        }
        assertThat(blue).as("pixels of the series' line and points").isGreaterThan(200);
        assertThat(red).as("pixels of the dashed reference line").isGreaterThan(100);
        assertThat(Flags.references(java.util.List.of("ExM K=16=2.95", "a=1")))
                .containsExactly(Map.entry("ExM K=16", 2.95), Map.entry("a", 1.0));
        Run r = run("sweep", "--vqvae", "vq", "--prior", "pr", "--search", "beam", "--max-exponent", "2",
                "--reference", "ExM", "--out", dir.resolve("o").toString());
        assertThat(r.status()).isEqualTo(2);
        assertThat(r.err()).contains("'ExM'");
        XYChart wide = LinePlot.chart("log axis", "beam", new int[] {0, 8}, new double[] {457.7, 5.6}, Map.of());
        assertThat(wide.getStyler().isYAxisLogarithmic()).as("values spanning more than a factor of 3").isTrue();
        assertThat(wide.getYAxisTitle()).isEqualTo("test bits per dimension (log scale)");
        assertThatThrownBy(() -> LinePlot.chart("t", "s", new int[] {0, 1}, new double[] {1}, Map.of()))
                .isInstanceOf(InvalidArgumentException.class);
        assertThat(LinePlot.exponents(java.util.List.of(1, 2, 4, 1024))).containsExactly(0, 1, 2, 10);
    }
}
