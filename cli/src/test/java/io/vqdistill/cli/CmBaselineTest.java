package io.vqdistill.cli;

import static io.vqdistill.cli.CliFixtures.run;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.vqdistill.api.Backend;
import io.vqdistill.api.BackendSelector;
import io.vqdistill.api.TensorScope;
import io.vqdistill.api.circuit.Precision;
import io.vqdistill.api.model.ImageShape;
import io.vqdistill.api.spi.BackendOptions;
import io.vqdistill.circuits.ShallowMixture;
import io.vqdistill.circuits.io.CircuitFiles;
import io.vqdistill.distill.pipeline.CmCompilation;
import io.vqdistill.distill.pipeline.ProgressListener;
import io.vqdistill.distill.pipeline.Session;
import io.vqdistill.models.data.DataSplit;
import io.vqdistill.models.data.ImageSet;
import io.vqdistill.models.train.CmDecoder;
import io.vqdistill.models.train.CmRule;
import io.vqdistill.models.train.CmRunner;
import io.vqdistill.models.train.CmSpec;
import io.vqdistill.models.train.CmTrainer;
import io.vqdistill.models.train.DecoderHead;
import io.vqdistill.models.train.TrainingListener;
import io.vqdistill.models.train.TrainingReport;
import io.vqdistill.models.train.TrainingSpec;
import io.vqdistill.models.train.VqVaeRunner;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The continuous-mixture baseline across engines and into a circuit: DJL and TensorFlow start from
 * the same weights and take the same first steps under both rules and with either decoder; the
 * compiled circuit's log-likelihood of the test images is the finite mixture's that the trainer
 * recorded, for a convolutional decoder compiled on each of the three backends too; and
 * {@code train cm --circuit-out} (with either decoder), {@code compile cm}, {@code evaluate},
 * {@code sample} and {@code inpaint} work end to end.
 */
class CmBaselineTest {
    private static final List<String> ENGINES = List.of("djl", "tensorflow");
    private static final int SIDE = 8;

    @TempDir
    Path tmp;

    private static ImageSet images(int n, long seed, String name) {
        SplittableRandom r = new SplittableRandom(seed);
        byte[] px = new byte[n * SIDE * SIDE];
        int[] labels = new int[n];
        for (int i = 0; i < n; i++) {
            int c = r.nextInt(3);
            labels[i] = c;
            for (int p = 0; p < SIDE * SIDE; p++) {
                int y = p / SIDE;
                px[i * SIDE * SIDE + p] = (byte) (y >= 1 + 2 * c && y < 3 + 2 * c ? 180 + r.nextInt(60) : r.nextInt(4));
            }
        }
        return new ImageSet(new ImageShape(1, SIDE, SIDE), px, labels, 3, name);
    }

    private static final DataSplit DATA = new DataSplit(images(64, 1, "train"), images(16, 2, "validation"),
            images(20, 3, "test"), "random 8x8 bars");

    private static CmSpec spec(CmRule rule) {
        return new CmSpec(new ImageShape(1, SIDE, SIDE), 4, List.of(16), DecoderHead.GAUSSIAN, 32, rule);
    }

    private static CmSpec convSpec(CmRule rule) {
        return new CmSpec(new ImageShape(1, SIDE, SIDE), 4, new CmDecoder.Conv(4), DecoderHead.GAUSSIAN, 32, rule);
    }

    @Test
    void bothEnginesTakeTheSameFirstStepsUnderBothRules() {
        for (CmRule rule : CmRule.values()) {
            bothEnginesTakeTheSameFirstSteps(spec(rule));
        }
    }

    @Test
    void bothEnginesTakeTheSameFirstStepsWithAConvolutionalDecoder() {
        bothEnginesTakeTheSameFirstSteps(convSpec(CmRule.TOP1));
    }

