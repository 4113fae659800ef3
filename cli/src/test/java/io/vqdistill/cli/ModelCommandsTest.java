package io.vqdistill.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.vqdistill.api.checkpoint.Checkpoint;
import io.vqdistill.api.data.Mnist;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** train vqvae, train prior and reconstruct end to end on tiny networks and a few synthetic images. */
class ModelCommandsTest {
    @TempDir
    static Path dir;

    static Path data;

    /** MNIST-format files: 10,040 training images (the split holds out 10,000) and 20 test images. */
    @BeforeAll
    static void writeData() throws IOException {
        data = dir.resolve("mnist");
        Files.createDirectories(data);
        writeSet(Mnist.TRAIN_IMAGES, Mnist.TRAIN_LABELS, 10_040);
        writeSet(Mnist.TEST_IMAGES, Mnist.TEST_LABELS, 20);
    }

    private static void writeSet(String images, String labels, int n) throws IOException {
        ByteBuffer img = ByteBuffer.allocate(16 + n * 784).putInt(0x803).putInt(n).putInt(28).putInt(28);
        ByteBuffer lab = ByteBuffer.allocate(8 + n).putInt(0x801).putInt(n);
        for (int i = 0; i < n; i++) {
            int c = i % 10;
            for (int p = 0; p < 784; p++) {
                int y = p / 28;
                img.put((byte) (y >= 2 + 2 * c && y < 5 + 2 * c ? 220 : 0));
            }
            lab.put((byte) c);
        }
        Files.write(data.resolve(images), img.array());
        Files.write(data.resolve(labels), lab.array());
    }

    private static String run(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        CommandLine cl = Main.commandLine();
        cl.setOut(new PrintWriter(out));
        cl.setErr(new PrintWriter(err));
        int status = cl.execute(args);
        assertThat(status).as("exit status; stderr: %s; stdout: %s", err, out).isZero();
        return out.toString();
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
    }

    @Test
    void aPriorOnOtherDataThanItsVqVaeIsRefused() {
        Path vq = dir.resolve("vq-other");
        run("train", "vqvae", "--backend", "djl", "--data", data.toString(), "--limit", "20", "--out", vq.toString(),
                "--grid", "2", "--codebook", "4", "--dim", "2", "--channels", "2,2,2,2", "--res-blocks", "0",
                "--epochs", "1", "--batch", "8");
        StringWriter err = new StringWriter();
        CommandLine cl = Main.commandLine();
        cl.setErr(new PrintWriter(err));
        cl.setOut(new PrintWriter(new StringWriter()));
        int status = cl.execute("train", "prior", "--backend", "djl", "--data", data.toString(), "--limit", "40",
                "--vqvae", vq.toString(), "--out", dir.resolve("prior-other").toString());
        assertThat(status).isEqualTo(2);
        assertThat(err.toString()).contains("use the same --data, --split-seed and --limit");
    }
}
