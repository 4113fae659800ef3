package io.vqdistill.distill.pipeline;

import io.vqdistill.api.model.LatentShape;
import io.vqdistill.api.model.Prior;
import io.vqdistill.distill.eval.LogProbHistogram;
import io.vqdistill.distill.search.GridEnumeration;
import java.nio.file.Path;
import java.util.Objects;
import java.util.function.LongConsumer;

/**
 * The prior's use of its latent space: a {@link LogProbHistogram} of the class-marginal log p(z) over
 * every one of the K^(h*w) grids, streamed in chunks of {@code chunk} grids (one prior call each). Its
 * cumulative masses are the curve of the most probable grids' share of the mass, the paper's
 * Figure 1. Shards of the enumeration ({@link #histogram}) merge exactly.
 *
 * @param histogram  the histogram of every grid
 * @param shape      the grids' shape and codebook size
 * @param seconds    wall time of the enumeration
 */
public record PriorEnumeration(LogProbHistogram histogram, LatentShape shape, double seconds) {
    /** The default number of grids scored per prior call. */
    public static final int DEFAULT_CHUNK = 4096;
    /** The default bin width in nats. */
    public static final double DEFAULT_BIN_WIDTH = 0.25;
    /** The default number of bins (down to log p(z) = -100 nats with the default width). */
    public static final int DEFAULT_BINS = 400;
    /** The largest enumeration accepted in one process. */
    public static final long MAX_GRIDS = ExactEvaluation.MAX_GRIDS;
    /** The name of the task {@link ProgressListener}s hear about. */
    public static final String TASK = "enumerate";

    /**
     * Enumerates every grid of the prior in {@code prior} (loaded in {@code session}), reporting the
     * task {@value #TASK} in grids to {@code progress}.
     *
     * @throws io.vqdistill.api.InvalidArgumentException for a chunk below 1, bad bins, or more than
     *                                                   {@value #MAX_GRIDS} grids
     */
    public static PriorEnumeration run(Session session, Path prior, int chunk, double binWidth, int bins,
                                       ProgressListener progress) {
        Objects.requireNonNull(session, "session");
        Prior p = session.prior(prior);
        long count = GridEnumeration.of(p, new int[0], MAX_GRIDS).count();
        long t0 = System.nanoTime();
        LogProbHistogram h = ProgressListener.track(progress, TASK, count, "grids",
                done -> histogram(session, prior, chunk, binWidth, bins, 0, count, done));
        return new PriorEnumeration(h, p.latentShape(), (System.nanoTime() - t0) / 1e9);
    }

    /**
     * One shard: the histogram of the grids with enumeration indices [fromGrid, toGrid), scored in
     * chunks of {@code chunk} from {@code fromGrid} (bounds at multiples of {@code chunk} give the prior
     * calls of the whole enumeration). No bound on the number of grids applies here.
     *
     * @param done hears the grids of the shard counted so far after each chunk
     * @throws IndexOutOfBoundsException when the range is not inside [0, K^(h*w)]
     */
    public static LogProbHistogram histogram(Session session, Path prior, int chunk, double binWidth, int bins,
                                             long fromGrid, long toGrid, LongConsumer done) {
        Objects.requireNonNull(session, "session");
        Objects.requireNonNull(done, "done");
        LogProbHistogram h = new LogProbHistogram(binWidth, bins);
        GridEnumeration.of(session.prior(prior), new int[0], Long.MAX_VALUE).forEachChunk(fromGrid, toGrid, chunk,
                (first, codes, logProbs) -> {
                    h.add(logProbs);
                    done.accept(first + logProbs.length - fromGrid);
                });
        return h;
    }
}
