package io.vqdistill.distill.pipeline;

import io.vqdistill.api.InvalidArgumentException;
import io.vqdistill.api.circuit.Precision;
import io.vqdistill.api.model.Decoder;
import io.vqdistill.api.model.LatentShape;
import io.vqdistill.api.model.Prior;
import io.vqdistill.distill.ExactModel;
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
import java.util.stream.IntStream;

/**
 * The bits per dimension of the exact model ({@link ExactModel}) of a VQ-VAE and its prior on a data
 * set: every grid of the prior, streamed in chunks, optionally saving the partial sum after every
 * chunk ({@link ExactState}) so that a killed run continues where it stopped.
 *
 * @param bitsPerDim the result
 * @param components the number of grids summed
 * @param resumed    the grids summed by an earlier run whose saved state this one continued (0 for none)
 * @param seconds    wall time of this run's evaluation
 */
public record ExactEvaluation(double bitsPerDim, long components, long resumed, double seconds) {
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
     * of grids) and continued; the partial sum is saved after every chunk, and kept when the sum is
     * complete (running again then only reports it).
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
        Decoder decoder = session.decoder(vqvae);
        Prior p = session.prior(prior);
        ExactModel model = new ExactModel(session.backend(), p, decoder, settings.chunk(), MAX_GRIDS,
                settings.precision());
        ExactState state = settings.state() == null ? null
                : new ExactState(settings.state(), identity(vqvae, prior, images, settings, model, p));
        ExactModel.Partial start = state == null ? ExactModel.Partial.start(images.size())
                : state.resume(images.size());
        planned.accept(new Plan(model.components(), p.latentShape(), settings.chunk(), session.backend().name(),
                settings.precision(), start.grids()));
        long t0 = System.nanoTime();
        Evaluator evaluator = new Evaluator(images, PixelEncoding.forLeafFamily(decoder.leafFamily()),
                CircuitEvaluation.DEFAULT_SEED, Evaluator.DEFAULT_BATCH);
        double bpd = ProgressListener.track(progress, TASK, model.components(), "grids", summed -> {
            if (start.grids() > 0) {
                summed.accept(start.grids());
            }
            return evaluator.bitsPerDimInOneCall(session.backend(), x -> model.logLikelihood(x, start, partial -> {
                if (state != null) {
                    state.commit(partial);
                }
                summed.accept(partial.grids());
            }).logSums());
        });
        return new ExactEvaluation(bpd, model.components(), start.grids(), (System.nanoTime() - t0) / 1e9);
    }

    /** What a saved partial sum must match to be continued. */
    private static Map<String, String> identity(Path vqvae, Path prior, ImageSet images, Settings settings,
                                                ExactModel model, Prior p) {
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
        id.put("grids", model.components() + " of " + p.latentShape());
        id.put("chunk", Integer.toString(settings.chunk()));
        id.put("precision", settings.precision().name().toLowerCase(Locale.ROOT));
        return id;
    }
}
