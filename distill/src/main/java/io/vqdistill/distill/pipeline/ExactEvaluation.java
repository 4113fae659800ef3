package io.vqdistill.distill.pipeline;

import io.vqdistill.api.model.Decoder;
import io.vqdistill.api.model.LatentShape;
import io.vqdistill.api.model.Prior;
import io.vqdistill.distill.ExactModel;
import io.vqdistill.distill.eval.Evaluator;
import io.vqdistill.distill.eval.PixelEncoding;
import io.vqdistill.models.data.ImageSet;
import java.nio.file.Path;
import java.util.Objects;
import java.util.function.Consumer;

/**
 * The bits per dimension of the exact model ({@link ExactModel}) of a VQ-VAE and its prior on a data
 * set: every grid of the prior, streamed in chunks.
 *
 * @param bitsPerDim the result
 * @param components the number of grids summed
 * @param seconds    wall time of the evaluation
 */
public record ExactEvaluation(double bitsPerDim, long components, double seconds) {
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
        Evaluator evaluator = new Evaluator(images, PixelEncoding.forLeafFamily(decoder.leafFamily()),
                CircuitEvaluation.DEFAULT_SEED, Evaluator.DEFAULT_BATCH);
        double bpd = ProgressListener.track(progress, TASK, model.components(), "grids",
                summed -> evaluator.bitsPerDim(session.backend(), model, summed));
        return new ExactEvaluation(bpd, model.components(), (System.nanoTime() - t0) / 1e9);
    }
}
