package io.vqdistill.distill.interop;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.vqdistill.api.Backend;
import io.vqdistill.api.DType;
import io.vqdistill.api.Tensor;
import io.vqdistill.api.circuit.Circuit;
import io.vqdistill.api.circuit.Precision;
import io.vqdistill.api.fake.FakeBackend;
import io.vqdistill.api.model.ImageShape;
import io.vqdistill.api.model.LatentShape;
import io.vqdistill.circuits.CircuitBuilder;
import io.vqdistill.circuits.DagCircuit;
import io.vqdistill.circuits.LeafFamilies;
import io.vqdistill.circuits.ShallowMixture;
import io.vqdistill.circuits.io.CircuitFiles;
import io.vqdistill.formats.SafeTensors;
import io.vqdistill.models.checkpoint.Checkpoint;
import io.vqdistill.models.checkpoint.Provenance;
import io.vqdistill.models.layout.Parameter;
import io.vqdistill.models.layout.VqVaeLayout;
import io.vqdistill.models.train.DecoderHead;
import io.vqdistill.models.train.VqVaeSpec;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Python reads our files: Java writes a Gaussian, a categorical and a DAG circuit and a VQ-VAE
 * checkpoint; {@code python3} with numpy alone runs the reference code of {@code circuits/FORMAT.md}
 * (its {@code python} blocks, extracted from the file as written) and must reproduce each circuit's
 * log-likelihoods to 1e-4 nats per image and every checkpoint tensor's name, dtype, shape and values.
 *
 * <p>In CI (the environment variable CI set, as {@code .ci/run} does, after installing Debian's
 * python3-numpy) a missing python3 or numpy fails the test; elsewhere it is skipped.
 */
class PythonReadsFilesTest {
    private static final Path FORMAT = Path.of("..", "circuits", "FORMAT.md");
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final double TOLERANCE = 1e-4;

    @TempDir
    Path dir;

    /** The reference code: every python block of FORMAT.md's "Reading with numpy" section, in order. */
    static List<String> referenceBlocks() throws IOException {
        String doc = Files.readString(FORMAT);
        int from = doc.indexOf("## Reading with numpy");
        assertThat(from).as("FORMAT.md has a 'Reading with numpy' section").isNotNegative();
        int to = doc.indexOf("\n## ", from + 1);
        String section = doc.substring(from, to < 0 ? doc.length() : to);
        List<String> blocks = new ArrayList<>();
        Matcher m = Pattern.compile("```python\\n(.*?)```", Pattern.DOTALL).matcher(section);
        while (m.find()) {
            blocks.add(m.group(1));
        }
        return blocks;
    }

