package io.vqdistill.models.nn;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.fail;

import io.vqdistill.api.Backend;
import io.vqdistill.api.DType;
import io.vqdistill.api.FormatException;
import io.vqdistill.api.Tensor;
import io.vqdistill.api.TensorException;
import io.vqdistill.api.TensorScope;
import io.vqdistill.api.model.Classifier;
import io.vqdistill.api.model.Decoder;
import io.vqdistill.api.model.Encoder;
import io.vqdistill.api.model.ImageShape;
import io.vqdistill.api.model.PrefixBatch;
import io.vqdistill.api.model.Prior;
import io.vqdistill.formats.SafeTensors;
import io.vqdistill.models.ModelLoader;
import io.vqdistill.models.checkpoint.Checkpoint;
import io.vqdistill.models.checkpoint.Provenance;
import io.vqdistill.models.layout.ClassifierLayout;
import io.vqdistill.models.layout.ConvLayer;
import io.vqdistill.models.layout.LinearLayer;
import io.vqdistill.models.layout.Parameter;
import io.vqdistill.models.train.ClassifierSpec;
import io.vqdistill.models.train.CmDecoder;
import io.vqdistill.models.train.CmRule;
import io.vqdistill.models.train.CmSpec;
import io.vqdistill.models.train.DecoderHead;
import io.vqdistill.models.train.PriorSpec;
import io.vqdistill.models.train.VqVaeSpec;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.random.RandomGenerator;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

