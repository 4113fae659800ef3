package io.vqdistill.distill.eval;

import io.vqdistill.api.Backend;
import io.vqdistill.api.InvalidArgumentException;
import io.vqdistill.api.Tensor;
import io.vqdistill.api.TensorScope;
import io.vqdistill.api.VqdistillException;
import io.vqdistill.api.circuit.Circuit;
import io.vqdistill.api.circuit.Precision;
import io.vqdistill.circuits.ShallowMixture;
import io.vqdistill.distill.ExactModel;
import io.vqdistill.models.data.ImageSet;
import java.util.Locale;
import java.util.Objects;
import java.util.SplittableRandom;
import java.util.function.Function;
import java.util.function.LongConsumer;

/**
 * Evaluates models on a fixed image set: every evaluation presents the same values (the
 * dequantisation noise is drawn from one seed, in image order), in batches, and reports the
 * log-likelihoods or the bits per dimension. Shallow-mixture circuits are scored at the evaluator's
 * {@link Precision}; other circuits have one precision of their own (term-by-term float32 sums) and
 * are evaluated only at {@link Precision#FAST}.
 */
public final class Evaluator {
    /** Default images per batch. */
    public static final int DEFAULT_BATCH = 500;

    private final ImageSet images;
    private final PixelEncoding encoding;
    private final long seed;
    private final int batch;
    private final Precision precision;

    /**
     * An evaluator at {@link Precision#FAST}.
     *
     * @param images   the evaluation images, at least one
     * @param encoding how pixels are presented
     * @param seed     the seed of the dequantisation noise
     * @param batch    images per model call, >= 1
     */
    public Evaluator(ImageSet images, PixelEncoding encoding, long seed, int batch) {
        this(images, encoding, seed, batch, Precision.FAST);
    }

    /**
     * An evaluator that scores shallow mixtures at {@code precision}.
     *
     * @param images    the evaluation images, at least one
     * @param encoding  how pixels are presented
     * @param seed      the seed of the dequantisation noise
     * @param batch     images per model call, >= 1
     * @param precision the precision of a shallow mixture's scores
     */
    public Evaluator(ImageSet images, PixelEncoding encoding, long seed, int batch, Precision precision) {
        this.images = Objects.requireNonNull(images, "images");
        this.encoding = Objects.requireNonNull(encoding, "encoding");
        this.precision = Objects.requireNonNull(precision, "precision");
        if (images.size() < 1) {
            throw new InvalidArgumentException("the evaluation set " + images.description() + " is empty");
        }
        if (batch < 1) {
            throw new InvalidArgumentException("batch must be >= 1, found " + batch);
        }
        this.seed = seed;
        this.batch = batch;
    }

    /** The evaluation images. */
    public ImageSet images() {
        return images;
    }

    /** How pixels are presented. */
    public PixelEncoding encoding() {
        return encoding;
    }

    /** The precision of a shallow mixture's scores. */
    public Precision precision() {
        return precision;
    }

    /**
     * log p(x) of every image under {@code model}, which maps a FLOAT32 [b, S] batch on
     * {@code backend} to its b log-likelihoods in nats.
     */
    public double[] logLikelihoods(Backend backend, Function<Tensor, double[]> model) {
        Objects.requireNonNull(backend, "backend");
        Objects.requireNonNull(model, "model");
        return logLikelihoods(backend, model, 0, images.size(), batch, done -> { });
    }

    /** Images per model call. */
    public int batch() {
        return batch;
    }

    /**
     * log p(x) of images [from, to) under {@code circuit}, with the values the whole-set evaluation
     * presents to them (the noise of the images before {@code from} is drawn and dropped). Batches start
     * at {@code from}: a range whose {@code from} is a multiple of {@link #batch()} is evaluated in
     * exactly the batches of the whole set, so its values equal the whole set's. {@code imagesDone}
     * hears the images of the range measured so far after each batch.
     *
     * @throws IndexOutOfBoundsException when [from, to) is not inside [0, size]
     */
    public double[] logLikelihoods(Circuit circuit, int from, int to, LongConsumer imagesDone) {
        Objects.requireNonNull(circuit, "circuit");
        Objects.requireNonNull(imagesDone, "imagesDone");
        Function<Tensor, double[]> model;
        if (circuit instanceof ShallowMixture mixture) {
            model = x -> mixture.logLikelihood(x, precision).toDoubleArray();
        } else {
            requireScorable(circuit, precision);
            model = x -> circuit.logLikelihood(x).toDoubleArray();
        }
        return logLikelihoods(circuit.backend(), model, from, to, batch, imagesDone);
    }