    private void bothEnginesTakeTheSameFirstSteps(CmSpec cm) {
        TrainingSpec training = new TrainingSpec(1e-2, 16, 2, 5, 5);
        CmRule rule = cm.rule();
        List<List<Double>> losses = new ArrayList<>();
        for (String engine : ENGINES) {
            try (Backend b = BackendSelector.discover().select(engine, new BackendOptions("cpu", 2))) {
                List<Double> steps = new ArrayList<>();
                b.capability(CmTrainer.class).orElseThrow().trainCm(cm, training, DATA,
                        tmp.resolve(cm.decoder().type() + "-" + rule.label() + "-" + engine),
                        new TrainingListener() {
                            @Override
                            public void batchDone(int epoch, int batch, double loss) {
                                steps.add(loss);
                            }
                        });
                losses.add(steps);
            }
        }
        List<Double> djl = losses.get(0);
        List<Double> tf = losses.get(1);
        assertThat(djl).hasSize(8);
        assertThat(tf).hasSameSizeAs(djl);
        for (int i = 0; i < djl.size(); i++) {
            assertThat(tf.get(i)).as("%s %s step %d", cm.decoder().type(), rule, i + 1)
                    .isCloseTo(djl.get(i), within(1e-4 * Math.max(1, Math.abs(djl.get(i)))));
        }
    }

    @Test
    void theCompiledCircuitHasTheMixtureLogLikelihoodTheTrainerRecorded() {
        int n = DATA.test().size();
        int[] all = new int[n];
        for (int i = 0; i < n; i++) {
            all[i] = i;
        }
        float[] x = DATA.test().dequantised(all, new SplittableRandom(VqVaeRunner.TEST_NOISE));
        for (String engine : ENGINES) {
            try (Backend b = BackendSelector.discover().select(engine, new BackendOptions("cpu", 2));
                    Session session = Session.owning(b)) {
                Path dir = tmp.resolve("cm-" + engine);
                TrainingReport report = b.capability(CmTrainer.class).orElseThrow().trainCm(spec(CmRule.TOP1),
                        new TrainingSpec(1e-2, 16, 4, 5, 2), DATA, dir, TrainingListener.NONE);
                Path circuitDir = tmp.resolve("circuit-" + engine);
                CmCompilation.Result r = CmCompilation.compile(session, dir, 32, CmRunner.TEST_SHIFT, circuitDir,
                        ProgressListener.NONE);
                assertThat(r.points()).isEqualTo(32);
                try (ShallowMixture circuit = (ShallowMixture) CircuitFiles.read(circuitDir, b);
                        TensorScope scope = TensorScope.open()) {
                    assertThat(circuit.components()).isEqualTo(32);
                    for (double w : circuit.logWeights()) {
                        assertThat(w).isCloseTo(-Math.log(32), within(1e-6));
                    }
                    double[] ll = circuit.logLikelihood(b.of(x, n, SIDE * SIDE), Precision.DOUBLE).toDoubleArray();
                    double mean = 0;
                    for (double v : ll) {
                        mean += v;
                    }
                    mean /= n;
                    assertThat(-mean).as(engine).isCloseTo(report.metrics().get("test_nll"), within(1e-4));
                }
            }
        }
    }

    @Test
    void aConvolutionalDecoderCompilesOnEveryBackendToTheMixtureTheTrainerRecorded() {
        int n = DATA.test().size();
        int[] all = new int[n];
        for (int i = 0; i < n; i++) {
            all[i] = i;
        }
        float[] x = DATA.test().dequantised(all, new SplittableRandom(VqVaeRunner.TEST_NOISE));
        CmSpec conv = convSpec(CmRule.LSE);
        Path dir = tmp.resolve("cm-conv");
        TrainingReport report;
        try (Backend tf = BackendSelector.discover().select("tensorflow", new BackendOptions("cpu", 2))) {
            report = tf.capability(CmTrainer.class).orElseThrow().trainCm(conv, new TrainingSpec(1e-2, 16, 3, 5, 2),
                    DATA, dir, TrainingListener.NONE);
        }
        for (String engine : List.of("djl", "nd4j", "tensorflow")) {
            try (Backend b = BackendSelector.discover().select(engine, new BackendOptions("cpu", 2));
                    Session session = Session.owning(b)) {
                Path circuitDir = tmp.resolve("conv-circuit-" + engine);
                CmCompilation.compile(session, dir, 32, CmRunner.TEST_SHIFT, circuitDir, ProgressListener.NONE);
                try (ShallowMixture circuit = (ShallowMixture) CircuitFiles.read(circuitDir, b);
                        TensorScope scope = TensorScope.open()) {
                    double[] ll = circuit.logLikelihood(b.of(x, n, SIDE * SIDE), Precision.DOUBLE).toDoubleArray();
                    double mean = 0;
                    for (double v : ll) {
                        mean += v;
                    }
                    assertThat(-mean / n).as(engine).isCloseTo(report.metrics().get("test_nll"), within(1e-4));
                }
            }
        }
    }

