package io.vqdistill.models.train;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.vqdistill.api.Backend;
import io.vqdistill.api.FormatException;
import io.vqdistill.api.VqdistillException;
import io.vqdistill.api.fake.FakeBackend;
import io.vqdistill.formats.AtomicFolder;
import io.vqdistill.formats.SafeTensors;
import io.vqdistill.models.checkpoint.Checkpoint;
import io.vqdistill.models.checkpoint.Provenance;
import java.io.FilterOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The epoch loop's folder under faults, with a toy engine (no native code): a kill at every rename
 * boundary of every commit (each epoch's, and the final one) resumes to exactly the uninterrupted
 * result; a full disk keeps the last completed epoch; a second run into the folder fails at once;
 * damaged resume state (non-finite, torn between epochs, unknown fields) is an error naming file and
 * field.
 */
class EpochRunnerFaultTest {
    /** Validation losses of epochs 1..4: epochs 1 and 3 are the best so far, 2 and 4 are not. */
    private static final double[] VAL = {5, 6, 4, 7};
    private static final TrainingSpec FOUR_EPOCHS = new TrainingSpec(1e-3, 4, 4, 10, 11);
    private static final Backend BACKEND = new FakeBackend();

    @TempDir
    Path tmp;

    /** A run with one weight vector "w" and an optimiser moment "adam.m"; deterministic given the seeds. */
    static final class ToyRunner extends EpochRunner {
        private float[] w;
        private float[] m;
        private long steps;

        ToyRunner(Path dir, TrainingListener listener) {
            super(Checkpoint.KIND_VQVAE, BACKEND, FOUR_EPOCHS, dir, listener);
        }

        @Override
        protected Engine engine() {
            return new Engine() {
                @Override
                public void start(SafeTensors resume, long optimiserSteps) {
                    if (resume == null) {
                        w = new float[] {1, 2, 3, 4};
                        m = new float[] {0};
                    } else {
                        w = resume.get("w").toFloats();
                        m = resume.get("adam.m").toFloats();
                    }
                    steps = optimiserSteps;
                }

                @Override
                public long parameterCount() {
                    return w.length;
                }

                @Override
                public long optimiserSteps() {
                    return steps;
                }

                @Override
                public List<SafeTensors.Entry> weights() {
                    return List.of(SafeTensors.Entry.of("w", w.clone(), w.length));
                }

                @Override
                public List<SafeTensors.Entry> optimiserState() {
                    return List.of(SafeTensors.Entry.of("adam.m", m.clone(), 1));
                }

                @Override
                public void loadBest(SafeTensors best) {
                    w = best.get("w").toFloats();
                }

                @Override
                public void release() {
                }
            };
        }

        @Override
        protected double trainStep(int[] indices, SplittableRandom noise) {
            steps++;
            for (int i : indices) {
                w[i % w.length] += (float) (0.01 * i + noise.nextDouble());
            }
            m[0] = 0.9f * m[0] + w[0];
            return w[0];
        }

        @Override
        protected int trainSize() {
            return 10;
        }

        @Override
        protected Map<String, Double> validate() {
            int epoch = (int) (steps / 3);
            Map<String, Double> v = new LinkedHashMap<>();
            v.put(VAL_LOSS, VAL[epoch - 1]);
            v.put("w0", (double) w[0]);
            return v;
        }

        @Override
        protected Map<String, Double> test() {
            return Map.of("test_w_sum", (double) (w[0] + w[1] + w[2] + w[3]));
        }

        @Override
        protected Checkpoint describe(Provenance provenance, Map<String, Double> metrics) {
            ObjectNode architecture = JsonNodeFactory.instance.objectNode().put("type", "toy");
            return new Checkpoint(Checkpoint.KIND_VQVAE, architecture, provenance, metrics);
        }

        @Override
        protected ObjectNode runKey() {
            return JsonNodeFactory.instance.objectNode().put("toy", 1);
        }

        @Override
        protected String dataDescription() {
            return "toy";
        }
    }

    private static TrainingReport train(Path dir) {
        return new ToyRunner(dir, TrainingListener.NONE).run();
    }

    /** What must agree between two runs: the best weights and every metric but the times. */
    private static Map<String, Object> outcome(Path dir) {
        Checkpoint.Loaded c = Checkpoint.load(dir, Checkpoint.KIND_VQVAE);
        Map<String, Object> out = new LinkedHashMap<>();
        Map<String, Double> metrics = new LinkedHashMap<>(c.config().metrics());
        metrics.remove("train_seconds");
        out.put("metrics", metrics);
        out.put("best_epoch", c.config().provenance().bestEpoch());
        out.put("epochs", c.config().provenance().epochs());
        out.put("w", List.of(toList(c.weights().get("w").toFloats())));
        return out;
    }

    private static List<Float> toList(float[] v) {
        List<Float> out = new ArrayList<>();
        for (float f : v) {
            out.add(f);
        }
        return out;
    }

    /** The resume state left in {@code dir} must agree with itself and with the checkpoint. */
    private static void assertConsistent(Path dir) throws IOException {
        Path stateJson = dir.resolve("resume/state.json");
        if (!Files.exists(stateJson)) {
            assertThat(Checkpoint.exists(dir)).as("no resume state, so no checkpoint either").isFalse();
            return;
        }
        String json = Files.readString(stateJson);
        int epoch = Integer.parseInt(json.replaceAll("(?s).*\"epoch\" : (\\d+).*", "$1"));
        int best = Integer.parseInt(json.replaceAll("(?s).*\"best_epoch\" : (\\d+).*", "$1"));
        assertThat(Files.readAllLines(dir.resolve("metrics.csv"))).hasSize(epoch + 1);
        if (!json.contains("\"finished\" : true")) {
            assertThat(SafeTensors.read(dir.resolve("resume/state.safetensors")).metadata())
                    .containsEntry("epoch", Integer.toString(epoch));
        }
        assertThat(Checkpoint.read(dir).provenance().bestEpoch()).isEqualTo(best);
    }

    static Stream<Arguments> everyBoundaryOfEveryCommit() {
        // commits 1..4 after each epoch, 5 at the end of the run; the first commit creates the
        // folder, so it has nothing to move aside
        List<Arguments> out = new ArrayList<>();
        for (int commit = 1; commit <= 5; commit++) {
            for (AtomicFolder.Boundary b : AtomicFolder.Boundary.values()) {
                if (commit > 1 || b != AtomicFolder.Boundary.MOVED_ASIDE) {
                    out.add(Arguments.of(commit, b));
                }
            }
        }
        return out.stream();
    }

    @ParameterizedTest(name = "commit {0}, {1}")
    @MethodSource("everyBoundaryOfEveryCommit")
    void aKillAtEveryBoundaryOfEveryCommitResumesToTheUninterruptedResult(int commit, AtomicFolder.Boundary at)
            throws Exception {
        Path straight = tmp.resolve("straight");
        train(straight);
        Path killed = tmp.resolve("killed");
        AtomicInteger commits = new AtomicInteger();
        try (AutoCloseable hook = AtomicFolder.installFaultHook(new AtomicFolder.FaultHook() {
            @Override
            public void at(AtomicFolder.Boundary boundary, Path folder) {
                if (boundary == AtomicFolder.Boundary.STAGED) {
                    commits.incrementAndGet();
                }
                if (commits.get() == commit && boundary == at) {
                    throw new IllegalStateException("killed");
                }
            }
        })) {
            assertThatThrownBy(() -> train(killed)).hasMessage("killed");
        }
        // whatever the boundary, the folder is one whole commit: checkpoint, metrics and resume agree
        AtomicFolder.recover(killed);
        assertConsistent(killed);
        TrainingReport resumed = train(killed);
        assertThat(resumed.epochs()).isEqualTo(4);
        assertThat(resumed.bestEpoch()).isEqualTo(3);
        assertThat(outcome(killed)).isEqualTo(outcome(straight));
        assertThat(Files.readAllLines(killed.resolve("metrics.csv"))).hasSize(5);
        assertThat(killed.resolve("resume/state.safetensors")).doesNotExist();
        try (Stream<Path> s = Files.list(tmp)) {
            assertThat(s.map(p -> p.getFileName().toString())).containsExactlyInAnyOrder("straight", "killed");
        }
    }

    @Test
    void aKillRightAfterTheFirstCheckpointResumes() throws Exception {
        // the case an older writer could not resume: checkpoint written, resume state not yet
        Path straight = tmp.resolve("straight");
        train(straight);
        Path dir = tmp.resolve("run");
        TrainingListener killer = new TrainingListener() {
            @Override
            public void batchDone(int epoch, int batch, double loss) {
                if (epoch == 2) {
                    throw new IllegalStateException("killed in epoch 2");
                }
            }
        };
        assertThatThrownBy(() -> new ToyRunner(dir, killer).run()).hasMessage("killed in epoch 2");
        assertThat(Checkpoint.exists(dir)).isTrue();
        assertThat(dir.resolve("resume/state.json")).exists();
        assertConsistent(dir);
        train(dir);
        assertThat(outcome(dir)).isEqualTo(outcome(straight));
    }

    @Test
    void aFullDiskDuringACommitKeepsTheLastCompletedEpoch() throws Exception {
        Path straight = tmp.resolve("straight");
        train(straight);
        Path dir = tmp.resolve("run");
        AtomicInteger resumeFiles = new AtomicInteger();
        try (AutoCloseable hook = AtomicFolder.installFaultHook(new AtomicFolder.FaultHook() {
            @Override
            public OutputStream wrap(Path file, OutputStream out) {
                if (!file.getFileName().toString().equals(EpochRunner.STATE_WEIGHTS)
                        || resumeFiles.incrementAndGet() != 3) {
                    return out;
                }
                return new FilterOutputStream(out) {
                    private int written;

                    @Override
                    public void write(int b) throws IOException {
                        if (++written > 20) {
                            throw new IOException("No space left on device");
                        }
                        out.write(b);
                    }

                    @Override
                    public void write(byte[] b, int off, int len) throws IOException {
                        for (int i = 0; i < len; i++) {
                            write(b[off + i]);
                        }
                    }
                };
            }
        })) {
            assertThatThrownBy(() -> train(dir)).isInstanceOf(VqdistillException.class)
                    .hasMessageContaining(dir.toString()).hasMessageContaining("No space left on device");
        }
        assertConsistent(dir);
        assertThat(Files.readString(dir.resolve("resume/state.json"))).contains("\"epoch\" : 2,");
        Recorder rec = new Recorder();
        new ToyRunner(dir, rec).run();
        assertThat(rec.epochs).containsExactly(3, 4);
        assertThat(outcome(dir)).isEqualTo(outcome(straight));
    }

    /** Records the epochs run. */
    static final class Recorder implements TrainingListener {
        final List<Integer> epochs = new ArrayList<>();

        @Override
        public void epochDone(EpochMetrics metrics) {
            epochs.add(metrics.epoch());
        }
    }

    @Test
    void aSecondRunIntoTheSameFolderFailsAtOnceNamingIt() {
        Path dir = tmp.resolve("run");
        List<Throwable> second = new ArrayList<>();
        TrainingListener tryAgain = new TrainingListener() {
            @Override
            public void batchDone(int epoch, int batch, double loss) {
                if (epoch == 2 && batch == 1) {
                    try {
                        train(dir);
                    } catch (RuntimeException e) {
                        second.add(e);
                    }
                }
            }
        };
        new ToyRunner(dir, tryAgain).run();
        assertThat(second).singleElement().isInstanceOf(VqdistillException.class)
                .extracting(Throwable::getMessage).asString()
                .contains(dir + " is being written by another writer").contains("pid " + ProcessHandle.current().pid());
        assertThat(train(dir).epochs()).as("the finished run is reported").isEqualTo(4);
    }

    /** A run killed in epoch 2: the folder holds epoch 1's commit. */
    private Path killedInEpoch2(String name) {
        Path dir = tmp.resolve(name);
        TrainingListener killer = new TrainingListener() {
            @Override
            public void batchDone(int epoch, int batch, double loss) {
                if (epoch == 2) {
                    throw new IllegalStateException("killed");
                }
            }
        };
        assertThatThrownBy(() -> new ToyRunner(dir, killer).run()).hasMessage("killed");
        return dir;
    }

    @Test
    void damagedResumeStateIsAnErrorNamingFileAndField() throws IOException {
        Path nan = killedInEpoch2("nan");
        Path file = nan.resolve("resume/state.safetensors");
        SafeTensors st = SafeTensors.read(file);
        SafeTensors.write(file, List.of(st.get("w"), SafeTensors.Entry.of("adam.m", new float[] {Float.NaN}, 1)),
                st.metadata());
        assertThatThrownBy(() -> train(nan)).isInstanceOf(FormatException.class)
                .hasMessage(file + ": tensor 'adam.m': element 0 (index [0]) is NaN; every value must be finite");

        Path torn = killedInEpoch2("torn");
        Path tornFile = torn.resolve("resume/state.safetensors");
        SafeTensors t = SafeTensors.read(tornFile);
        SafeTensors.write(tornFile, List.of(t.get("w"), t.get("adam.m")), Map.of("epoch", "2"));
        assertThatThrownBy(() -> train(torn)).isInstanceOf(FormatException.class)
                .hasMessageContaining(tornFile.toString()).hasMessageContaining("__metadata__.epoch")
                .hasMessageContaining("after epoch 2 but state.json says 1");

        Path unknown = killedInEpoch2("unknown");
        Path stateJson = unknown.resolve("resume/state.json");
        Files.writeString(stateJson, Files.readString(stateJson).replace("\"epoch\" : 1,",
                "\"epoch\" : 1,\n  \"learning_rate\" : 0.1,"));
        assertThatThrownBy(() -> train(unknown)).isInstanceOf(FormatException.class)
                .hasMessageContaining(stateJson + ": learning_rate: unknown field");

        Path weights = killedInEpoch2("weights");
        Path w = Checkpoint.weightsFile(weights);
        SafeTensors.write(w, List.of(SafeTensors.Entry.of("w", new float[] {1, Float.POSITIVE_INFINITY, 3, 4}, 4)),
                Map.of());
        assertThatThrownBy(() -> Checkpoint.weights(weights)).isInstanceOf(FormatException.class)
                .hasMessage(w + ": tensor 'w': element 1 (index [1]) is Infinity; every value must be finite");
    }
}
