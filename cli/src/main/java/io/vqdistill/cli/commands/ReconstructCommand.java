package io.vqdistill.cli.commands;

import io.vqdistill.api.Backend;
import io.vqdistill.api.InvalidArgumentException;
import io.vqdistill.api.Tensor;
import io.vqdistill.api.model.Decoder;
import io.vqdistill.api.model.Encoder;
import io.vqdistill.api.model.ImageShape;
import io.vqdistill.cli.data.DataOptions;
import io.vqdistill.cli.options.BackendOptionsMixin;
import io.vqdistill.cli.options.ProgressOptions;
import io.vqdistill.cli.render.ImageGrid;
import io.vqdistill.distill.pipeline.ProgressListener;
import io.vqdistill.distill.pipeline.Session;
import io.vqdistill.distill.pipeline.Sessions;
import io.vqdistill.models.ModelLoader;
import io.vqdistill.models.data.ImageSet;
import io.vqdistill.models.data.Mnist;
import io.vqdistill.models.train.DecoderHead;
import jakarta.inject.Inject;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.HashSet;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.concurrent.Callable;
import java.util.function.LongConsumer;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine;

/**
 * {@code vqdistill reconstruct}: test images next to their reconstructions through a VQ-VAE
 * checkpoint, as a PNG grid, with the reconstruction NLL measured through the api.
 */
@Command(name = "reconstruct", mixinStandardHelpOptions = true,
        description = "Encodes test images with a VQ-VAE checkpoint, decodes their code grids and writes a PNG "
            + "grid: each pair of rows holds originals above their reconstructions (the decoder's mean, or its "
            + "most likely level). Prints the reconstruction NLL of the images in bits per dimension.")
public final class ReconstructCommand implements Callable<Integer> {
    /** Images per encode/decode call. */
    private static final int BATCH = 500;
    /** Seeds the dequantisation noise, as the trainer's test evaluation does its own. */
    private static final long NOISE_SEED = 7;

    @Mixin
    BackendOptionsMixin backendOptions;

    @Mixin
    ProgressOptions progress;

    @Option(names = "--vqvae", paramLabel = "DIR", required = true, description = "the VQ-VAE checkpoint folder")
    Path vqvae;

    @Option(names = "--data", paramLabel = "DIR", defaultValue = DataOptions.DEFAULT_DATA,
            description = "the MNIST folder (default: ${DEFAULT-VALUE})")
    Path data;

    @Option(names = "--out", paramLabel = "FILE", defaultValue = "reconstructions.png",
            description = "the PNG to write (default: ${DEFAULT-VALUE})")
    Path out;

    @Option(names = "--count", paramLabel = "N", defaultValue = "32",
            description = "test images shown, the first N (default: ${DEFAULT-VALUE})")
    int count;

    @Option(names = "--columns", paramLabel = "N", defaultValue = "16",
            description = "images per row (default: ${DEFAULT-VALUE})")
    int columns;

    @Option(names = "--scale", paramLabel = "N", defaultValue = "2",
            description = "pixels per image pixel (default: ${DEFAULT-VALUE})")
    int scale;

    @Option(names = "--all", description = "measure the NLL on all test images, not only the N shown")
    boolean all;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Inject
    Sessions sessions;

    @Override
    public Integer call() {
        if (count < 1 || columns < 1 || scale < 1) {
            throw new InvalidArgumentException("--count, --columns and --scale must be >= 1, found " + count + ", "
                    + columns + ", " + scale);
        }
        ImageSet test = Mnist.load(data).test();
        int shown = Math.min(count, test.size());
        int measured = all ? test.size() : shown;
        PrintWriter w = spec.commandLine().getOut();
        try (Session session = sessions.open(backendOptions.choice(ModelLoader.class))) {
            Backend backend = session.backend();
            Encoder encoder = session.encoder(vqvae);
            Decoder decoder = session.decoder(vqvae);
            ImageShape shape = encoder.imageShape();
            int s = shape.pixels();
            float[] recon = new float[shown * s];
            Set<String> grids = new HashSet<>();
            double nll = ProgressListener.track(progress.bars(), "reconstruct", measured, "images",
                    done -> measure(backend, encoder, decoder, test, measured, shown, recon, grids, done));
            double bits = nll / measured / (s * Math.log(2));
            boolean gaussian = decoder.leafFamily().equals(DecoderHead.GAUSSIAN.leafFamily());
            write(test, recon, shown, shape);
            w.printf(Locale.ROOT, "%s: reconstruction NLL of %d test images: %.2f nats per image, %.4f bits/dim%s;"
                    + " %d distinct code grids%n", vqvae, measured, nll / measured, gaussian ? bits + 8 : bits,
                    gaussian ? " (pixels dequantised to (p+u)/256)" : "", grids.size());
            w.printf("wrote %s (%d originals above their reconstructions)%n", out, shown);
            w.flush();
        }
        return 0;
    }

