package io.vqdistill.spark;

import com.google.inject.Guice;
import io.vqdistill.api.model.ImageShape;
import io.vqdistill.api.model.LatentShape;
import io.vqdistill.distill.inject.BackendChoice;
import io.vqdistill.distill.inject.PipelineModule;
import io.vqdistill.distill.pipeline.DistillationPipeline;
import io.vqdistill.distill.pipeline.DistillationRequest;
import io.vqdistill.distill.pipeline.Session;
import io.vqdistill.distill.pipeline.Sessions;
import io.vqdistill.models.ModelLoader;
import io.vqdistill.models.data.Mnist;
import io.vqdistill.models.nn.ReferenceModels;
import io.vqdistill.models.train.DecoderHead;
import io.vqdistill.models.train.PriorSpec;
import io.vqdistill.models.train.VqVaeSpec;
import io.vqdistill.api.spi.BackendOptions;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Random;
import java.util.Set;

/**
 * The tests' tiny models, made once per JVM in a temporary folder: a seeded VQ-VAE and a seeded gated
 * PixelCNN over 2x2 grids of K = 6 codes (1,296 grids), a 16-component circuit distilled from them by
 * the {@code top} search, and an MNIST-format folder of random images (1,100 test images, so that
 * evaluation has three batches).
 */
final class TinyModels {
    static final LatentShape LATENT = new LatentShape(2, 2, 6);
    static final int TEST_IMAGES = 1100;

    private static TinyModels instance;

    final Path root;
    final Path vqvae;
    final Path prior;
    final Path circuit;
    final Path data;

    private TinyModels(Path root) {
        this.root = root;
        this.vqvae = root.resolve("vqvae");
        this.prior = root.resolve("prior");
        this.circuit = root.resolve("circuit");
        this.data = root.resolve("mnist");
    }

    static synchronized TinyModels get() {
        if (instance == null) {
            try {
                TinyModels m = new TinyModels(Files.createTempDirectory("vqdistill-spark-test"));
                m.write();
                instance = m;
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
        return instance;
    }

    /** The location of {@code local} as a Hadoop {@code file:} URI, as a cluster run would name it. */
    static String uri(Path local) {
        return local.toUri().toString();
    }

    private void write() throws IOException {
        new ReferenceModels.VqVae(new VqVaeSpec(ImageShape.MNIST, LATENT, 3, List.of(4, 5, 6, 6), 1,
                DecoderHead.GAUSSIAN, 1.0), 31).write(vqvae);
        new ReferenceModels.PixelCnn(new PriorSpec(LATENT, 3, 2, 4, 6, 3, 3), 37).write(prior);
        Files.createDirectories(data);
        Random rng = new Random(5);
        idxImages(data.resolve(Mnist.TRAIN_IMAGES), 20, rng);
        idxLabels(data.resolve(Mnist.TRAIN_LABELS), 20, rng);
        idxImages(data.resolve(Mnist.TEST_IMAGES), TEST_IMAGES, rng);
        idxLabels(data.resolve(Mnist.TEST_LABELS), TEST_IMAGES, rng);
        try (Session session = new Sessions(io.vqdistill.api.BackendSelector::discover).open(
                new BackendChoice("", BackendOptions.defaults(), Set.of(ModelLoader.class)))) {
            Guice.createInjector(new PipelineModule()).getInstance(DistillationPipeline.class).run(session,
                    DistillationRequest.builder(vqvae, prior, "top", 16, circuit).build(), s -> { });
        }
    }

    private static void idxImages(Path file, int n, Random rng) throws IOException {
        ByteBuffer b = ByteBuffer.allocate(16 + n * 784);
        b.putInt(0x00000803).putInt(n).putInt(28).putInt(28);
        byte[] pixels = new byte[n * 784];
        rng.nextBytes(pixels);
        b.put(pixels);
        Files.write(file, b.array());
    }

    private static void idxLabels(Path file, int n, Random rng) throws IOException {
        ByteBuffer b = ByteBuffer.allocate(8 + n);
        b.putInt(0x00000801).putInt(n);
        for (int i = 0; i < n; i++) {
            b.put((byte) rng.nextInt(10));
        }
        Files.write(file, b.array());
    }
}
