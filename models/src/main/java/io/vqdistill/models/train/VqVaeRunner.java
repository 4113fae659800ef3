package io.vqdistill.models.train;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.vqdistill.api.Backend;
import io.vqdistill.api.InvalidArgumentException;
import io.vqdistill.formats.SafeTensors;
import io.vqdistill.models.checkpoint.Checkpoint;
import io.vqdistill.models.checkpoint.Provenance;
import io.vqdistill.models.data.DataSplit;
import io.vqdistill.models.data.ImageSet;
import io.vqdistill.models.data.Mnist;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;

/**
 * The engine-independent part of training a VQ-VAE of a {@link VqVaeSpec} on a {@link DataSplit}:
 * what a run is (its key, checkpoint and data description) and how validation and test sets are
 * measured, in evaluation batches of {@value #EVAL_BATCH} images with fixed dequantisation noise.
 * An engine supplies the network through {@link #network()}, {@link #step}, {@link #encode},
 * {@link #codebook()}, {@link #setCodebook} and {@link #evaluateBatch}; the codebook training of
 * the spec's {@link CodebookTraining} (EMA updates, dead-code restarts, k-means initialisation)
 * happens here, engine-free, through {@link CodebookUpdates}.
 */
public abstract class VqVaeRunner extends EpochRunner {
    /** Images per evaluation batch. */
    public static final int EVAL_BATCH = 500;
    /** Seeds the dequantisation noise of validation, so its numbers are comparable across epochs. */
    public static final long VALIDATION_NOISE = 0x7661_6c69_6461_7465L;
    /** Seeds the dequantisation noise of the test set. */
    public static final long TEST_NOISE = 0x7465_7374_7365_7421L;
    /** Mixed with the run's seed for the k-means initialisation's noise and its random start. */
    private static final long KMEANS_STREAM = -0x6b6d_6561_6e73L;

    /** The architecture. */
    protected final VqVaeSpec spec;
    /** The images. */
    protected final DataSplit data;
    private final CodebookUpdates updates;

    /**
     * What one training step did: the batch's mean loss per image and, when asked for, the encoder
     * outputs the step quantised and their codes.
     *
     * @param loss    the batch's mean training loss per image, nats
     * @param encoded the encoder outputs z_e before the step, one row of D values per grid position,
     *                image-major and positions row-major; null when not asked for
     * @param codes   the nearest code of each row of {@code encoded}; null when not asked for
     */
    public record Step(double loss, float[] encoded, long[] codes) {
    }

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
        this.updates = new CodebookUpdates(spec.codebook(), spec.latent().codebookSize(), spec.embeddingDim(),
                backend, training.seed());
    }

    /** The network and its optimiser on the engine. */
    protected abstract EpochRunner.Engine network();

    /**
     * One optimiser step on the training images {@code indices} ({@code noise} draws their
     * dequantisation noise); with {@code latents}, also the encoder outputs and codes of that step.
     */
    protected abstract Step step(int[] indices, SplittableRandom noise, boolean latents);

    /**
     * The encoder outputs (rows of D values, as in {@link Step#encoded()}) of the training images
     * {@code indices} as a training step computes them (BatchNorm on the batch's statistics),
     * changing nothing: no running statistics, no weights.
     */
    protected abstract float[] encode(int[] indices, SplittableRandom noise);

    /** The codebook as it is, K rows of D values. */
    protected abstract float[] codebook();

    /** Replaces the codebook by {@code values}, K rows of D values; the optimiser's state is kept. */
    protected abstract void setCodebook(float[] values);

    @Override
    protected final EpochRunner.Engine engine() {
        EpochRunner.Engine net = network();
        return spec.codebook().isGradient() ? net : new CodebookEngine(net);
    }

    @Override
    protected final double trainStep(int[] indices, SplittableRandom noise) {
        boolean latents = updates.afterEveryStep();
        Step s = step(indices, noise, latents);
        if (latents) {
            float[] codebook = updates.afterStep(s.encoded(), s.codes(), this::codebook);
            if (codebook != null) {
                setCodebook(codebook);
            }
        }
        return s.loss();
    }

    /**
     * Sets the codebook by k-means on the encoder outputs of the first training batches of the first
     * epoch (the same images in the same order as its first steps).
     */
    private void kmeansInitialisation() {
        CodebookTraining c = spec.codebook();
        int n = data.train().size();
        int[] order = Mnist.permutation(n, mix(training.seed(), 1));
        int images = Math.min(n, c.kmeansBatches() * training.batchSize());
        SplittableRandom noise = new SplittableRandom(mix(training.seed(), KMEANS_STREAM));
        int d = spec.embeddingDim();
        float[] points = new float[images * spec.latent().positions() * d];
        int at = 0;
        for (int from = 0; from < images; from += training.batchSize()) {
            float[] z = encode(Arrays.copyOfRange(order, from, Math.min(images, from + training.batchSize())), noise);
            System.arraycopy(z, 0, points, at, z.length);
            at += z.length;
        }
        double[] errors = new double[c.kmeansIterations() + 1];
        setCodebook(CodebookUpdates.kmeans(backend, points, d, spec.latent().codebookSize(), c.kmeansIterations(),
                new SplittableRandom(mix(training.seed(), KMEANS_STREAM + 1)), errors));
        listener.message(String.format(Locale.ROOT, "%s: k-means codebook from %d encoder outputs of %d images:"
                + " mean squared quantisation error %.4f at the random start, %.4f after %d Lloyd iterations",
                Checkpoint.KIND_VQVAE, points.length / d, images, errors[0], errors[c.kmeansIterations()],
                c.kmeansIterations()));
    }

    /** The network's engine with the codebook training's state saved and restored beside the optimiser's. */
    private final class CodebookEngine implements EpochRunner.Engine {
        private final EpochRunner.Engine net;

        CodebookEngine(EpochRunner.Engine net) {
            this.net = net;
        }

        @Override
        public void start(SafeTensors resume, long optimiserSteps) {
            if (resume == null) {
                net.start(null, optimiserSteps);
                if (spec.codebook().kmeans()) {
                    kmeansInitialisation();
                }
            } else {
                net.start(resume.withoutPrefix(CodebookUpdates.STATE_PREFIX), optimiserSteps);
                updates.restore(resume);
            }
        }

        @Override
        public long parameterCount() {
            return net.parameterCount();
        }

        @Override
        public long optimiserSteps() {
            return net.optimiserSteps();
        }

        @Override
        public List<SafeTensors.Entry> weights() {
            return net.weights();
        }

        @Override
        public List<SafeTensors.Entry> optimiserState() {
            List<SafeTensors.Entry> out = new ArrayList<>(net.optimiserState());
            out.addAll(updates.state());
            return out;
        }

        @Override
        public void loadBest(SafeTensors best) {
            net.loadBest(best);
        }

        @Override
        public void release() {
            net.release();
        }
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
            lossSum += b.nllSum() + idx.length * (spec.codebook().codebookLossWeight() * b.codebookLoss()
                    + spec.beta() * b.commitmentLoss());
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
