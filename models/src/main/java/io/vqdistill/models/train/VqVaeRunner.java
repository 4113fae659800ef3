package io.vqdistill.models.train;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.vqdistill.api.Backend;
import io.vqdistill.api.InvalidArgumentException;
import io.vqdistill.models.checkpoint.Checkpoint;
import io.vqdistill.models.checkpoint.Provenance;
import io.vqdistill.models.data.DataSplit;
import io.vqdistill.models.data.ImageSet;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;

/**
 * The engine-independent part of training a VQ-VAE of a {@link VqVaeSpec} on a {@link DataSplit}:
 * what a run is (its key, checkpoint and data description) and how validation and test sets are
 * measured, in evaluation batches of {@value #EVAL_BATCH} images with fixed dequantisation noise.
 * An engine supplies the network through {@link #engine()}, {@link #trainStep} and
 * {@link #evaluateBatch}.
 */
public abstract class VqVaeRunner extends EpochRunner {
    /** Images per evaluation batch. */
    public static final int EVAL_BATCH = 500;
    /** Seeds the dequantisation noise of validation, so its numbers are comparable across epochs. */
    public static final long VALIDATION_NOISE = 0x7661_6c69_6461_7465L;
    /** Seeds the dequantisation noise of the test set. */
    public static final long TEST_NOISE = 0x7465_7374_7365_7421L;

    /** The architecture. */
    protected final VqVaeSpec spec;
    /** The images. */
    protected final DataSplit data;

    /**
     * What one evaluation batch of B images measured in inference mode.
     *
     * @param nllSum         the decoder's negative log-likelihood summed over the batch, nats
     * @param codebookLoss   ||sg(z_e) - e||^2 summed over the grid, averaged over the batch
     * @param commitmentLoss ||z_e - sg(e)||^2 summed over the grid, averaged over the batch
     * @param codes          the codes, image-major: B times the grid's positions
     */
    public record BatchEvaluation(double nllSum, double codebookLoss, double commitmentLoss, long[] codes) {
    }

    /**
     * A run of {@code spec} on {@code data}; the images must have the spec's shape.
     *
     * @see EpochRunner#EpochRunner
     */
    protected VqVaeRunner(VqVaeSpec spec, TrainingSpec training, DataSplit data, Backend backend, Path dir,
            TrainingListener listener) {
        super(Checkpoint.KIND_VQVAE, backend, training, dir, listener);
        if (!data.train().shape().equals(spec.image())) {
            throw new InvalidArgumentException("the data's images are " + data.train().shape() + ", the spec expects "
                    + spec.image());
        }
        this.spec = spec;
        this.data = data;
    }

    /**
     * Measures the images {@code indices} of {@code set} in inference mode; {@code noise} draws
     * dequantisation noise.
     */
    protected abstract BatchEvaluation evaluateBatch(ImageSet set, int[] indices, SplittableRandom noise);

    @Override
    protected int trainSize() {
        return data.train().size();
    }

    @Override
    protected Map<String, Double> validate() {
        Evaluation e = evaluate(data.validation(), VALIDATION_NOISE);
        Map<String, Double> m = new LinkedHashMap<>();
        m.put(VAL_LOSS, e.loss);
        m.put("val_nll", e.nll);
        m.put("val_bpd", e.bpd());
        m.put("codes_used", (double) e.codesUsed);
        m.put("perplexity", e.perplexity);
        return m;
    }

    @Override
    protected Map<String, Double> test() {
        Evaluation e = evaluate(data.test(), TEST_NOISE);
        Map<String, Double> m = new LinkedHashMap<>();
        m.put("test_loss", e.loss);
        m.put("test_nll", e.nll);
        m.put("test_bpd", e.bpd());
        m.put("test_codes_used", (double) e.codesUsed);
        m.put("test_perplexity", e.perplexity);
        m.put("test_distinct_grids", (double) e.distinctGrids);
        return m;
    }

    /** Mean loss and NLL per image (nats), codebook usage and distinct grids of a whole set, in inference mode. */
    private final class Evaluation {
        double loss;
        double nll;
        int codesUsed;
        double perplexity;
        int distinctGrids;

        double bpd() {
            double bits = nll / (spec.image().pixels() * Math.log(2));
            return spec.head() == DecoderHead.GAUSSIAN ? bits + 8 : bits;
        }
    }

    private Evaluation evaluate(ImageSet set, long seed) {
        SplittableRandom noise = new SplittableRandom(seed);
        long[] counts = new long[spec.latent().codebookSize()];
        Set<List<Long>> grids = new HashSet<>();
        double lossSum = 0;
        double nllSum = 0;
        int positions = spec.latent().positions();
        for (int from = 0; from < set.size(); from += EVAL_BATCH) {
            int[] idx = new int[Math.min(EVAL_BATCH, set.size() - from)];
            for (int i = 0; i < idx.length; i++) {
                idx[i] = from + i;
            }
            BatchEvaluation b = evaluateBatch(set, idx, noise);
            nllSum += b.nllSum();
            lossSum += b.nllSum() + idx.length * (b.codebookLoss() + spec.beta() * b.commitmentLoss());
            long[] codes = b.codes();
            for (int i = 0; i < idx.length; i++) {
                Long[] g = new Long[positions];
                for (int p = 0; p < positions; p++) {
                    g[p] = codes[i * positions + p];
                    counts[(int) codes[i * positions + p]]++;
                }
                grids.add(List.of(g));
            }
        }
        Evaluation e = new Evaluation();
        e.loss = lossSum / set.size();
        e.nll = nllSum / set.size();
        long total = 0;
        for (long c : counts) {
            total += c;
        }
        double entropy = 0;
        for (long c : counts) {
            if (c > 0) {
                e.codesUsed++;
                double p = (double) c / total;
                entropy -= p * Math.log(p);
            }
        }
        e.perplexity = Math.exp(entropy);
        e.distinctGrids = grids.size();
        return e;
    }

    @Override
    protected Checkpoint describe(Provenance provenance, Map<String, Double> metrics) {
        return new Checkpoint(Checkpoint.KIND_VQVAE, spec.toJson(), provenance, metrics);
    }

    @Override
    protected ObjectNode runKey() {
        return runKey(spec.toJson(), data);
    }

    @Override
    protected String dataDescription() {
        return data.description();
    }
}