    /**
     * Throws unless {@code circuit} can be scored at {@code precision}: a shallow mixture at either,
     * any other circuit at {@link Precision#FAST} only (it has one precision of its own).
     *
     * @throws InvalidArgumentException for {@link Precision#DOUBLE} on a circuit that is not a shallow mixture
     */
    public static void requireScorable(Circuit circuit, Precision precision) {
        if (!(circuit instanceof ShallowMixture) && precision != Precision.FAST) {
            throw new InvalidArgumentException("precision " + precision.name().toLowerCase(Locale.ROOT)
                    + " applies to shallow mixtures only; this circuit is " + circuit.getClass().getSimpleName()
                    + ", which sums its leaves' float32 log-densities term by term (precision fast)");
        }
    }

    private double[] logLikelihoods(Backend backend, Function<Tensor, double[]> model, int from, int to,
                                    int batch, LongConsumer imagesDone) {
        int n = images.size();
        if (from < 0 || from > to || to > n) {
            throw new IndexOutOfBoundsException(images.description() + ": images [" + from + ", " + to
                    + ") outside [0, " + n + "]");
        }
        int s = images.shape().pixels();
        SplittableRandom rng = new SplittableRandom(seed);
        for (int start = 0; start < from; start += batch) {
            encoding.values(images, indices(start, Math.min(batch, from - start)), rng);
        }
        double[] out = new double[to - from];
        for (int start = from; start < to; start += batch) {
            int len = Math.min(batch, to - start);
            try (TensorScope scope = TensorScope.open()) {
                double[] ll = model.apply(backend.of(encoding.values(images, indices(start, len), rng), len, s));
                if (ll.length != len) {
                    throw new VqdistillException("the model returned " + ll.length + " log-likelihoods for a batch"
                            + " of " + len + " images");
                }
                System.arraycopy(ll, 0, out, start - from, len);
            }
            imagesDone.accept(start + len - from);
        }
        return out;
    }

    private static int[] indices(int start, int len) {
        int[] indices = new int[len];
        for (int i = 0; i < len; i++) {
            indices[i] = start + i;
        }
        return indices;
    }

    /** Bits per dimension of {@code circuit}. */
    public double bitsPerDim(Circuit circuit) {
        return bitsPerDim(circuit, done -> { });
    }

    /**
     * Bits per dimension of {@code circuit}, telling {@code imagesDone} how many images are measured
     * so far after each batch (the last batch reports every image).
     */
    public double bitsPerDim(Circuit circuit, LongConsumer imagesDone) {
        Objects.requireNonNull(circuit, "circuit");
        Objects.requireNonNull(imagesDone, "imagesDone");
        return BitsPerDim.of(logLikelihoods(circuit, 0, images.size(), imagesDone), images.shape().pixels(),
                encoding);
    }

    /**
     * Bits per dimension of the exact model, whose decoder computes on {@code backend}. The model sees
     * every image in one call, so that each of its grids is decoded once; the values are the same as
     * in batches.
     */
    public double bitsPerDim(Backend backend, ExactModel model) {
        return bitsPerDim(backend, model, summed -> { });
    }

    /**
     * Bits per dimension of the exact model as {@link #bitsPerDim(Backend, ExactModel)}, telling
     * {@code summed} how many of its grids are summed so far after each chunk.
     */
    public double bitsPerDim(Backend backend, ExactModel model, LongConsumer summed) {
        Objects.requireNonNull(model, "model");
        Objects.requireNonNull(summed, "summed");
        return BitsPerDim.of(logLikelihoodsInOneCall(backend, x -> model.logLikelihood(x, summed)),
                images.shape().pixels(), encoding);
    }

    /**
     * log p(x) of every image under a model that sees every image in one call (such as the exact model,
     * which then decodes each of its grids once), mapping a FLOAT32 [n, S] tensor on {@code backend} to
     * its n log-likelihoods in nats; the values presented are the same as in batches.
     */
    public double[] logLikelihoodsInOneCall(Backend backend, Function<Tensor, double[]> model) {
        Objects.requireNonNull(backend, "backend");
        Objects.requireNonNull(model, "model");
        return logLikelihoods(backend, model, 0, images.size(), images.size(), done -> { });
    }
}
