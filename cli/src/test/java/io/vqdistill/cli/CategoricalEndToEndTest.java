package io.vqdistill.cli;

import static io.vqdistill.cli.CliFixtures.run;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import io.vqdistill.api.Backend;
import io.vqdistill.api.BackendSelector;
import io.vqdistill.api.circuit.Circuit;
import io.vqdistill.api.spi.BackendOptions;
import io.vqdistill.circuits.io.CircuitFiles;
import io.vqdistill.distill.pipeline.Inpainting;
import io.vqdistill.distill.pipeline.Sampling;
import io.vqdistill.distill.eval.PixelEncoding;
import io.vqdistill.formats.ShardedSafeTensors;
import io.vqdistill.formats.TensorStore;
import io.vqdistill.models.data.ImageSet;
import io.vqdistill.models.data.Mnist;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The categorical path end to end through the command line, at tiny scale: a VQ-VAE with the 256-way
 * decoder head, its prior, a distilled circuit stored in shards (the shard size lowered to 1 MB),
 * its bits per dimension on the levels (no dequantisation offset) checked against the mixture's
 * log-likelihood computed here in float64 from the circuit's tensors, samples and inpaintings.
 */
class CategoricalEndToEndTest {
    private static final Pattern BPD = Pattern.compile("test BPD (\\d+\\.\\d{4}) bits/dim on (\\d+) test images");

    @TempDir
    Path dir;

    @Test
    void trainDistilEvaluateSampleAndInpaintWithCategoricalLeaves() throws IOException {
        Path data = dir.resolve("mnist");
        CliFixtures.writeStripedMnist(data);
        Path vq = dir.resolve("vq");
        Path prior = dir.resolve("prior");
        run("train", "vqvae", "--backend", "djl", "--data", data.toString(), "--limit", "16",
                "--out", vq.toString(), "--head", "categorical", "--grid", "2", "--codebook", "4", "--dim", "2",
                "--channels", "2,2,2,2", "--res-blocks", "0", "--epochs", "1", "--batch", "8");
        assertThat(Files.readString(vq.resolve("config.json"))).contains("\"categorical\"");
        run("train", "prior", "--backend", "djl", "--data", data.toString(), "--limit", "16", "--vqvae", vq.toString(),
                "--out", prior.toString(), "--layers", "2", "--channels", "4", "--head-hidden", "8", "--epochs", "1",
                "--batch", "8");

        Path circuit = dir.resolve("circuit");
        String distilled;
        String old = System.setProperty(CircuitFiles.MAX_SHARD_BYTES_PROPERTY, "1000000");
        try {
            distilled = run("distill", "--backend", "djl", "--vqvae", vq.toString(), "--prior", prior.toString(),
                    "--search", "beam", "--components", "6", "--out", circuit.toString());
        } finally {
            if (old == null) {
                System.clearProperty(CircuitFiles.MAX_SHARD_BYTES_PROPERTY);
            } else {
                System.setProperty(CircuitFiles.MAX_SHARD_BYTES_PROPERTY, old);
            }
        }
        // logits [6, 784, 256] float32 are 4.8 MB: six shards of at most 1 MB, one row (component) each
        assertThat(distilled).contains("6 components").contains("categorical leaves")
                .contains("wrote " + circuit.resolve(CircuitFiles.JSON) + " and " + circuit.resolve(CircuitFiles.INDEX));
        assertThat(circuit.resolve("circuit-00006-of-00006.safetensors")).exists();
        assertThat(circuit.resolve(CircuitFiles.TENSORS)).doesNotExist();

        String evaluated = run("evaluate", "--backend", "djl", "--circuit", circuit.toString(), "--data",
                data.toString());
        Matcher m = BPD.matcher(evaluated);
        assertThat(m.find()).as("evaluate printed %s", evaluated).isTrue();
        assertThat(evaluated).contains("categorical leaves").contains("levels, no offset");
        double bpd = Double.parseDouble(m.group(1));
        int images = Integer.parseInt(m.group(2));
        ImageSet test = Mnist.load(data).test();
        assertThat(images).isEqualTo(test.size());
        double reference = bitsPerDim(ShardedSafeTensors.read(circuit, CircuitFiles.STEM), test);
        assertThat(bpd).as("-mean log2 p(x) / 784 on the levels, from the shards in float64")
                .isCloseTo(reference, within(1e-4)).isPositive();

        Path samples = dir.resolve("samples.png");
        assertThat(run("sample", "--backend", "djl", "--circuit", circuit.toString(), "--count", "4", "--columns", "4",
                "--scale", "1", "--draw", "pixels", "--out", samples.toString())).contains("wrote " + samples);
        BufferedImage sampled = ImageIO.read(samples.toFile());
        assertThat(sampled.getWidth()).as("four 28-pixel samples in a row").isGreaterThanOrEqualTo(4 * 28)
                .isGreaterThan(3 * sampled.getHeight());
        Path inpainted = dir.resolve("inpaint.png");
        assertThat(run("inpaint", "--backend", "djl", "--circuit", circuit.toString(), "--data", data.toString(),
                "--mask", "bottom", "--query", "mode", "--count", "4", "--out", inpainted.toString()))
                .contains("inpainted 4 test images (bottom hidden, conditional mode)");
        assertThat(Files.size(inpainted)).isPositive();

        try (Backend backend = BackendSelector.discover().select("djl", BackendOptions.defaults());
             Circuit c = CircuitFiles.read(circuit, backend)) {
            for (Inpainting.Query q : Inpainting.Query.values()) {
                Inpainting in = Inpainting.run(backend, c, test, Inpainting.Mask.BOTTOM, q, 3);
                assertThat(in.encoding()).isEqualTo(PixelEncoding.LEVELS);
                for (float v : in.filled()) {
                    assertThat(v).as("%s: a level", q).isBetween(0f, 255f);
                }
            }
            for (Sampling.Draw d : Sampling.Draw.values()) {
                for (float v : Sampling.draw(c, 8, 5, d).values()) {
                    assertThat(v).as("%s: a level", d).isBetween(0f, 255f);
                }
            }
        }
    }

    /** -mean over {@code images} of log2 sum_n w_n prod_i P_n,i(x_i), per pixel, in float64. */
    private static double bitsPerDim(TensorStore t, ImageSet images) {
        float[] logWeights = t.get("log_weights").toFloats();
        float[] logits = t.get("logits").toFloats();
        int n = logWeights.length;
        int s = images.shape().pixels();
        int v = logits.length / (n * s);
        int[] all = new int[images.size()];
        for (int i = 0; i < all.length; i++) {
            all[i] = i;
        }
        int[] levels = images.levels(all);
        double total = 0;
        for (int b = 0; b < all.length; b++) {
            double[] scores = new double[n];
            double max = Double.NEGATIVE_INFINITY;
            for (int c = 0; c < n; c++) {
                double sc = logWeights[c];
                for (int i = 0; i < s; i++) {
                    sc += logits[(c * s + i) * v + levels[b * s + i]];
                }
                scores[c] = sc;
                max = Math.max(max, sc);
            }
            double sum = 0;
            for (double sc : scores) {
                sum += Math.exp(sc - max);
            }
            total += max + Math.log(sum);
        }
        return -total / all.length / (s * Math.log(2));
    }
}
