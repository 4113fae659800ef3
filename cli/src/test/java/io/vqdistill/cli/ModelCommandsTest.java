package io.vqdistill.cli;

import static io.vqdistill.cli.CliFixtures.run;
import static org.assertj.core.api.Assertions.assertThat;

import io.vqdistill.formats.AtomicFolder;
import io.vqdistill.models.checkpoint.Checkpoint;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** train vqvae, train prior and reconstruct end to end on tiny networks and a few synthetic images. */
class ModelCommandsTest {
    @TempDir
    static Path dir;

    static Path data;

    /** MNIST-format files: 10,040 training images (the split holds out 10,000) and 20 test images. */
    @BeforeAll
    static void writeData() throws IOException {
        data = dir.resolve("mnist");
        CliFixtures.writeStripedMnist(data);
    }

    @Test
    void trainsBothNetworksAndReconstructs() throws IOException {
        Path vq = dir.resolve("vq");
        String out = run("train", "vqvae", "--backend", "djl", "--data", data.toString(), "--limit", "40",
                "--out", vq.toString(), "--grid", "2", "--codebook", "4", "--dim", "2", "--channels", "2,2,2,2",
                "--res-blocks", "0", "--epochs", "2", "--batch", "8");
        assertThat(out).contains("vqvae: epochs 1..2, 5 steps per epoch").contains("test_bpd");
        assertThat(Checkpoint.read(vq, Checkpoint.KIND_VQVAE).provenance().epochs()).isEqualTo(2);
        assertThat(Files.readAllLines(vq.resolve("metrics.csv"))).hasSize(3);

        Path prior = dir.resolve("prior");
        out = run("train", "prior", "--backend", "djl", "--data", data.toString(), "--limit", "40",
                "--vqvae", vq.toString(), "--out", prior.toString(), "--layers", "2", "--channels", "4",
                "--head-hidden", "8", "--epochs", "1", "--batch", "8");
        assertThat(out).contains("test_nll_per_position");
        assertThat(Checkpoint.read(prior, Checkpoint.KIND_PRIOR).architecture().get("layers").asInt()).isEqualTo(2);

        Path png = dir.resolve("recon.png");
        out = run("reconstruct", "--backend", "djl", "--data", data.toString(), "--vqvae", vq.toString(),
                "--out", png.toString(), "--count", "6", "--columns", "3", "--scale", "1", "--all");
        assertThat(out).contains("reconstruction NLL of 20 test images").contains("bits/dim");
        var image = ImageIO.read(png.toFile());
        assertThat(image.getWidth()).isEqualTo(3 * 29);
        assertThat(image.getHeight()).isEqualTo(2 * 2 * 29);

        out = run("exact", "--backend", "djl", "--data", data.toString(), "--vqvae", vq.toString(), "--prior",
                prior.toString(), "--chunk", "100");
        assertThat(out).contains("256 grids of 2x2").contains("on 20 test images").contains("ExM test BPD");
        double exact = bpd(out, "ExM test BPD ");
        Path histogram = dir.resolve("histogram.csv");
        out = run("enumerate", "--backend", "djl", "--prior", prior.toString(), "--chunk", "100", "--bin-width", "1",
                "--bins", "30", "--out", histogram.toString());
        assertThat(out).startsWith("enumerated 256 grids of 2x2 K=4 in ").contains("total mass 1.0000")
                .contains("90% of the mass in the most probable ").endsWith("wrote " + histogram + "\n");
        assertThat(Files.readAllLines(histogram)).hasSize(1 + 30 + 2)
                .allSatisfy(line -> assertThat(line.split(",")).hasSize(7));
        Path circuit = dir.resolve("all-grids");
        run("distill", "--backend", "djl", "--vqvae", vq.toString(), "--prior", prior.toString(), "--search",
                "exhaustive", "--components", "256", "--weights", "prior", "--out", circuit.toString());
        out = run("evaluate", "--backend", "djl", "--data", data.toString(), "--circuit", circuit.toString());
        assertThat(exact).as("streamed exact model vs the explicit circuit of every grid weighted by p(z)")
                .isCloseTo(bpd(out, "test BPD "), org.assertj.core.data.Offset.offset(1e-3));
    }

