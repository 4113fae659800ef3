package io.vqdistill.distill.pipeline;

import io.vqdistill.api.InvalidArgumentException;
import io.vqdistill.api.circuit.Precision;
import io.vqdistill.api.model.Decoder;
import io.vqdistill.api.model.LatentShape;
import io.vqdistill.api.model.Prior;
import io.vqdistill.circuits.Numerics;
import io.vqdistill.distill.ExactModel;
import io.vqdistill.distill.eval.BitsPerDim;
import io.vqdistill.distill.eval.Evaluator;
import io.vqdistill.distill.eval.PixelEncoding;
import io.vqdistill.formats.Digests;
import io.vqdistill.models.checkpoint.Checkpoint;
import io.vqdistill.models.data.ImageSet;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.function.Consumer;
import java.util.function.LongConsumer;
import java.util.stream.IntStream;

/**
 * The bits per dimension of the exact model ({@link ExactModel}) of a VQ-VAE and its prior on a data
 * set: every grid of the prior, streamed in chunks, optionally saving the partial sum after every
 * chunk ({@link ExactState}) so that a killed run continues where it stopped.
 *
 * <p>The grids can also be summed in shards ({@link #partialLogLikelihoods}) whose per-image parts
 * combine by log-add-exp in float64 ({@link #combine}), on one machine or many.
 *
 * @param bitsPerDim     the result
 * @param components     the number of grids summed
 * @param resumed        the grids summed by an earlier run whose saved state this one continued (0 for none)
 * @param seconds        wall time of this run's evaluation
 * @param logLikelihoods log p(x) of every image, in nats
 */