    @Test
    void pythonWithNumpyReproducesTheCircuitsAndReadsTheCheckpoint() throws Exception {
        requirePythonWithNumpy();
        List<String> blocks = referenceBlocks();
        assertThat(blocks).as("python blocks of FORMAT.md").hasSizeGreaterThanOrEqualTo(4);
        String reference = String.join("\n", blocks);
        assertThat(reference).contains("def load_safetensors", "def gaussian_mixture_log_likelihood",
                "def categorical_mixture_log_likelihood", "def dag_log_likelihood", "def gaussian_logf");
        assertThat(reference).doesNotContain("scipy");

        Backend backend = new FakeBackend();
        SplittableRandom rng = new SplittableRandom(20250101);
        int s = 784;

        // a Gaussian mixture over MNIST-sized images (the folder the reference code opens), 7 images
        int n = 6;
        int b = 7;
        float[] mean = new float[n * s];
        float[] logVar = new float[n * s];
        for (int i = 0; i < n * s; i++) {
            mean[i] = (float) rng.nextDouble();
            logVar[i] = (float) (2 * Math.log(0.02 + 0.5 * rng.nextDouble()));
        }
        double[] weights = new double[n];
        for (int i = 0; i < n; i++) {
            weights[i] = rng.nextGaussian();
        }
        // each image drawn from one component, so that its log-likelihood is of the size real images
        // get (hundreds of nats): the circuit answers in float32, whose spacing exceeds 1e-4 above 1024
        float[] x = new float[b * s];
        for (int i = 0; i < b; i++) {
            for (int p = 0; p < s; p++) {
                int k = (i % n) * s + p;
                x[i * s + p] = (float) (mean[k] + Math.exp(logVar[k] / 2) * rng.nextGaussian());
            }
        }
        double[] gaussian;
        try (ShallowMixture m = ShallowMixture.builder(LeafFamilies.create("gaussian"))
                .parameters(Map.of("mean", backend.of(mean, n, s), "log_var", backend.of(logVar, n, s)))
                .logWeights(weights).normaliseWeights().build()) {
            CircuitFiles.write(dir.resolve("circuit"), m, Map.of("made_by", "PythonReadsFilesTest"));
            m.setPrecision(Precision.DOUBLE);
            gaussian = logLikelihoods(m, backend.of(x, b, s));
        }
        writeDoubles(dir.resolve("x.f64"), x);

        // a categorical mixture over 784 pixels of 256 levels, 5 images of levels
        int nc = 3;
        int bc = 5;
        // each pixel's distribution peaks at one level, as MNIST's do at 0; images drawn from the components
        float[] logits = new float[nc * s * 256];
        for (int leaf = 0; leaf < nc * s; leaf++) {
            int peak = rng.nextInt(256);
            for (int v = 0; v < 256; v++) {
                logits[leaf * 256 + v] = (float) (rng.nextGaussian() + (v == peak ? 9 : 0));
            }
        }
        float[] levels = new float[bc * s];
        for (int i = 0; i < bc; i++) {
            for (int p = 0; p < s; p++) {
                int leaf = (i % nc) * s + p;
                double total = 0;
                for (int v = 0; v < 256; v++) {
                    total += Math.exp(logits[leaf * 256 + v]);
                }
                double u = rng.nextDouble() * total;
                int v = 0;
                for (double c = Math.exp(logits[leaf * 256]); c < u && v < 255; c += Math.exp(logits[leaf * 256 + v])) {
                    v++;
                }
                levels[i * s + p] = v;
            }
        }
        double[] categorical;
        try (ShallowMixture m = ShallowMixture.builder(LeafFamilies.create("categorical"))
                .parameters(Map.of("logits", backend.of(logits, nc, s, 256))).logWeights(new double[] {-1, 0, 1})
                .normaliseWeights().build()) {
            CircuitFiles.write(dir.resolve("categorical"), m, Map.of());
            // the same circuit in shards of 1 MB: log_weights and a part of logits in the first, ...
            CircuitFiles.write(dir.resolve("categorical-sharded"), m, Map.of(), 0, 1_000_000);
            m.setPrecision(Precision.DOUBLE);
            categorical = logLikelihoods(m, backend.of(levels, bc, s));
        }
        writeDoubles(dir.resolve("levels.f64"), levels);

        // a DAG over 8 variables: region sums over pairs, shared among the root's three children
        int sd = 8;
        CircuitBuilder cb = new CircuitBuilder(sd);
        int[][] regions = new int[2][4];
        for (int copy = 0; copy < 2; copy++) {
            for (int pair = 0; pair < 4; pair++) {
                int a = cb.product(cb.input(2 * pair), cb.input(2 * pair + 1));
                int c = cb.product(cb.input(2 * pair), cb.input(2 * pair + 1));
                regions[copy][pair] = cb.normalisedSum(new int[] {a, c}, new double[] {rng.nextGaussian(), 0});
            }
        }
        int left = cb.product(regions[1][0], regions[0][1], regions[0][2], regions[0][3]);
        int right = cb.product(regions[0][0], regions[1][1], regions[1][2], regions[1][3]);
        int mixed = cb.product(regions[0][0], regions[0][1], regions[1][2], regions[1][3]);
        cb.normalisedSum(new int[] {left, right, mixed}, new double[] {0.3, -0.2, 0});
        int inputs = 32;
        float[] dagMean = new float[inputs];
        float[] dagLogVar = new float[inputs];
        for (int i = 0; i < inputs; i++) {
            dagMean[i] = (float) rng.nextDouble();
            dagLogVar[i] = (float) (2 * Math.log(0.05 + 0.5 * rng.nextDouble()));
        }
        int bd = 4;
        float[] xd = new float[bd * sd];
        for (int i = 0; i < xd.length; i++) {
            xd[i] = (float) rng.nextDouble();
        }
        double[] dag;
        try (DagCircuit d = DagCircuit.create(cb.build(), LeafFamilies.create("gaussian"),
                Map.of("mean", backend.of(dagMean, inputs), "log_var", backend.of(dagLogVar, inputs)))) {
            CircuitFiles.write(dir.resolve("dag"), d, Map.of());
            dag = logLikelihoods(d, backend.of(xd, bd, sd));
        }
        writeDoubles(dir.resolve("xd.f64"), xd);

        // a VQ-VAE checkpoint: every tensor of the layout, the float ones from the initial draws
        VqVaeLayout layout = new VqVaeLayout(VqVaeSpec.defaults(ImageShape.MNIST, new LatentShape(4, 4, 16),
                DecoderHead.GAUSSIAN));
        Map<String, float[]> initial = layout.initialValues(7);
        List<SafeTensors.Entry> entries = new ArrayList<>();
        long counter = 1;
        for (Parameter p : layout.parameters()) {
            entries.add(p.role() == Parameter.Role.COUNTER
                    ? SafeTensors.Entry.of(p.name(), new long[] {counter++}, p.shape())
                    : SafeTensors.Entry.of(p.name(), initial.get(p.name()), p.shape()));
        }
        Path checkpoint = dir.resolve("checkpoint");
        new Checkpoint(Checkpoint.KIND_VQVAE, layout.spec().toJson(),
                Provenance.now(7, "none", "fake", "fake", 0, 0, Map.of()), Map.of()).write(checkpoint, entries);

        String driver = """

                # ---- the test's driver: everything above is FORMAT.md's code, as written ----
                x = np.fromfile("x.f64", "<f8").reshape(-1, meta["variables"])
                out = {"meta_kind": meta["kind"], "gaussian": gaussian_mixture_log_likelihood(t, x).tolist()}
                cat = load_safetensors("categorical/circuit.safetensors")
                levels = np.fromfile("levels.f64", "<f8").astype(np.int64).reshape(-1, meta["variables"])
                out["categorical"] = categorical_mixture_log_likelihood(cat, levels).tolist()
                sharded = load_circuit_tensors("categorical-sharded")
                out["sharded"] = categorical_mixture_log_likelihood(sharded, levels).tolist()
                out["sharded_names"] = sorted(sharded)
                index = json.load(open("categorical-sharded/circuit.safetensors.index.json"))
                out["weight_map"] = sorted(index["weight_map"])
                out["total_size"] = index["metadata"]["total_size"]
                dag = load_safetensors("dag/circuit.safetensors")
                dag_meta = json.load(open("dag/circuit.json"))
                xd = np.fromfile("xd.f64", "<f8").reshape(-1, dag_meta["variables"])
                out["dag"] = [float(dag_log_likelihood(dag, xv, gaussian_logf(dag))) for xv in xd]
                ck = load_safetensors("checkpoint/weights.safetensors")
                out["checkpoint"] = {name: {"dtype": str(a.dtype), "shape": list(a.shape),
                                            "values": a.astype(np.float64).ravel().tolist()}
                                     for name, a in ck.items()}
                print(json.dumps(out))
                """;
        Path script = dir.resolve("read_files.py");
        Files.writeString(script, reference + driver);
        JsonNode out = JSON.readTree(runPython(script));

        assertThat(out.path("meta_kind").asText()).isEqualTo("shallow_mixture");
        assertClose("gaussian mixture", out.path("gaussian"), gaussian, 0);
        // categorical leaves at DOUBLE are gathered and summed in float64: the DOUBLE contract
        // (1e-4 nats + 1e-6 |log p(x)|) bounds Java's rounding here
        double largest = Arrays.stream(categorical).map(Math::abs).max().orElseThrow();
        assertClose("categorical mixture", out.path("categorical"), categorical, 1e-4 + 1e-6 * largest);
        assertClose("DAG", out.path("dag"), dag, 0);
        assertClose("categorical mixture in shards", out.path("sharded"), categorical, 1e-2 + 1e-5 * 1000);
        assertThat(out.path("sharded_names").toString()).isEqualTo("[\"log_weights\",\"logits\"]");
        // logits [3, 784, 256] float32 are 2,408,448 bytes in rows of 802,816: one row beside the
        // weights in the first shard, one in each of the next two
        assertThat(out.path("weight_map").toString()).isEqualTo("[\"log_weights\",\"logits.part-00001-of-00003\","
                + "\"logits.part-00002-of-00003\",\"logits.part-00003-of-00003\"]");
        assertThat(out.path("total_size").asLong()).isEqualTo(12 + 3L * 784 * 256 * 4);

        JsonNode tensors = out.path("checkpoint");
        assertThat(tensors.size()).isEqualTo(layout.parameters().size());
        SafeTensors javaView = Checkpoint.weights(checkpoint);
        for (Parameter p : layout.parameters()) {
            JsonNode t = tensors.path(p.name());
            assertThat(t.isMissingNode()).as("python found %s", p.name()).isFalse();
            List<Long> shape = new ArrayList<>();
            t.path("shape").forEach(v -> shape.add(v.asLong()));
            assertThat(shape).as("shape of %s", p.name()).containsExactly(box(p.shape()));
            boolean counterTensor = p.role() == Parameter.Role.COUNTER;
            assertThat(t.path("dtype").asText()).as("dtype of %s", p.name()).isEqualTo(counterTensor ? "int64" : "float32");
            JsonNode values = t.path("values");
            if (counterTensor) {
                SafeTensors.Entry e = javaView.get(p.name(), DType.INT64, p.shape());
                assertThat(values.get(0).asLong()).isEqualTo(e.buffer().order(ByteOrder.LITTLE_ENDIAN).getLong(0));
            } else {
                float[] expected = initial.get(p.name());
                assertThat(values.size()).isEqualTo(expected.length);
                for (int i = 0; i < expected.length; i++) {
                    assertThat((float) values.get(i).asDouble()).as("%s[%d]", p.name(), i).isEqualTo(expected[i]);
                }
            }
        }
    }

