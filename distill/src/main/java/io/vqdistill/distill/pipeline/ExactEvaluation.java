package io.vqdistill.distill.pipeline;

import io.vqdistill.api.InvalidArgumentException;
import io.vqdistill.api.model.Decoder;
import io.vqdistill.api.model.LatentShape;
import io.vqdistill.api.model.Prior;
import io.vqdistill.circuits.Numerics;
import io.vqdistill.distill.ExactModel;
import io.vqdistill.distill.eval.BitsPerDim;
import io.vqdistill.distill.eval.Evaluator;
import io.vqdistill.distill.eval.PixelEncoding;
import io.vqdistill.models.data.ImageSet;
import java.nio.file.Path;
import java.util.Objects;
import java.util.function.Consumer;
import java.util.function.LongConsumer;

/**
 * The bits per dimension of the exact model ({@link ExactModel}) of a VQ-VAE and its prior on a data
 * set: every grid of the prior, streamed in chunks.
 *
 * <p>The grids can also be summed in shards ({@link #partialLogLikelihoods}) whose per-image parts
 * combine by log-add-exp in float64 ({@link #combine}), on one machine or many.
 *
 * @param bitsPerDim     the result
 * @param components     the number of grids summed
 * @param seconds        wall time of the evaluation
 * @param logLikelihoods log p(x) of every image, in nats
 */
public record ExactEvaluation(double bitsPerDim, long components, double seconds, double[] logLikelihoods) {
    /** The default number of grids decoded per chunk. */
    public static final int DEFAULT_CHUNK = 4096;
    /** The largest enumeration accepted. */
    public static final long MAX_GRIDS = 1L << 24;
    /** The name of the task {@link ProgressListener}s hear about. */
    public static final String TASK = "exact";

    /**
     * The exact model about to be measured.
     *
     * @param components the number of grids it sums
     * @param shape      the grids' shape and codebook size
     * @param chunk      grids decoded per chunk
     * @param backend    the name of the backend it computes on
     */
    public record Plan(long components, LatentShape shape, int chunk, String backend) {
    }

    /**
     * Loads the decoder and prior in {@code session} (once per session) and measures their exact model
     * on {@code images}, with the pixel encoding of the decoder's leaves and the default seed.
     *
     * @param chunk   grids decoded and evaluated at a time, >= 1
     * @param planned told the size of the model before the (long) evaluation starts
     * @throws io.vqdistill.api.InvalidArgumentException when {@code chunk} is below 1, or there are more
     *                                                   than {@value #MAX_GRIDS} grids
     */
    public static ExactEvaluation run(Session session, Path vqvae, Path prior, ImageSet images, int chunk,
                                      Consumer<Plan> planned) {
        return run(session, vqvae, prior, images, chunk, planned, ProgressListener.NONE);
    }

    /**
     * Measures the exact model as {@link #run(Session, Path, Path, ImageSet, int, Consumer)} does,
     * reporting the task {@value #TASK} in grids summed to {@code progress}.
     */
    public static ExactEvaluation run(Session session, Path vqvae, Path prior, ImageSet images, int chunk,
                                      Consumer<Plan> planned, ProgressListener progress) {
        Objects.requireNonNull(session, "session");
        Objects.requireNonNull(images, "images");
        Objects.requireNonNull(planned, "planned");
        Decoder decoder = session.decoder(vqvae);
        Prior p = session.prior(prior);
        ExactModel model = new ExactModel(session.backend(), p, decoder, chunk, MAX_GRIDS);
        planned.accept(new Plan(model.components(), p.latentShape(), chunk, session.backend().name()));
        long t0 = System.nanoTime();
        double[] ll = ProgressListener.track(progress, TASK, model.components(), "grids",
                summed -> evaluator(decoder, images).logLikelihoods(session.backend(), model, 0, model.components(),
                        summed));
        return of(ll, images.shape().pixels(), decoder.leafFamily(), model.components(),
                (System.nanoTime() - t0) / 1e9);
    }

    /**
     * One shard of the exact model: the part of log p(x) of every image that the grids with
     * enumeration indices [fromGrid, toGrid) contribute (log sum over them of p(z) p(x | z), in nats),
     * with the pixel values and chunks of {@link #run}. Shards whose bounds are multiples of
     * {@code chunk} and that cover every grid {@linkplain #combine combine} into the whole model's
     * log-likelihoods up to float64 rounding. No bound on the number of grids applies here: a shard is
     * as large as its range.
     *
     * @param summed hears the grids of the shard summed so far after each chunk
     * @throws IndexOutOfBoundsException when the range is not inside [0, K^(h*w)]
     */
    public static double[] partialLogLikelihoods(Session session, Path vqvae, Path prior, ImageSet images, int chunk,
                                                 long fromGrid, long toGrid, LongConsumer summed) {
        Objects.requireNonNull(session, "session");
        Objects.requireNonNull(images, "images");
        Decoder decoder = session.decoder(vqvae);
        ExactModel model = new ExactModel(session.backend(), session.prior(prior), decoder, chunk, Long.MAX_VALUE);
        return evaluator(decoder, images).logLikelihoods(session.backend(), model, fromGrid, toGrid, summed);
    }

    /**
     * Combines the per-image parts of two disjoint sets of grids: log(e^a + e^b) image by image, in
     * float64.
     *
     * @return a new array
     * @throws io.vqdistill.api.InvalidArgumentException when the lengths differ
     */
    public static double[] combine(double[] a, double[] b) {
        if (a.length != b.length) {
            throw new InvalidArgumentException("cannot combine parts of " + a.length + " and " + b.length + " images");
        }
        double[] out = new double[a.length];
        for (int i = 0; i < a.length; i++) {
            out[i] = Numerics.logAddExp(a[i], b[i]);
        }
        return out;
    }

    /**
     * The evaluation whose per-image log-likelihoods are {@code logLikelihoods}, e.g. combined from
     * shards: bits per dimension with the pixel encoding of {@code leafFamily}.
     *
     * @param pixels the pixels of one image
     */
    public static ExactEvaluation of(double[] logLikelihoods, int pixels, String leafFamily, long components,
                                     double seconds) {
        double bpd = BitsPerDim.of(logLikelihoods, pixels, PixelEncoding.forLeafFamily(leafFamily));
        return new ExactEvaluation(bpd, components, seconds, logLikelihoods);
    }

    private static Evaluator evaluator(Decoder decoder, ImageSet images) {
        return new Evaluator(images, PixelEncoding.forLeafFamily(decoder.leafFamily()), CircuitEvaluation.DEFAULT_SEED,
                Evaluator.DEFAULT_BATCH);
    }
}