public record ExactEvaluation(double bitsPerDim, long components, long resumed, double seconds,
                              double[] logLikelihoods) {
    /** The default number of grids decoded per chunk. */
    public static final int DEFAULT_CHUNK = 4096;
    /** The largest enumeration accepted. */
    public static final long MAX_GRIDS = 1L << 24;
    /** The name of the task {@link ProgressListener}s hear about. */
    public static final String TASK = "exact";

    /**
     * How the exact model is summed.
     *
     * @param chunk     grids decoded and evaluated at a time, >= 1
     * @param precision the precision of every chunk's mixture scores
     * @param state     the file the partial sum is saved to after every chunk and resumed from when it
     *                  exists; null to keep nothing
     */
    public record Settings(int chunk, Precision precision, Path state) {
        /** Validates the settings. */
        public Settings {
            if (chunk < 1) {
                throw InvalidArgumentException.of("chunk", chunk, ">= 1");
            }
            Objects.requireNonNull(precision, "precision");
        }

        /** Chunks of {@code chunk} grids at {@link Precision#FAST}, keeping no state. */
        public static Settings of(int chunk) {
            return new Settings(chunk, Precision.FAST, null);
        }
    }

    /**
     * The exact model about to be measured.
     *
     * @param components the number of grids it sums
     * @param shape      the grids' shape and codebook size
     * @param chunk      grids decoded per chunk
     * @param backend    the name of the backend it computes on
     * @param precision  the precision of the chunks' scores
     * @param resumed    the grids an earlier run summed already (0 for a new sum)
     */
    public record Plan(long components, LatentShape shape, int chunk, String backend, Precision precision,
                       long resumed) {
    }

    /**
     * Loads the decoder and prior in {@code session} (once per session) and measures their exact model
     * on {@code images}, with the pixel encoding of the decoder's leaves and the default seed, at
     * {@link Precision#FAST}, keeping no state.
     *
     * @param chunk   grids decoded and evaluated at a time, >= 1
     * @param planned told the size of the model before the (long) evaluation starts
     * @throws InvalidArgumentException when {@code chunk} is below 1, or there are more than
     *                                  {@value #MAX_GRIDS} grids
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
        return run(session, vqvae, prior, images, Settings.of(chunk), planned, progress);
    }

    /**
     * Measures the exact model with {@code settings}, reporting the task {@value #TASK} in grids summed
     * to {@code progress}. With a state file, a saved partial sum is checked against this run (the
     * SHA-256 of both checkpoints' weights, the images, the seed, the chunk, the precision and the number
     * of grids) and continued; all but the number of grids are checked before the models load, so such
     * a mismatch is refused at once. The partial sum is saved after every chunk, and kept when the sum
     * is complete (running again then only reports it).
     *
     * @throws InvalidArgumentException when there are more than {@value #MAX_GRIDS} grids, or the saved
     *                                  state was made for another sum (naming the field that differs)
     */
    public static ExactEvaluation run(Session session, Path vqvae, Path prior, ImageSet images, Settings settings,
                                      Consumer<Plan> planned, ProgressListener progress) {
        Objects.requireNonNull(session, "session");
        Objects.requireNonNull(images, "images");
        Objects.requireNonNull(settings, "settings");
        Objects.requireNonNull(planned, "planned");
        Map<String, String> id = settings.state() == null ? null : identity(vqvae, prior, images, settings);
        if (id != null) {
            new ExactState(settings.state(), id).check();
        }
        Decoder decoder = session.decoder(vqvae);
        Prior p = session.prior(prior);
        ExactModel model = new ExactModel(session.backend(), p, decoder, settings.chunk(), MAX_GRIDS,
                settings.precision());
        if (id != null) {
            id.put("grids", model.components() + " of " + p.latentShape());
        }
        ExactState state = id == null ? null : new ExactState(settings.state(), id);
        ExactModel.Partial start = state == null ? ExactModel.Partial.start(images.size())
                : state.resume(images.size());
        planned.accept(new Plan(model.components(), p.latentShape(), settings.chunk(), session.backend().name(),
                settings.precision(), start.grids()));
        long t0 = System.nanoTime();
        double[] ll = ProgressListener.track(progress, TASK, model.components(), "grids", summed -> {
            if (start.grids() > 0) {
                summed.accept(start.grids());
            }
            return evaluator(decoder, images).logLikelihoodsInOneCall(session.backend(),
                    x -> model.logLikelihood(x, start, partial -> {
                        if (state != null) {
                            state.commit(partial);
                        }
                        summed.accept(partial.grids());
                    }).logSums());
        });
        return new ExactEvaluation(bitsPerDim(ll, images.shape().pixels(), decoder.leafFamily()), model.components(),
                start.grids(), (System.nanoTime() - t0) / 1e9, ll);
    }

    /**
     * What a saved partial sum must match to be continued, as far as it is known before the models load
     * (all but the number of grids).
     */
    private static Map<String, String> identity(Path vqvae, Path prior, ImageSet images, Settings settings) {
        byte[] levels = new byte[images.size() * images.shape().pixels()];
        int[] all = images.levels(IntStream.range(0, images.size()).toArray());
        for (int i = 0; i < levels.length; i++) {
            levels[i] = (byte) all[i];
        }
        Map<String, String> id = new LinkedHashMap<>();
        id.put("vqvae_weights_sha256", Digests.sha256(vqvae.resolve(Checkpoint.WEIGHTS)));
        id.put("prior_weights_sha256", Digests.sha256(prior.resolve(Checkpoint.WEIGHTS)));
        id.put("images", images.size() + " images of " + images.description());
        id.put("images_sha256", Digests.sha256(levels));
        id.put("seed", Long.toString(CircuitEvaluation.DEFAULT_SEED));
        id.put("chunk", Integer.toString(settings.chunk()));
        id.put("precision", settings.precision().name().toLowerCase(Locale.ROOT));
        return id;
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
        return evaluator(decoder, images).logLikelihoodsInOneCall(session.backend(),
                x -> model.logLikelihood(x, fromGrid, toGrid, summed));
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
        return new ExactEvaluation(bitsPerDim(logLikelihoods, pixels, leafFamily), components, 0, seconds,
                logLikelihoods);
    }

    private static double bitsPerDim(double[] logLikelihoods, int pixels, String leafFamily) {
        return BitsPerDim.of(logLikelihoods, pixels, PixelEncoding.forLeafFamily(leafFamily));
    }

    private static Evaluator evaluator(Decoder decoder, ImageSet images) {
        return new Evaluator(images, PixelEncoding.forLeafFamily(decoder.leafFamily()), CircuitEvaluation.DEFAULT_SEED,
                Evaluator.DEFAULT_BATCH);
    }
}