    private static Long[] box(long[] v) {
        Long[] out = new Long[v.length];
        for (int i = 0; i < v.length; i++) {
            out[i] = v[i];
        }
        return out;
    }

    private static double[] logLikelihoods(Circuit c, Tensor x) {
        try (Tensor ll = c.logLikelihood(x)) {
            return ll.toDoubleArray();
        }
    }

    private static void assertClose(String what, JsonNode python, double[] java, double contract) {
        assertThat(python.size()).as("%s: images", what).isEqualTo(java.length);
        double worst = 0;
        for (int i = 0; i < java.length; i++) {
            worst = Math.max(worst, Math.abs(python.get(i).asDouble() - java[i]));
        }
        System.out.printf("%s: %d images, log-likelihoods %.2f .. %.2f nats, max |python - java| = %.2e%n", what,
                java.length, java.length == 0 ? 0 : java[0], java.length == 0 ? 0 : java[java.length - 1], worst);
        for (int i = 0; i < java.length; i++) {
            assertThat(python.get(i).asDouble()).as("%s, image %d: python vs java (nats)", what, i)
                    .isCloseTo(java[i], within(Math.max(TOLERANCE, contract)));
        }
    }

    private static void writeDoubles(Path file, float[] values) throws IOException {
        ByteBuffer buf = ByteBuffer.allocate(8 * values.length).order(ByteOrder.LITTLE_ENDIAN);
        for (float v : values) {
            buf.putDouble(v);
        }
        Files.write(file, buf.array());
    }

