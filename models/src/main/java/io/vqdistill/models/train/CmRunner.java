package io.vqdistill.models.train;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.vqdistill.api.Backend;
import io.vqdistill.api.InvalidArgumentException;
import io.vqdistill.models.checkpoint.Checkpoint;
import io.vqdistill.models.checkpoint.Provenance;
import io.vqdistill.models.data.DataSplit;
import io.vqdistill.models.data.ImageSet;
import java.nio.file.Path;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * The engine-independent part of training a continuous mixture of a {@link CmSpec} on a
 * {@link DataSplit}: the integration points, what a run is (its key, checkpoint and data
 * description) and how validation and test sets are measured.
 *
 * <p>Each training step draws a new uniform shift of the spec's {@link RqmcLattice} from the epoch's
 * noise generator (d draws, before the batch's dequantisation noise) and hands the engine the M
 * shifted points in N(0, I). Validation and test use fixed points, shifted by the first draws of
 * generators seeded with {@link #VALIDATION_SHIFT} and {@link #TEST_SHIFT}, and measure the finite
 * mixture's log-likelihood log (1/M) sum_m p(x | z_m) in batches of at most {@value #EVAL_BATCH}
 * images (fewer for large M) with the dequantisation noise of {@link VqVaeRunner}. Bits per
 * dimension follow the +8 convention for Gaussian leaves.
 */
public abstract class CmRunner extends EpochRunner {
    /** The most images per evaluation batch. */
    public static final int EVAL_BATCH = 500;
    /** Evaluation batches hold at most this many image-point pairs. */
    private static final long EVAL_PAIRS = 1L << 21;
    /** Seeds the shift of the validation points. */
    public static final long VALIDATION_SHIFT = 0x636d_7661_6c69_6421L;
    /** Seeds the shift of the test points; a compiled circuit uses the same shift by default. */
    public static final long TEST_SHIFT = 0x636d_7465_7374_2121L;

    /** The architecture and its training settings. */
    protected final CmSpec spec;
    /** The images. */
    protected final DataSplit data;
    /** The lattice of {@link CmSpec#points()} points. */
    protected final RqmcLattice lattice;

    /**
     * A run of {@code spec} on {@code data}; the images must have the spec's shape.
     *
     * @see EpochRunner#EpochRunner
     */
    protected CmRunner(CmSpec spec, TrainingSpec training, DataSplit data, Backend backend, Path dir,
            TrainingListener listener) {
        super(Checkpoint.KIND_CM, backend, training, dir, listener);
        if (!data.train().shape().equals(spec.image())) {
            throw new InvalidArgumentException("the data's images are " + data.train().shape() + ", the spec expects "
                    + spec.image());
        }
        this.spec = spec;
        this.data = data;
        this.lattice = RqmcLattice.korobov(spec.points(), spec.latentDim());
    }

    /**
     * The M points of {@code lattice} shifted by the first draw of a generator seeded with
     * {@code shiftSeed}, in N(0, I), point-major [M, d].
     */
    public static float[] fixedPoints(RqmcLattice lattice, long shiftSeed) {
        return lattice.normal(lattice.shift(new SplittableRandom(shiftSeed)));
    }

    /**
     * One optimiser step of the spec's rule on the training images {@code indices} at the points
     * {@code z} ([M, d], point-major); {@code noise} draws the dequantisation noise. Returns the
     * batch's mean loss per image, nats.
     */
    protected abstract double trainStep(int[] indices, SplittableRandom noise, float[] z);

    /**
     * The mixture's log-likelihood log (1/M) sum_m p(x | z_m), nats, of each image {@code indices}
     * of {@code set} at the points {@code z}; {@code noise} draws the dequantisation noise.
     */
    protected abstract double[] logLikelihoods(ImageSet set, int[] indices, SplittableRandom noise, float[] z);

    @Override
    protected final double trainStep(int[] indices, SplittableRandom noise) {
        return trainStep(indices, noise, lattice.normal(lattice.shift(noise)));
    }

    @Override
    protected int trainSize() {
        return data.train().size();
    }

    /** Images per evaluation batch for M points. */
    static int evalBatch(int points) {
        return (int) Math.max(1, Math.min(EVAL_BATCH, EVAL_PAIRS / points));
    }

    /** The mean negative log-likelihood per image of {@code set}, nats, at the points of {@code shiftSeed}. */
    private double nll(ImageSet set, long noiseSeed, long shiftSeed) {
        float[] z = fixedPoints(lattice, shiftSeed);
        SplittableRandom noise = new SplittableRandom(noiseSeed);
        return MixtureScores.meanNll(set.size(), evalBatch(spec.points()), idx -> logLikelihoods(set, idx, noise, z));
    }

    private double bpd(double nll) {
        double bits = nll / (spec.variables() * Math.log(2));
        return spec.head() == DecoderHead.GAUSSIAN ? bits + 8 : bits;
    }

    @Override
    protected Map<String, Double> validate() {
        double nll = nll(data.validation(), VqVaeRunner.VALIDATION_NOISE, VALIDATION_SHIFT);
        return MixtureScores.validation(nll, bpd(nll));
    }

    @Override
    protected Map<String, Double> test() {
        double nll = nll(data.test(), VqVaeRunner.TEST_NOISE, TEST_SHIFT);
        return MixtureScores.test(nll, bpd(nll));
    }

    @Override
    protected Checkpoint describe(Provenance provenance, Map<String, Double> metrics) {
        return new Checkpoint(Checkpoint.KIND_CM, spec.toJson(), provenance, metrics);
    }

    @Override
    protected ObjectNode runKey() {
        return runKey(spec.toJson(), data);
    }

    @Override
    protected String dataDescription() {
        return data.description();
    }

    @Override
    protected Map<String, String> provenanceDetails() {
        return Map.of("lattice", lattice.describe());
    }
}