    @Test
    void codebookTrainingFlagsAreRecordedInTheCheckpoint() {
        Path vq = dir.resolve("vq-codebook");
        String out = run("train", "vqvae", "--backend", "tensorflow", "--data", data.toString(), "--limit", "40",
                "--out", vq.toString(), "--grid", "2", "--codebook", "4", "--dim", "2", "--channels", "2,2,2,2",
                "--res-blocks", "0", "--epochs", "1", "--batch", "8", "--beta", "0.25", "--ema-decay", "0.95",
                "--dead-code-steps", "3", "--kmeans-init", "2", "--kmeans-batches", "2");
        assertThat(out).contains("vqvae: k-means codebook from 64 encoder outputs of 16 images").contains("test_bpd");
        var architecture = Checkpoint.read(vq, Checkpoint.KIND_VQVAE).architecture();
        assertThat(architecture.get("beta").asDouble()).isEqualTo(0.25);
        assertThat(architecture.get("codebook_training").toString()).isEqualTo(
                "{\"ema_decay\":0.95,\"dead_code_steps\":3,\"kmeans_iterations\":2,\"kmeans_batches\":2}");
    }

    private static double bpd(String out, String label) {
        int at = out.indexOf(label) + label.length();
        return Double.parseDouble(out.substring(at, out.indexOf(' ', at)));
    }

    @Test
    void aLimitBeyondTheDataRecordsAndPrintsTheNumbersUsed() {
        Path vq = dir.resolve("vq-limit");
        String out = run("train", "vqvae", "--backend", "djl", "--data", data.toString(), "--limit", "100000",
                "--out", vq.toString(), "--grid", "2", "--codebook", "4", "--dim", "2", "--channels", "2,2,2,2",
                "--res-blocks", "0", "--epochs", "1", "--batch", "8");
        assertThat(out).contains("note: --limit 100000 asks for more than the 40 training images; using 40/10000/20"
                + " training/validation/test images").doesNotContain("limited to 100000");
        assertThat(Checkpoint.read(vq, Checkpoint.KIND_VQVAE).provenance().data()).contains("40 train")
                .doesNotContain("100000").doesNotContain("limited");
    }

    @Test
    void aCheckpointFolderHeldByAnotherWriterIsAnErrorBeforeAnyWork() {
        Path out = dir.resolve("held");
        try (AtomicFolder.Writer held = AtomicFolder.open(out)) {
            CliFixtures.Run r = CliFixtures.execute("train", "vqvae", "--backend", "djl", "--data", data.toString(),
                    "--limit", "40", "--out", out.toString(), "--grid", "2", "--codebook", "4", "--dim", "2",
                    "--channels", "2,2,2,2", "--res-blocks", "0", "--epochs", "1", "--batch", "8");
            assertThat(r.status()).isEqualTo(2);
            assertThat(r.err()).startsWith("error: " + out.toAbsolutePath() + " is being written by another writer"
                    + " (pid " + ProcessHandle.current().pid());
            assertThat(r.out()).as("no backend started, nothing trained").isEmpty();
            CliFixtures.assertNoStackTrace(r);
        }
    }

    @Test
    void trainingOnABackendThatCannotTrainIsRefusedBeforeAnyWork() {
        Path out = dir.resolve("no-train");
        CliFixtures.Run r = CliFixtures.execute("train", "vqvae", "--backend", "nd4j", "--data", data.toString(),
                "--limit", "40", "--out", out.toString());
        assertThat(r.status()).isEqualTo(2);
        assertThat(r.err()).startsWith("error: backend 'nd4j' has no VqVaeTrainer capability")
                .contains("load-models").doesNotContain("Guice");
        assertThat(out).doesNotExist();
    }