    @Test
    void trainCmTrainsAConvolutionalDecoder() throws IOException {
        Path data = tmp.resolve("mnist");
        CliFixtures.writeStripedMnist(data);
        Path cm = tmp.resolve("cm-conv");
        String out = run("train", "cm", "--backend", "tensorflow", "--data", data.toString(), "--limit", "40",
                "--points", "16", "--decoder", "conv", "--channels", "4", "--latent-dim", "4", "--epochs", "1",
                "--batch", "8", "--out", cm.toString(), "--circuit-out", tmp.resolve("cm-conv-circuit").toString());
        assertThat(out).contains("cm: epochs 1..1, 5 steps per epoch").contains("test_bpd")
                .contains("compiled a continuous mixture: 16 components");
        assertThat(Files.readString(cm.resolve("config.json"))).contains("\"type\" : \"cm-conv\"")
                .contains("\"channels\" : 4");

        CliFixtures.Run unknown = CliFixtures.execute("train", "cm", "--data", data.toString(), "--decoder", "rnn",
                "--out", tmp.resolve("cm-rnn").toString());
        assertThat(unknown.status()).isEqualTo(2);
        assertThat(unknown.err()).contains("unknown --decoder 'rnn'; known: mlp, conv");
    }

    @Test
    void trainCmWritesACircuitThatTheQueryCommandsAccept() throws IOException {
        Path data = tmp.resolve("mnist");
        CliFixtures.writeStripedMnist(data);
        Path cm = tmp.resolve("cm");
        Path circuit = tmp.resolve("cm-circuit");
        String out = run("train", "cm", "--backend", "tensorflow", "--data", data.toString(), "--limit", "40",
                "--points", "16", "--hidden", "8", "--latent-dim", "4", "--rule", "top1", "--epochs", "2",
                "--batch", "8", "--out", cm.toString(), "--circuit-out", circuit.toString());
        assertThat(out).contains("cm: epochs 1..2, 5 steps per epoch").contains("test_bpd")
                .contains("compiled a continuous mixture: 16 components (rank-1 Korobov lattice, M = 16, d = 4");
        JsonNode json = new ObjectMapper().readTree(Files.readString(circuit.resolve(CircuitFiles.JSON)));
        assertThat(json.get("components").asInt()).isEqualTo(16);
        assertThat(json.get("provenance").get("model").asText()).isEqualTo(CmCompilation.MODEL);
        assertThat(json.get("provenance").get("cm.rule").asText()).isEqualTo("top1");

        Path bigger = tmp.resolve("cm-circuit-64");
        out = run("compile", "cm", "--backend", "djl", "--checkpoint", cm.toString(), "--points", "64", "--out",
                bigger.toString());
        assertThat(out).contains("compiled a continuous mixture: 64 components");
        out = run("evaluate", "--backend", "djl", "--data", data.toString(), "--circuit", bigger.toString());
        assertThat(out).contains("test BPD").contains("on 20 test images");
        out = run("sample", "--backend", "djl", "--circuit", bigger.toString(), "--count", "4", "--out",
                tmp.resolve("samples.png").toString());
        assertThat(tmp.resolve("samples.png")).exists();
        out = run("inpaint", "--backend", "djl", "--data", data.toString(), "--circuit", bigger.toString(), "--mask",
                "right", "--query", "mode", "--out", tmp.resolve("inpaint.png").toString());
        assertThat(out).contains("inpainted");
        assertThat(tmp.resolve("inpaint.png")).exists();
    }
}
