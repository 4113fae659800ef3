package io.vqdistill.distill.pipeline;

import io.vqdistill.api.InvalidArgumentException;
import io.vqdistill.api.Tensor;
import io.vqdistill.api.TensorScope;
import io.vqdistill.api.circuit.LeafFamily;
import io.vqdistill.circuits.LeafFamilies;
import io.vqdistill.circuits.ShallowMixture;
import io.vqdistill.circuits.io.CircuitFiles;
import io.vqdistill.models.checkpoint.Checkpoint;
import io.vqdistill.models.nn.PortableCmDecoder;
import io.vqdistill.models.train.CmRunner;
import io.vqdistill.models.train.CmSpec;
import io.vqdistill.models.train.RqmcLattice;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.function.LongConsumer;

/**
 * Compiles a trained continuous mixture into an ordinary shallow-mixture circuit: the decoder of a
 * checkpoint of kind {@link Checkpoint#KIND_CM} decodes the M points of its randomised
 * quasi-Monte-Carlo lattice once (in batches of {@value #DECODE_BATCH}) into the leaves of M
 * components with weights 1/M, written with {@link CircuitFiles} so that every circuit query works on
 * it. The provenance records that the circuit is a continuous mixture: the checkpoint, its rule, the
 * lattice and the seed of its shift. With the checkpoint's own number of points and the default
 * shift seed ({@link CmRunner#TEST_SHIFT}) the circuit is the finite mixture the trainer measured
 * the test set with.
 */
public final class CmCompilation {
    /** Points per decoder call. */
    public static final int DECODE_BATCH = 256;
    /** The name of the decoding task {@link ProgressListener}s hear about. */
    public static final String DECODE_TASK = "decode";
    /** The provenance value of {@code model} that marks a continuous mixture. */
    public static final String MODEL = "continuous mixture";

    private CmCompilation() {
    }

    /**
     * What a compilation made.
     *
     * @param out        the circuit folder
     * @param points     M, the components
     * @param parameters the circuit's parameter count
     * @param leafFamily the leaves' family
     * @param lattice    the lattice's description
     * @param seconds    wall time of decoding and writing
     */
    public record Result(Path out, int points, long parameters, String leafFamily, String lattice, double seconds) {
    }

    /**
     * Decodes the {@code points} points of the checkpoint {@code checkpoint}'s lattice, shifted by the
     * first draw of a generator seeded with {@code shiftSeed}, on the session's backend, and writes
     * the circuit into {@code out}.
     *
     * @throws InvalidArgumentException when {@code points} is below 1
     * @throws io.vqdistill.api.FormatException when {@code checkpoint} is not a continuous-mixture checkpoint
     */
    public static Result compile(Session session, Path checkpoint, int points, long shiftSeed, Path out,
            ProgressListener progress) {
        Objects.requireNonNull(session, "session");
        if (points < 1) {
            throw InvalidArgumentException.of("points", points, ">= 1");
        }
        long start = System.nanoTime();
        Checkpoint config = Checkpoint.read(checkpoint, Checkpoint.KIND_CM);
        try (PortableCmDecoder decoder = PortableCmDecoder.load(session.backend(), checkpoint)) {
            CmSpec spec = decoder.spec();
            RqmcLattice lattice = RqmcLattice.korobov(points, spec.latentDim());
            float[] z = CmRunner.fixedPoints(lattice, shiftSeed);
            LeafFamily family = LeafFamilies.create(spec.head().leafFamily());
            Map<String, Tensor> parameters = ProgressListener.track(progress, DECODE_TASK, points, "points",
                    done -> decode(session, decoder, z, points, done));
            long parameterCount;
            try (ShallowMixture mixture = ShallowMixture.builder(family).parameters(parameters).build()) {
                Map<String, String> provenance = new LinkedHashMap<>();
                provenance.put("model", MODEL);
                provenance.put("cm.checkpoint", checkpoint.toAbsolutePath().normalize().toString());
                provenance.put("cm.checkpoint_created", config.provenance().created());
                provenance.put("cm.rule", spec.rule().label());
                provenance.put("cm.training_points", Integer.toString(spec.points()));
                provenance.put("cm.points", Integer.toString(points));
                provenance.put("cm.lattice", lattice.describe());
                provenance.put("cm.shift_seed", Long.toString(shiftSeed));
                provenance.put("cm.leaf_family", family.name());
                CircuitFiles.write(out, mixture, provenance);
                parameterCount = mixture.parameterCount();
            } finally {
                parameters.values().forEach(Tensor::close);
            }
            return new Result(out, points, parameterCount, family.name(), lattice.describe(),
                    (System.nanoTime() - start) / 1e9);
        }
    }

    private static Map<String, Tensor> decode(Session session, PortableCmDecoder decoder, float[] z, int points,
            LongConsumer done) {
        int d = decoder.spec().latentDim();
        Map<String, List<Tensor>> parts = new LinkedHashMap<>();
        try (TensorScope scope = TensorScope.open()) {
            for (int from = 0; from < points; from += DECODE_BATCH) {
                int len = Math.min(DECODE_BATCH, points - from);
                float[] batch = new float[len * d];
                System.arraycopy(z, from * d, batch, 0, batch.length);
                decoder.decode(session.backend().of(batch, len, d))
                        .forEach((name, t) -> parts.computeIfAbsent(name, k -> new ArrayList<>()).add(t));
                done.accept(from + len);
            }
            Map<String, Tensor> out = new LinkedHashMap<>();
            parts.forEach((name, list) -> out.put(name, scope.keep(list.size() == 1 ? list.get(0)
                    : list.get(0).backend().concat(list, 0))));
            return out;
        }
    }
}