    private String runPython(Path script) throws Exception {
        Process p = new ProcessBuilder("python3", script.getFileName().toString()).directory(dir.toFile())
                .redirectErrorStream(false).start();
        byte[] stdout;
        byte[] stderr;
        try (InputStream out = p.getInputStream(); InputStream err = p.getErrorStream()) {
            ByteArrayOutputStream errBytes = new ByteArrayOutputStream();
            Thread drain = new Thread(() -> {
                try {
                    err.transferTo(errBytes);
                } catch (IOException e) {
                    // the process died; its status says so
                }
            });
            drain.start();
            stdout = out.readAllBytes();
            drain.join();
            stderr = errBytes.toByteArray();
        }
        assertThat(p.waitFor(120, TimeUnit.SECONDS)).as("python3 finished").isTrue();
        assertThat(p.exitValue()).as("python3 exit status; stderr:%n%s", new String(stderr, StandardCharsets.UTF_8))
                .isZero();
        return new String(stdout, StandardCharsets.UTF_8);
    }

    /**
     * Requires python3 with numpy: in CI a missing one fails the test, elsewhere it is skipped with
     * the command that installs it.
     */
    private static void requirePythonWithNumpy() {
        boolean present;
        try {
            Process p = new ProcessBuilder("python3", "-c", "import numpy").redirectErrorStream(true).start();
            p.getInputStream().readAllBytes();
            present = p.waitFor(60, TimeUnit.SECONDS) && p.exitValue() == 0;
        } catch (IOException | InterruptedException e) {
            present = false;
        }
        if (present) {
            return;
        }
        String message = "python3 with numpy is missing; install it with: apt-get install python3-numpy";
        String ci = System.getenv("CI");
        if (ci != null && !ci.isBlank() && !ci.equalsIgnoreCase("false")) {
            throw new AssertionError(message + " (.ci/run does)");
        }
        Assumptions.abort(message);
    }
}
