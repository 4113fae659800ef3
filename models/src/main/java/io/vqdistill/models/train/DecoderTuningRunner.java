package io.vqdistill.models.train;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.vqdistill.api.Backend;
import io.vqdistill.api.InvalidArgumentException;
import io.vqdistill.models.checkpoint.Checkpoint;
import io.vqdistill.models.checkpoint.Provenance;
import io.vqdistill.models.data.DataSplit;
import io.vqdistill.models.data.ImageSet;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * The engine-independent part of a {@link DecoderTuning} run: when the engine re-caches the
 * mixture's components, what the run is (its key, checkpoint and data description) and how
 * validation and test sets are measured.
 *
 * <p>The engine caches the leaves of all N components as the current decoder makes them; each
 * training step picks its candidates from that cache. The cache is made before the first step of a
 * run (or of a resumed run) and again at every validation and test, so each epoch chooses its
 * candidates with the decoder as the previous epoch left it. Validation and test measure the
 * mixture's log-likelihood log sum_n w_n p(x | decoder(z_n)) over all N components, in float64,
 * with the dequantisation noise of {@link VqVaeRunner}, in bits per dimension with the +8
 * convention.
 */
public abstract class DecoderTuningRunner extends EpochRunner {
    /** Images per evaluation batch. */
    public static final int EVAL_BATCH = 250;

    /** The run's settings. */
    protected final DecoderTuning tuning;
    /** The images. */
    protected final DataSplit data;
    private boolean cached;

    /**
     * A run of {@code tuning} on {@code data}; the images must have the VQ-VAE's shape.
     *
     * @see EpochRunner#EpochRunner
     */
    protected DecoderTuningRunner(DecoderTuning tuning, TrainingSpec training, DataSplit data, Backend backend,
            Path dir, TrainingListener listener) {
        super(Checkpoint.KIND_VQVAE, backend, training, dir, listener);
        if (!data.train().shape().equals(tuning.model().image())) {
            throw new InvalidArgumentException("the data's images are " + data.train().shape() + ", the VQ-VAE in "
                    + tuning.source() + " expects " + tuning.model().image());
        }
        this.tuning = tuning;
        this.data = data;
    }

    /** Decodes every component's grid with the current weights and caches their leaves for scoring. */
    protected abstract void cacheComponents();

    /**
     * One optimiser step on B dequantised images {@code pixels} [B, S]: their candidates from the
     * cache, decoded with the current weights. Returns the batch's mean loss per image, nats.
     */
    protected abstract double tuneStep(float[] pixels, int b);

    /** The cached mixture's log-likelihood of each of B dequantised images {@code pixels} [B, S], nats. */
    protected abstract double[] logLikelihoods(float[] pixels, int b);

    @Override
    protected final double trainStep(int[] indices, SplittableRandom noise) {
        if (!cached) {
            cacheComponents();
            cached = true;
        }
        return tuneStep(data.train().dequantised(indices, noise), indices.length);
    }

    @Override
    protected int trainSize() {
        return data.train().size();
    }

    /** The mean negative log-likelihood per image of {@code set}, nats, of the freshly cached mixture. */
    private double nll(ImageSet set, long noiseSeed) {
        cacheComponents();
        cached = true;
        SplittableRandom noise = new SplittableRandom(noiseSeed);
        return MixtureScores.meanNll(set.size(), EVAL_BATCH,
                idx -> logLikelihoods(set.dequantised(idx, noise), idx.length));
    }

    private double bpd(double nll) {
        return nll / (tuning.model().image().pixels() * tuning.model().image().channels() * Math.log(2)) + 8;
    }

    @Override
    protected Map<String, Double> validate() {
        double nll = nll(data.validation(), VqVaeRunner.VALIDATION_NOISE);
        return MixtureScores.validation(nll, bpd(nll));
    }

    @Override
    protected Map<String, Double> test() {
        double nll = nll(data.test(), VqVaeRunner.TEST_NOISE);
        return MixtureScores.test(nll, bpd(nll));
    }

    @Override
    protected Checkpoint describe(Provenance provenance, Map<String, Double> metrics) {
        return new Checkpoint(Checkpoint.KIND_VQVAE, tuning.model().toJson(), provenance, metrics);
    }

    @Override
    protected ObjectNode runKey() {
        ObjectNode key = runKey(tuning.model().toJson(), data);
        key.set("tuning", tuning.toJson());
        return key;
    }

    @Override
    protected String dataDescription() {
        return data.description();
    }

    @Override
    protected Map<String, String> provenanceDetails() {
        Map<String, String> m = new LinkedHashMap<>();
        m.put("tuned_from", tuning.source().toAbsolutePath().normalize().toString());
        m.put("tuned_for", tuning.mixture());
        m.put("tuning_components", Integer.toString(tuning.components()));
        m.put("tuning_candidates", Integer.toString(tuning.candidates()));
        return m;
    }
}