    @Test
    void trainingPicksTensorFlowByDefaultAndItsCheckpointsFeedDjl() {
        Path vq = dir.resolve("vq-tf");
        String out = run("train", "vqvae", "--data", data.toString(), "--limit", "40", "--out", vq.toString(),
                "--grid", "2", "--codebook", "4", "--dim", "2", "--channels", "2,2,2,2", "--res-blocks", "0",
                "--epochs", "1", "--batch", "8");
        assertThat(out).contains("training on tensorflow").contains("test_bpd");
        assertThat(Checkpoint.read(vq, Checkpoint.KIND_VQVAE).provenance().backend()).isEqualTo("tensorflow");

        String[] prior = {"--data", data.toString(), "--limit", "40", "--vqvae", vq.toString(), "--layers", "2",
                "--channels", "4", "--head-hidden", "8", "--epochs", "1", "--batch", "8"};
        Path onTf = dir.resolve("prior-tf");
        out = run(concat(new String[] {"train", "prior", "--out", onTf.toString()}, prior));
        assertThat(out).contains("training on tensorflow").contains("test_nll_per_position");
        Path onDjl = dir.resolve("prior-djl");
        out = run(concat(new String[] {"train", "prior", "--backend", "djl", "--out", onDjl.toString()}, prior));
        assertThat(out).contains("training on djl").contains("test_nll_per_position");
        assertThat(Checkpoint.read(onDjl, Checkpoint.KIND_PRIOR).provenance().backend()).isEqualTo("djl");
    }

    private static String[] concat(String[] a, String[] b) {
        String[] out = java.util.Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }

    @Test
    void trainsAnEinsumNetworkThatTheQueryCommandsRead() throws IOException {
        Path einet = dir.resolve("einet");
        String out = run("train", "einet", "--data", data.toString(), "--limit", "40", "--out", einet.toString(),
                "--pieces", "14", "--leaves", "2", "--sums", "2", "--epochs", "2", "--batch", "20",
                "--em-frequency", "1");
        assertThat(out).contains("einet: epochs 1..2, 2 steps per epoch").contains("validation_bpd");
        assertThat(Files.readAllLines(einet.resolve("metrics.csv"))).hasSize(3);
        out = run("evaluate", "--data", data.toString(), "--circuit", einet.toString());
        assertThat(bpd(out, "test BPD ")).isBetween(0.0, 12.0);
        Path png = dir.resolve("einet-inpaint.png");
        out = run("inpaint", "--data", data.toString(), "--circuit", einet.toString(), "--mask", "left",
                "--query", "mode", "--out", png.toString());
        assertThat(out).contains("inpainted");
        assertThat(ImageIO.read(png.toFile())).isNotNull();
        out = run("train", "einet", "--data", data.toString(), "--limit", "40", "--out", einet.toString(),
                "--pieces", "14", "--leaves", "2", "--sums", "2", "--epochs", "3", "--batch", "20",
                "--em-frequency", "1");
        assertThat(out).contains("resumed after epoch 2").contains("einet: epochs 3..3");
    }

    @Test
    void aPriorOnOtherDataThanItsVqVaeIsRefused() {
        Path vq = dir.resolve("vq-other");
        run("train", "vqvae", "--backend", "djl", "--data", data.toString(), "--limit", "20", "--out", vq.toString(),
                "--grid", "2", "--codebook", "4", "--dim", "2", "--channels", "2,2,2,2", "--res-blocks", "0",
                "--epochs", "1", "--batch", "8");
        CliFixtures.Run r = CliFixtures.execute("train", "prior", "--backend", "djl", "--data", data.toString(),
                "--limit", "40", "--vqvae", vq.toString(), "--out", dir.resolve("prior-other").toString());
        assertThat(r.status()).isEqualTo(2);
        assertThat(r.err()).contains("use the same --data, --split-seed and --limit");
    }
}