/**
 * The contract every backend's {@link ModelLoader} honours: on the same tiny checkpoints, written
 * here from seeded weights, the encoder yields exactly the codes of the double-precision reference
 * ({@link ReferenceModels}), and decoder parameters (of the VQ-VAE and of a continuous mixture's
 * convolutional decoder) and prior log-probabilities agree with it within
 * {@value #TOLERANCE}. Since every backend is held to the same reference, they agree with each
 * other. A backend's test module extends this class and returns its backend from
 * {@link #createBackend()}.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
public abstract class ModelContractTest {
    /** Absolute tolerance on decoder parameters and log-probabilities. */
    public static final double TOLERANCE = 1e-4;

    private Backend backend;
    private ModelLoader loader;
    private TensorScope scope;
    @TempDir
    Path dir;

    /** Creates the backend under test; called once per test class. */
    protected abstract Backend createBackend();

    @BeforeAll
    void start() {
        backend = createBackend();
        loader = backend.capability(ModelLoader.class).orElseThrow(
                () -> new AssertionError(backend.name() + " declares no ModelLoader capability"));
    }

    @AfterAll
    void stop() {
        backend.close();
    }

    @BeforeEach
    void open() {
        scope = TensorScope.open();
    }

    @AfterEach
    void closeScope() {
        scope.close();
    }

    private Path vqvae(DecoderHead head, long seed, String name) {
        Path d = dir.resolve(name);
        new ReferenceModels.VqVae(ReferenceModels.tinyVqVae(head), seed).write(d);
        return d;
    }

    private static double[] images(int n, long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        double[] x = new double[n * 784];
        for (int i = 0; i < n; i++) {
            // a bright blob at a random place on a dim, noisy background: images unlike each other
            int cy = 6 + r.nextInt(16);
            int cx = 6 + r.nextInt(16);
            for (int p = 0; p < 784; p++) {
                int y = p / 28;
                int xx = p % 28;
                double blob = Math.exp(-((y - cy) * (y - cy) + (xx - cx) * (xx - cx)) / 18.0);
                x[i * 784 + p] = (float) Math.min(1, 0.1 * r.nextDouble() + blob);
            }
        }
        return x;
    }

    private static float[] floats(double[] d) {
        float[] f = new float[d.length];
        for (int i = 0; i < d.length; i++) {
            f[i] = (float) d[i];
        }
        return f;
    }

    private static void assertClose(String what, float[] actual, double[] expected) {
        assertThat(actual).as(what + " length").hasSize(expected.length);
        for (int i = 0; i < expected.length; i++) {
            if (!(Math.abs(actual[i] - expected[i]) <= TOLERANCE)) {
                fail(what + "[" + i + "] = " + actual[i] + ", reference " + expected[i]);
            }
        }
    }

    @Test
    void encoderCodesEqualTheReferenceCodes() {
        VqVaeSpec spec = ReferenceModels.tinyVqVae(DecoderHead.GAUSSIAN);
        ReferenceModels.VqVae ref = new ReferenceModels.VqVae(spec, 11);
        int n = 12;
        double[] x = images(n, 5);
        ref.codebookFromEncoderOutputs(images(6, 6), 6);
        Path d = dir.resolve("enc");
        ref.write(d);
        double[] margin = new double[1];
        long[] expected = ref.codes(ref.encoderOutput(x, n), margin);
        assertThat(margin[0]).as("the fixture's smallest distance gap, so float32 cannot flip a code")
                .isGreaterThan(1e-4);
        assertThat(java.util.Arrays.stream(expected).distinct().count()).as("codes used by the fixture")
                .isGreaterThanOrEqualTo(3);
        try (Encoder enc = loader.loadEncoder(d)) {
            assertThat(enc.latentShape()).isEqualTo(spec.latent());
            assertThat(enc.imageShape()).isEqualTo(spec.image());
            Tensor codes = enc.encode(backend.of(floats(x), n, 1, 28, 28));
            assertThat(codes.dtype()).isEqualTo(DType.INT64);
            assertThat(codes.shape()).containsExactly(n, 16);
            assertThat(codes.toLongArray()).containsExactly(expected);
        }
    }

    @Test
    void encoderGivesTheSameCodesInOneLargeBatchAsInSmallOnes() {
        Path d = vqvae(DecoderHead.GAUSSIAN, 11, "large");
        int n = PortableVqVae.CHUNK + 37;
        double[] x = images(n, 9);
        try (Encoder enc = loader.loadEncoder(d)) {
            long[] all = enc.encode(backend.of(floats(x), n, 1, 28, 28)).toLongArray();
            int from = PortableVqVae.CHUNK - 3;
            double[] tail = java.util.Arrays.copyOfRange(x, from * 784, n * 784);
            long[] part = enc.encode(backend.of(floats(tail), n - from, 1, 28, 28)).toLongArray();
            assertThat(java.util.Arrays.copyOfRange(all, from * 16, n * 16)).containsExactly(part);
        }
    }

    private static long[] everyCode(int n, int positions, int k, long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        long[] codes = new long[n * positions];
        for (int i = 0; i < codes.length; i++) {
            codes[i] = i < k ? i : r.nextInt(k);
        }
        return codes;
    }

    @Test
    void gaussianDecoderMatchesTheReferenceWithTheTrainingClamps() {
        VqVaeSpec spec = ReferenceModels.tinyVqVae(DecoderHead.GAUSSIAN);
        ReferenceModels.VqVae ref = new ReferenceModels.VqVae(spec, 12);
        Path d = dir.resolve("gauss");
        ref.write(d);
        int n = 5;
        long[] codes = everyCode(n, 16, 6, 3);
        double[][] expected = ref.gaussian(ref.decoderOutput(codes, n));
        int clampedLow = 0;
        int clampedHigh = 0;
        for (int i = 0; i < expected[1].length; i++) {
            double raw = expected[1][i];
            clampedLow += raw < DecoderHead.LOG_VAR_MIN ? 1 : 0;
            clampedHigh += raw > DecoderHead.LOG_VAR_MAX ? 1 : 0;
            expected[1][i] = Math.max(DecoderHead.LOG_VAR_MIN, Math.min(DecoderHead.LOG_VAR_MAX, raw));
        }
        assertThat(clampedHigh).as("fixture log-variances above the clamp").isPositive();
        try (Decoder dec = loader.loadDecoder(d)) {
            assertThat(dec.leafFamily()).isEqualTo("gaussian");
            Map<String, Tensor> out = dec.decode(backend.of(codes, n, 16));
            assertThat(out.keySet()).containsExactly("mean", "log_var");
            assertThat(out.get("mean").shape()).containsExactly(n, 784);
            assertThat(out.get("log_var").shape()).containsExactly(n, 784);
            assertClose("mean", out.get("mean").toFloatArray(), expected[0]);
            assertClose("log_var", out.get("log_var").toFloatArray(), expected[1]);
            out.values().forEach(Tensor::close);
        }
        assertThat(clampedLow + clampedHigh).isPositive();
    }

    @Test
    void categoricalDecoderMatchesTheReference() {
        VqVaeSpec spec = ReferenceModels.tinyVqVae(DecoderHead.CATEGORICAL);
        ReferenceModels.VqVae ref = new ReferenceModels.VqVae(spec, 13);
        Path d = dir.resolve("cat");
        ref.write(d);
        int n = 3;
        long[] codes = everyCode(n, 16, 6, 4);
        double[] expected = ref.categorical(ref.decoderOutput(codes, n));
        try (Decoder dec = loader.loadDecoder(d)) {
            assertThat(dec.leafFamily()).isEqualTo("categorical");
            Map<String, Tensor> out = dec.decode(backend.of(codes, n, 16));
            assertThat(out.keySet()).containsExactly("logits");
            assertThat(out.get("logits").shape()).containsExactly(n, 784, 256);
            assertClose("logits", out.get("logits").toFloatArray(), expected);
            out.values().forEach(Tensor::close);
        }
    }

    @Test
    void convolutionalContinuousMixtureDecoderMatchesTheReferenceWithBothHeads() {
        SplittableRandom r = new SplittableRandom(31);
        int m = 5;
        int d = 3;
        float[] z = new float[m * d];
        for (int i = 0; i < z.length; i++) {
            z[i] = (float) (2 * r.nextDouble() - 1);
        }
        for (DecoderHead head : DecoderHead.values()) {
            // a non-square image: a 2x3 grid
            CmSpec spec = new CmSpec(new ImageShape(1, 8, 12), d, new CmDecoder.Conv(3), head, 8, CmRule.LSE);
            ReferenceModels.Cm ref = new ReferenceModels.Cm(spec, 21 + head.ordinal());
            Path folder = dir.resolve("cm-" + head.leafFamily());
            ref.write(folder);
            double[][] expected = ref.leaves(z);
            try (PortableCmDecoder decoder = PortableCmDecoder.load(backend, folder)) {
                Map<String, Tensor> out = decoder.decode(backend.of(z, m, d));
                if (head == DecoderHead.GAUSSIAN) {
                    assertThat(out.keySet()).containsExactly("mean", "log_var");
                    assertThat(out.get("mean").shape()).containsExactly(m, 96);
                    assertClose("mean", out.get("mean").toFloatArray(), expected[0]);
                    assertClose("log_var", out.get("log_var").toFloatArray(), expected[1]);
                } else {
                    assertThat(out.get("logits").shape()).containsExactly(m, 96, 256);
                    assertClose("logits", out.get("logits").toFloatArray(), expected[0]);
                }
                out.values().forEach(Tensor::close);
            }
        }
    }

    private Path prior(long seed, String name) {
        Path d = dir.resolve(name);
        new ReferenceModels.PixelCnn(ReferenceModels.tinyPrior(), seed).write(d);
        return d;
    }

    private static long[] randomGrids(int n, int positions, int k, long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        long[] g = new long[n * positions];
        for (int i = 0; i < g.length; i++) {
            g[i] = r.nextInt(k);
        }
        return g;
    }

    @Test
    void priorNextLogProbsMatchTheReferenceAtEveryPositionAndIgnoreLaterCodes() {
        PriorSpec spec = ReferenceModels.tinyPrior();
        ReferenceModels.PixelCnn ref = new ReferenceModels.PixelCnn(spec, 21);
        Path d = dir.resolve("prior");
        ref.write(d);
        int n = 9;
        int p = spec.latent().positions();
        int k = spec.latent().codebookSize();
        long[] grids = randomGrids(n, p, k, 1);
        long[] classes = {0, 1, 2, 0, 1, 2, 2, 1, 0};
        double[] expected = ref.logProbs(grids, classes);
        double spread = 0;
        try (Prior prior = loader.loadPrior(d)) {
            assertThat(prior.latentShape()).isEqualTo(spec.latent());
            assertThat(prior.numClasses()).isEqualTo(3);
            for (int pos = 0; pos < p; pos++) {
                long[] scrambled = grids.clone();
                SplittableRandom r = new SplittableRandom(pos);
                for (int i = 0; i < n; i++) {
                    for (int j = pos; j < p; j++) {
                        scrambled[i * p + j] = r.nextInt(k);
                    }
                }
                Tensor lp = prior.nextLogProbs(backend.of(scrambled, n, p), backend.of(classes, n), pos);
                assertThat(lp.shape()).containsExactly(n, k);
                float[] got = lp.toFloatArray();
                double[] want = new double[n * k];
                for (int i = 0; i < n; i++) {
                    for (int j = 0; j < k; j++) {
                        want[i * k + j] = expected[(i * p + pos) * k + j];
                        spread = Math.max(spread, Math.abs(want[i * k + j] - want[i * k]));
                    }
                }
                assertClose("log p(z_" + pos + " | z_<" + pos + ", c)", got, want);
            }
        }
        assertThat(spread).as("the fixture's log-probabilities differ between codes").isGreaterThan(0.5);
    }

    @Test
    void prefixBatchesAnswerAsTheReferenceWhileTheyAreExtended() {
        PriorSpec spec = ReferenceModels.tinyPrior();
        ReferenceModels.PixelCnn ref = new ReferenceModels.PixelCnn(spec, 28);
        Path d = dir.resolve("prior-prefixes");
        ref.write(d);
        int p = spec.latent().positions();
        int k = spec.latent().codebookSize();
        SplittableRandom r = new SplittableRandom(8);
        for (int start : new int[] {0, 6}) {
            int n = start == 0 ? 11 : PortablePixelCnn.CHUNK + 5;
            long[] grids = randomGrids(n, p, k, 4 + start);
            long[] classes = new long[n];
            for (int i = 0; i < n; i++) {
                classes[i] = r.nextInt(3);
            }
            try (Prior prior = loader.loadPrior(d)) {
                PrefixBatch batch = prior.prefixes(backend.of(grids, n, p), backend.of(classes, n), start);
                try {
                    for (int pos = start; pos < p; pos++) {
                        assertThat(batch.position()).isEqualTo(pos);
                        assertThat(batch.size()).isEqualTo(n);
                        double[] expected = ref.logProbs(grids, classes);
                        double[] want = new double[n * k];
                        for (int i = 0; i < n; i++) {
                            System.arraycopy(expected, (i * p + pos) * k, want, i * k, k);
                        }
                        assertClose("prefix batch at position " + pos, batch.nextLogProbs(0, n).toFloatArray(), want);
                        int from = n / 3;
                        assertClose("rows [" + from + ", " + n + ") at position " + pos,
                                batch.nextLogProbs(from, n).toFloatArray(),
                                java.util.Arrays.copyOfRange(want, from * k, n * k));
                        // the next rows: random parents, repeats allowed, each extended by a random code
                        int m = n + r.nextInt(-2, 3);
                        int[] parents = new int[m];
                        int[] codes = new int[m];
                        long[] nextGrids = randomGrids(m, p, k, pos);
                        long[] nextClasses = new long[m];
                        for (int i = 0; i < m; i++) {
                            parents[i] = r.nextInt(n);
                            codes[i] = r.nextInt(k);
                            System.arraycopy(grids, parents[i] * p, nextGrids, i * p, pos);
                            nextGrids[i * p + pos] = codes[i];
                            nextClasses[i] = classes[parents[i]];
                        }
                        batch = batch.extend(parents, codes);
                        grids = nextGrids;
                        classes = nextClasses;
                        n = m;
                    }
                    assertThat(batch.position()).isEqualTo(p);
                } finally {
                    batch.close();
                }
            }
        }
    }

    @Test
    void priorLogProbAndMarginalMatchTheReference() {
        PriorSpec spec = ReferenceModels.tinyPrior();
        ReferenceModels.PixelCnn ref = new ReferenceModels.PixelCnn(spec, 22);
        Path d = dir.resolve("prior2");
        ref.write(d);
        int n = 7;
        int p = spec.latent().positions();
        long[] grids = randomGrids(n, p, spec.latent().codebookSize(), 2);
        long[] classes = {2, 1, 0, 2, 1, 0, 1};
        double[] expected = ref.logProb(grids, classes);
        double[] logPc = ref.classLogPrior();
        double[] marginal = new double[n];
        for (int i = 0; i < n; i++) {
            long[] one = java.util.Arrays.copyOfRange(grids, i * p, (i + 1) * p);
            double max = Double.NEGATIVE_INFINITY;
            double[] terms = new double[3];
            for (int c = 0; c < 3; c++) {
                terms[c] = logPc[c] + ref.logProb(one, new long[] {c})[0];
                max = Math.max(max, terms[c]);
            }
            double s = 0;
            for (double t : terms) {
                s += Math.exp(t - max);
            }
            marginal[i] = max + Math.log(s);
        }
        try (Prior prior = loader.loadPrior(d)) {
            assertClose("log p(c)", prior.classLogPrior().toFloatArray(), logPc);
            assertClose("log p(z | c)", prior.logProb(backend.of(grids, n, p), backend.of(classes, n)).toFloatArray(),
                    expected);
            assertClose("log p(z)", prior.marginalLogProb(backend.of(grids, n, p)).toFloatArray(), marginal);
        }
    }

    @Test
    void priorGivesTheSameRowsInOneLargeBatchAsInSmallOnes() {
        Path d = prior(23, "prior-large");
        PriorSpec spec = ReferenceModels.tinyPrior();
        int p = spec.latent().positions();
        int n = PortablePixelCnn.CHUNK + 21;
        long[] grids = randomGrids(n, p, spec.latent().codebookSize(), 3);
        long[] classes = new long[n];
        for (int i = 0; i < n; i++) {
            classes[i] = i % 3;
        }
        try (Prior prior = loader.loadPrior(d)) {
            float[] all = prior.logProb(backend.of(grids, n, p), backend.of(classes, n)).toFloatArray();
            int from = n - 30;
            float[] tail = prior.logProb(backend.of(java.util.Arrays.copyOfRange(grids, from * p, n * p), n - from, p),
                    backend.of(java.util.Arrays.copyOfRange(classes, from, n), n - from)).toFloatArray();
            for (int i = 0; i < tail.length; i++) {
                assertThat((double) all[from + i]).isCloseTo(tail[i], org.assertj.core.data.Offset.offset(1e-5));
            }
        }
    }

    @Test
    void theMarginalOfManyGridsIsTheLogSumExpOfTheClassJoints() {
        Path d = prior(29, "prior-marginal");
        PriorSpec spec = ReferenceModels.tinyPrior();
        int p = spec.latent().positions();
        int n = PortablePixelCnn.CHUNK / 3 + 17;
        long[] grids = randomGrids(n, p, spec.latent().codebookSize(), 5);
        try (Prior prior = loader.loadPrior(d)) {
            float[] marginal = prior.marginalLogProb(backend.of(grids, n, p)).toFloatArray();
            float[] logPc = prior.classLogPrior().toFloatArray();
            double[][] joint = new double[3][];
            for (int c = 0; c < 3; c++) {
                long[] classes = new long[n];
                java.util.Arrays.fill(classes, c);
                float[] lp = prior.logProb(backend.of(grids, n, p), backend.of(classes, n)).toFloatArray();
                joint[c] = new double[n];
                for (int i = 0; i < n; i++) {
                    joint[c][i] = logPc[c] + lp[i];
                }
            }
            double[] want = new double[n];
            for (int i = 0; i < n; i++) {
                double max = Math.max(joint[0][i], Math.max(joint[1][i], joint[2][i]));
                want[i] = max + Math.log(Math.exp(joint[0][i] - max) + Math.exp(joint[1][i] - max)
                        + Math.exp(joint[2][i] - max));
            }
            assertClose("log p(z) of " + n + " grids", marginal, want);
        }
    }

    @Test
    void samplingIsReproducibleAndFollowsTheLogProbs() {
        Path d = prior(24, "prior-sample");
        PriorSpec spec = ReferenceModels.tinyPrior();
        int n = 64;
        long[] classes = new long[n];
        try (Prior prior = loader.loadPrior(d)) {
            RandomGenerator a = new SplittableRandom(5);
            RandomGenerator b = new SplittableRandom(5);
            long[] first = prior.sample(backend.of(classes, n), a).toLongArray();
            long[] second = prior.sample(backend.of(classes, n), b).toLongArray();
            assertThat(first).containsExactly(second);
            float[] lp = prior.logProb(backend.of(first, n, spec.latent().positions()), backend.of(classes, n))
                    .toFloatArray();
            for (float v : lp) {
                assertThat(v).isFinite().isLessThanOrEqualTo(0f);
            }
        }
    }

    /** {@code values} as doubles. */
    private static double[] doubles(float[] values) {
        double[] d = new double[values.length];
        for (int i = 0; i < values.length; i++) {
            d[i] = values[i];
        }
        return d;
    }

    /** x W^T + b of rows x [n, in], in double precision. */
    private static double[] linear(double[] x, int n, LinearLayer l, Map<String, float[]> w) {
        float[] wt = w.get(l.weight().name());
        float[] b = w.get(l.bias().name());
        double[] y = new double[n * l.out()];
        for (int i = 0; i < n; i++) {
            for (int o = 0; o < l.out(); o++) {
                double s = b[o];
                for (int k = 0; k < l.in(); k++) {
                    s += x[i * l.in() + k] * wt[o * l.in() + k];
                }
                y[i * l.out() + o] = s;
            }
        }
        return y;
    }

    /** The classifier's log-probabilities equal a double-precision forward pass of the same weights. */
    @Test
    void classifierLogProbsMatchTheReference() {
        ClassifierSpec spec = new ClassifierSpec(ImageShape.MNIST, 4, List.of(3, 5), 7);
        ClassifierLayout layout = new ClassifierLayout(spec);
        Map<String, float[]> w = layout.initialValues(11);
        // weights four times PyTorch's initial scale, so the classes' log-probabilities differ clearly
        w.values().forEach(v -> {
            for (int i = 0; i < v.length; i++) {
                v[i] *= 4;
            }
        });
        List<SafeTensors.Entry> entries = new ArrayList<>();
        for (Parameter p : layout.parameters()) {
            entries.add(SafeTensors.Entry.of(p.name(), w.get(p.name()), p.shape()));
        }
        Path d = dir.resolve("classifier");
        new Checkpoint(Checkpoint.KIND_CLASSIFIER, spec.toJson(),
                Provenance.now(1, "synthetic", "reference", "reference", 0, 0, Map.of()), Map.of()).write(d, entries);
        int n = 3;
        double[] x = images(n, 5);
        double[] h = x;
        long[] shape = {n, 1, 28, 28};
        for (ConvLayer c : layout.features()) {
            long[] ws = c.weight().shape();
            h = ReferenceConv.activation(Activation.RELU, ReferenceConv.conv2d(h, shape, doubles(w.get(c.weight()
                    .name())), ws, doubles(w.get(c.bias().name())), c.stride(), c.paddingHeight(), c.paddingWidth()));
            shape = ReferenceConv.conv2dShape(shape, ws, c.stride(), c.paddingHeight(), c.paddingWidth());
        }
        double[] logits = linear(ReferenceConv.activation(Activation.RELU, linear(h, n, layout.hidden(), w)), n,
                layout.output(), w);
        double[] expected = new double[logits.length];
        for (int i = 0; i < n; i++) {
            double max = Double.NEGATIVE_INFINITY;
            for (int c = 0; c < 4; c++) {
                max = Math.max(max, logits[i * 4 + c]);
            }
            double sum = 0;
            for (int c = 0; c < 4; c++) {
                sum += Math.exp(logits[i * 4 + c] - max);
            }
            for (int c = 0; c < 4; c++) {
                expected[i * 4 + c] = logits[i * 4 + c] - max - Math.log(sum);
            }
        }
        try (Classifier classifier = loader.loadClassifier(d)) {
            assertThat(classifier.numClasses()).isEqualTo(4);
            assertClose("classifier log-probabilities", classifier.logProbs(backend.of(floats(x), n, 1, 28, 28))
                    .toFloatArray(), expected);
        }
    }

    @Test
    void badInputsAreTensorErrorsNamingTheOperation() {
        Path v = vqvae(DecoderHead.GAUSSIAN, 14, "bad-in");
        Path pr = prior(25, "bad-prior");
        try (Encoder enc = loader.loadEncoder(v); Decoder dec = loader.loadDecoder(v); Prior prior = loader.loadPrior(pr)) {
            assertThatThrownBy(() -> enc.encode(backend.zeros(DType.FLOAT32, 2, 1, 27, 28)))
                    .isInstanceOf(TensorException.class).hasMessageContaining("encode").hasMessageContaining("[2, 1, 27, 28]");
            assertThatThrownBy(() -> enc.encode(backend.zeros(DType.FLOAT64, 2, 1, 28, 28)))
                    .isInstanceOf(TensorException.class).hasMessageContaining("float32");
            assertThatThrownBy(() -> dec.decode(backend.of(new long[] {0, 1, 6}, 1, 3)))
                    .isInstanceOf(TensorException.class).hasMessageContaining("decode");
            long[] outside = new long[16];
            outside[5] = 6;
            assertThatThrownBy(() -> dec.decode(backend.of(outside, 1, 16)))
                    .isInstanceOf(TensorException.class).hasMessageContaining("code 6").hasMessageContaining("position 5");
            long[] grid = new long[12];
            assertThatThrownBy(() -> prior.nextLogProbs(backend.of(grid, 1, 12), backend.of(new long[] {3}, 1), 0))
                    .isInstanceOf(TensorException.class).hasMessageContaining("class 3");
            assertThatThrownBy(() -> prior.nextLogProbs(backend.of(grid, 1, 12), backend.of(new long[] {0}, 1), 12))
                    .isInstanceOf(TensorException.class).hasMessageContaining("position");
            assertThatThrownBy(() -> prior.logProb(backend.of(grid, 2, 6), backend.of(new long[] {0, 0}, 2)))
                    .isInstanceOf(TensorException.class).hasMessageContaining("logProb");
        }
    }

    /** Rewrites the weights of {@code d} with {@code edit} applied to the list of tensors. */
    private static void editWeights(Path d, java.util.function.Consumer<List<SafeTensors.Entry>> edit) {
        SafeTensors file = Checkpoint.weights(d);
        List<SafeTensors.Entry> entries = new ArrayList<>();
        for (String name : file.names()) {
            entries.add(file.get(name));
        }
        edit.accept(entries);
        SafeTensors.write(Checkpoint.weightsFile(d), entries, file.metadata());
    }

    private static int indexOf(List<SafeTensors.Entry> entries, String name) {
        for (int i = 0; i < entries.size(); i++) {
            if (entries.get(i).name().equals(name)) {
                return i;
            }
        }
        throw new AssertionError(name + " not in the fixture");
    }

    @Test
    void aMissingTensorIsNamedWithTheFile() {
        Path d = vqvae(DecoderHead.GAUSSIAN, 15, "missing");
        editWeights(d, e -> e.remove(indexOf(e, "decoder.res.0.bn1.running_var")));
        assertThatThrownBy(() -> loader.loadDecoder(d)).isInstanceOf(FormatException.class)
                .hasMessageContaining(Checkpoint.weightsFile(d).toString())
                .hasMessageContaining("decoder.res.0.bn1.running_var");
    }

    @Test
    void aMisshapenTensorIsNamedWithBothShapes() {
        Path d = prior(26, "misshapen");
        editWeights(d, e -> e.set(indexOf(e, "head.2.bias"), SafeTensors.Entry.of("head.2.bias", new float[4], 4)));
        assertThatThrownBy(() -> loader.loadPrior(d)).isInstanceOf(FormatException.class)
                .hasMessageContaining(Checkpoint.weightsFile(d).toString()).hasMessageContaining("head.2.bias")
                .hasMessageContaining("[4]").hasMessageContaining("[5]");
    }

    @Test
    void aTensorOfAnotherDtypeIsNamedWithTheFileAndTheBackend() {
        Path d = vqvae(DecoderHead.GAUSSIAN, 16, "dtype");
        editWeights(d, e -> {
            int i = indexOf(e, "codebook.weight");
            e.set(i, SafeTensors.Entry.of("codebook.weight", e.get(i).toDoubles(), 6, 3));
        });
        assertThatThrownBy(() -> loader.loadEncoder(d)).isInstanceOf(FormatException.class)
                .hasMessageContaining(Checkpoint.weightsFile(d).toString()).hasMessageContaining("codebook.weight")
                .hasMessageContaining("float64").hasMessageContaining("float32")
                .hasMessageContaining(backend.name());
    }

    @Test
    void anUnexpectedTensorIsNamed() {
        Path d = prior(27, "unexpected");
        editWeights(d, e -> e.add(SafeTensors.Entry.of("layers.9.vert.weight", new float[] {1}, 1)));
        assertThatThrownBy(() -> loader.loadPrior(d)).isInstanceOf(FormatException.class)
                .hasMessageContaining("layers.9.vert.weight");
    }

    @Test
    void aNewerFormatVersionOrAnUnknownArchitectureIsRefusedNamingTheFile() throws IOException {
        Path d = vqvae(DecoderHead.GAUSSIAN, 17, "newer");
        Path cfg = Checkpoint.configFile(d);
        String text = Files.readString(cfg);
        Files.writeString(cfg, text.replace("\"format_version\" : 1", "\"format_version\" : 2"));
        assertThatThrownBy(() -> loader.loadEncoder(d)).isInstanceOf(FormatException.class)
                .hasMessageContaining(cfg.toString()).hasMessageContaining("format_version")
                .hasMessageContaining("newer");
        Files.writeString(cfg, text.replace("\"vqvae-conv\"", "\"vqvae-transformer\""));
        assertThatThrownBy(() -> loader.loadDecoder(d)).isInstanceOf(FormatException.class)
                .hasMessageContaining(cfg.toString()).hasMessageContaining("vqvae-transformer")
                .hasMessageContaining(backend.name());
        Files.writeString(cfg, text);
        assertThatThrownBy(() -> loader.loadPrior(d)).isInstanceOf(FormatException.class)
                .hasMessageContaining("kind");
    }
}