    /**
     * The summed NLL of the first {@code measured} test images, in nats, in batches; copies the
     * reconstructions of the first {@code shown} into {@code recon} and adds every code grid met to
     * {@code grids}; {@code done} hears the images measured after each batch.
     */
    private static double measure(Backend backend, Encoder encoder, Decoder decoder, ImageSet test, int measured,
                                  int shown, float[] recon, Set<String> grids, LongConsumer done) {
        ImageShape shape = encoder.imageShape();
        int s = shape.pixels();
        SplittableRandom noise = new SplittableRandom(NOISE_SEED);
        double nll = 0;
        for (int from = 0; from < measured; from += BATCH) {
            int[] idx = new int[Math.min(BATCH, measured - from)];
            for (int i = 0; i < idx.length; i++) {
                idx[i] = from + i;
            }
            float[] x = test.dequantised(idx, noise);
            int[] levels = test.levels(idx);
            try (Tensor images = backend.of(x, idx.length, shape.channels(), shape.height(), shape.width());
                    Tensor codes = encoder.encode(images)) {
                long[] c = codes.toLongArray();
                int p = encoder.latentShape().positions();
                for (int i = 0; i < idx.length; i++) {
                    grids.add(Arrays.toString(Arrays.copyOfRange(c, i * p, (i + 1) * p)));
                }
                Map<String, Tensor> leaves = decoder.decode(codes);
                try {
                    nll += decoder.leafFamily().equals(DecoderHead.GAUSSIAN.leafFamily())
                            ? gaussian(leaves, x, recon, from, shown, s)
                            : categorical(leaves, levels, recon, from, shown, s);
                } finally {
                    leaves.values().forEach(Tensor::close);
                }
            }
            done.accept(from + idx.length);
        }
        return nll;
    }

    /** Adds the mean Gaussian NLL of a batch; copies the means of shown images into {@code recon}. */
    private static double gaussian(Map<String, Tensor> leaves, float[] x, float[] recon, int from, int shown, int s) {
        float[] mean = leaves.get("mean").toFloatArray();
        float[] logVar = leaves.get("log_var").toFloatArray();
        double nll = 0;
        for (int i = 0; i < mean.length; i++) {
            double d = x[i] - mean[i];
            nll += 0.5 * (Math.log(2 * Math.PI) + logVar[i] + d * d * Math.exp(-logVar[i]));
        }
        copyShown(mean, recon, from, shown, s);
        return nll;
    }

    /** Adds the categorical NLL of a batch; copies the most likely levels (scaled to [0, 1]) of shown images. */
    private static double categorical(Map<String, Tensor> leaves, int[] levels, float[] recon, int from, int shown,
            int s) {
        float[] logits = leaves.get("logits").toFloatArray();
        int v = DecoderHead.LEVELS;
        double nll = 0;
        float[] mode = new float[levels.length];
        for (int i = 0; i < levels.length; i++) {
            int base = i * v;
            double max = Double.NEGATIVE_INFINITY;
            int arg = 0;
            for (int l = 0; l < v; l++) {
                if (logits[base + l] > max) {
                    max = logits[base + l];
                    arg = l;
                }
            }
            double sum = 0;
            for (int l = 0; l < v; l++) {
                sum += Math.exp(logits[base + l] - max);
            }
            nll -= logits[base + levels[i]] - max - Math.log(sum);
            mode[i] = arg / 255f;
        }
        copyShown(mode, recon, from, shown, s);
        return nll;
    }

    private static void copyShown(float[] values, float[] recon, int from, int shown, int s) {
        int images = values.length / s;
        for (int i = 0; i < images && from + i < shown; i++) {
            System.arraycopy(values, i * s, recon, (from + i) * s, s);
        }
    }

    /** The PNG: rows of originals, each above a row of their reconstructions, in grey. */
    private void write(ImageSet test, float[] recon, int shown, ImageShape shape) {
        int s = shape.pixels();
        int cols = Math.min(columns, shown);
        int rows = (shown + cols - 1) / cols;
        ImageGrid grid = new ImageGrid(2 * rows * cols, cols, shape.height(), shape.width(), scale);
        for (int i = 0; i < shown; i++) {
            int[] original = new int[s];
            int[] rebuilt = new int[s];
            for (int p = 0; p < s; p++) {
                original[p] = test.level(i, p);
                rebuilt[p] = Math.round(Math.max(0f, Math.min(1f, recon[i * s + p])) * 255f);
            }
            int row = i / cols;
            grid.grey(2 * row * cols + i % cols, original);
            grid.grey((2 * row + 1) * cols + i % cols, rebuilt);
        }
        grid.write(out);
    }
}
