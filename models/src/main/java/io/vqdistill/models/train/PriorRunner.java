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
 * The engine-independent part of training the class-conditional prior of a {@link PriorSpec} on the
 * code grids a VQ-VAE checkpoint assigns to a {@link DataSplit}: the checks, the class prior, the
 * encoding of the three sets (in batches of {@value VqVaeRunner#EVAL_BATCH} images with fixed
 * dequantisation noise), what a run is (its key, checkpoint and provenance) and how validation and
 * test grids are measured, in batches of {@value #EVAL_BATCH}. An engine supplies the VQ-VAE's
 * encoder ({@link #encodeWith}, from its constructor), the network ({@link #engine()},
 * {@link #trainStep}) and {@link #nllSum}.
 */
public abstract class PriorRunner extends EpochRunner {
    /** Grids per evaluation batch. */
    public static final int EVAL_BATCH = 1000;

    /** The architecture. */
    protected final PriorSpec spec;
    /** The images. */
    protected final DataSplit data;
    /** The VQ-VAE checkpoint folder. */
    protected final Path vqVaeDir;
    /** The VQ-VAE's architecture. */
    protected final VqVaeSpec vqVaeSpec;
    /** log p(c), the label frequencies of {@code data.train()}. */
    protected final float[] classLogPrior;
    private final Checkpoint vqVae;
    private Grids train;
    private Grids validation;
    private Grids test;

    /**
     * The code grids of a set of images, with the images' labels: {@code codes} holds
     * size * positions codes, grid after grid, in raster order.
     *
     * @param codes     the codes
     * @param labels    one label per grid
     * @param positions h * w
     */
    public record Grids(long[] codes, int[] labels, int positions) {
        /** Number of grids. */
        public int size() {
            return labels.length;
        }

        /** The codes of grids {@code indices}, grid after grid. */
        public long[] codes(int[] indices) {
            long[] out = new long[indices.length * positions];
            for (int i = 0; i < indices.length; i++) {
                System.arraycopy(codes, indices[i] * positions, out, i * positions, positions);
            }
            return out;
        }

        /** The labels of grids {@code indices}. */
        public long[] labels(int[] indices) {
            long[] out = new long[indices.length];
            for (int i = 0; i < indices.length; i++) {
                out[i] = labels[indices[i]];
            }
            return out;
        }
    }

    /** Encodes a batch of images with the VQ-VAE in inference mode. */
    @FunctionalInterface
    public interface BatchEncoder {
        /**
         * Codes of {@code n} images {@code pixels} (NCHW, dequantised), grid after grid.
         *
         * @return n * positions codes
         */
        long[] encode(float[] pixels, int n);
    }

    /**
     * A run of {@code spec} on the grids the VQ-VAE of {@code vqVaeDir} assigns to {@code data};
     * the latent shape and the number of classes must match.
     *
     * @see EpochRunner#EpochRunner
     */
    protected PriorRunner(PriorSpec spec, TrainingSpec training, Path vqVaeDir, DataSplit data, Backend backend,
            Path dir, TrainingListener listener) {
        super(Checkpoint.KIND_PRIOR, backend, training, dir, listener);
        this.vqVae = Checkpoint.read(vqVaeDir, Checkpoint.KIND_VQVAE);
        VqVaeSpec vq = VqVaeSpec.fromJson(vqVae.architecture(), Checkpoint.configFile(vqVaeDir));
        if (!vq.latent().equals(spec.latent())) {
            throw new InvalidArgumentException("the prior's latent shape " + spec.latent()
                    + " differs from the VQ-VAE's " + vq.latent() + " in " + vqVaeDir);
        }
        if (spec.numClasses() != data.train().numClasses()) {
            throw new InvalidArgumentException("the prior has " + spec.numClasses() + " classes, the data "
                    + data.train().numClasses());
        }
        this.spec = spec;
        this.data = data;
        this.vqVaeDir = vqVaeDir;
        this.vqVaeSpec = vq;
        int[] counts = data.train().classCounts();
        this.classLogPrior = new float[counts.length];
        for (int c = 0; c < counts.length; c++) {
            classLogPrior[c] = (float) Math.log((double) counts[c] / data.train().size());
        }
    }

    /**
     * Encodes the training, validation and test images with {@code encoder}; a subclass calls it
     * once from its constructor, with the VQ-VAE of {@link #vqVaeDir} loaded.
     */
    protected final void encodeWith(BatchEncoder encoder) {
        listener.message("prior: encoding the data with " + vqVaeDir);
        train = encode(encoder, data.train(), VqVaeRunner.VALIDATION_NOISE ^ 1);
        validation = encode(encoder, data.validation(), VqVaeRunner.VALIDATION_NOISE);
        test = encode(encoder, data.test(), VqVaeRunner.TEST_NOISE);
    }

    private Grids encode(BatchEncoder encoder, ImageSet set, long seed) {
        int positions = spec.latent().positions();
        long[] codes = new long[set.size() * positions];
        SplittableRandom noise = new SplittableRandom(seed);
        for (int from = 0; from < set.size(); from += VqVaeRunner.EVAL_BATCH) {
            int[] idx = range(from, Math.min(VqVaeRunner.EVAL_BATCH, set.size() - from));
            long[] c = encoder.encode(set.dequantised(idx, noise), idx.length);
            System.arraycopy(c, 0, codes, from * positions, c.length);
        }
        return new Grids(codes, set.labels(), positions);
    }

    private static int[] range(int from, int n) {
        int[] idx = new int[n];
        for (int i = 0; i < n; i++) {
            idx[i] = from + i;
        }
        return idx;
    }

    /** The training grids. */
    protected final Grids trainGrids() {
        return train;
    }

    /** -log p(z | c) summed over the grids {@code indices} of {@code grids}, nats. */
    protected abstract double nllSum(Grids grids, int[] indices);

    @Override
    protected int trainSize() {
        return train.size();
    }

    @Override
    protected Map<String, Double> validate() {
        double nll = nll(validation);
        Map<String, Double> m = new LinkedHashMap<>();
        m.put(VAL_LOSS, nll);
        m.put("val_bits", nll / Math.log(2));
        return m;
    }

    @Override
    protected Map<String, Double> test() {
        double nll = nll(test);
        Map<String, Double> m = new LinkedHashMap<>();
        m.put("test_nll", nll);
        m.put("test_bits", nll / Math.log(2));
        m.put("test_nll_per_position", nll / spec.latent().positions());
        return m;
    }

    /** Mean -log p(z | c) per grid, in nats. */
    private double nll(Grids grids) {
        double sum = 0;
        for (int from = 0; from < grids.size(); from += EVAL_BATCH) {
            sum += nllSum(grids, range(from, Math.min(EVAL_BATCH, grids.size() - from)));
        }
        return sum / grids.size();
    }

    @Override
    protected Checkpoint describe(Provenance provenance, Map<String, Double> metrics) {
        return new Checkpoint(Checkpoint.KIND_PRIOR, spec.toJson(), provenance, metrics);
    }

    @Override
    protected ObjectNode runKey() {
        ObjectNode n = runKey(spec.toJson(), data);
        n.put("vqvae", vqVaeDir.toAbsolutePath().normalize().toString());
        n.put("vqvae_created", vqVae.provenance().created());
        return n;
    }

    @Override
    protected String dataDescription() {
        return data.description() + "; grids by the VQ-VAE " + vqVaeDir;
    }

    @Override
    protected Map<String, String> provenanceDetails() {
        return Map.of("vqvae", vqVaeDir.toAbsolutePath().normalize().toString(),
                "vqvae_created", vqVae.provenance().created());
    }
}
