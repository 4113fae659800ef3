package io.vqdistill.distill.pipeline;

import io.vqdistill.api.model.Decoder;
import io.vqdistill.api.model.Prior;
import io.vqdistill.api.search.LatentSearch;
import io.vqdistill.distill.Distiller;
import io.vqdistill.distill.VarianceFloor;
import io.vqdistill.distill.Weighting;
import io.vqdistill.distill.eval.Evaluator;
import io.vqdistill.distill.eval.PixelEncoding;
import io.vqdistill.distill.eval.Sweep;
import io.vqdistill.models.data.ImageSet;
import io.vqdistill.formats.AtomicFolder;
import jakarta.inject.Inject;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Objects;
import java.util.function.Consumer;

/**
 * Runs a {@link Sweep}: distils mixtures of N = 2^0 .. 2^k grids found by one latent search, measures
 * each on a data set with the default dequantisation seed, and writes the rows as
 * {@value #CSV} in the request's folder. A data-guided search selects from the grids the VQ-VAE's
 * encoder assigns to the request's training images, encoded once for the whole sweep (as
 * {@link DistillationPipeline} encodes them, so each N's mixture is the one {@code distill} makes),
 * within the first search's time. The folder is written as one {@link AtomicFolder} commit
 * (with whatever the listener adds, such as a plot), so a sweep killed at any instant leaves the
 * previous results whole.
 */
public final class SweepPipeline {
    /** The file name of the rows. */
    public static final String CSV = "sweep.csv";
    /** The name of the task {@link ProgressListener}s hear about. */
    public static final String TASK = "sweep";

    private final SearchCatalog searches;

    /** A pipeline selecting its searches from {@code searches}. */
    @Inject
    public SweepPipeline(SearchCatalog searches) {
        this.searches = Objects.requireNonNull(searches, "searches");
    }

    /** Told what a sweep does as it goes. */
    public interface Listener {
        /** The models are loaded and the first search starts. */
        default void started(LatentSearch search) {
        }

        /** One N was measured. */
        default void measured(Sweep.Row row) {
        }

        /**
         * Adds files to the sweep's folder: called while its new version is staged, after
         * {@value SweepPipeline#CSV}; what it writes into {@code staging} is committed together with
         * the CSV, in one step.
         */
        default void writing(Result result, AtomicFolder.Staging staging) throws IOException {
        }
    }

    /**
     * The rows of a sweep and where they were written.
     *
     * @param search the strategy's name
     * @param rows   the rows in increasing N
     * @param csv    the CSV file written
     */
    public record Result(String search, List<Sweep.Row> rows, Path csv) {
        /** Copies the rows. */
        public Result {
            rows = List.copyOf(rows);
        }
    }

    /**
     * Loads the decoder and prior in {@code session} (once per session) and runs the sweep on
     * {@code images}.
     */
    public Result run(Session session, SweepRequest request, ImageSet images, Listener listener) {
        return run(session, request, images, listener, ProgressListener.NONE);
    }

    /**
     * Runs the sweep as {@link #run(Session, SweepRequest, ImageSet, Listener)} does, reporting the task
     * {@value #TASK} to {@code progress} in the units of {@link Sweep#work(int)}: N for the mixture of
     * N, counted as its grids are decoded and its images measured. {@code listener} hears each row
     * while the task runs.
     */
    public Result run(Session session, SweepRequest request, ImageSet images, Listener listener,
                      ProgressListener progress) {
        Objects.requireNonNull(session, "session");
        Objects.requireNonNull(images, "images");
        Objects.requireNonNull(listener, "listener");
        LatentSearch strategy = searches.get(request.search(), request.deterministic(), request.scoreGrids(),
                request.tuning());
        if (strategy.usesEncodedImages()) {
            DistillationPipeline.requireSearchImages(strategy.name(), request.searchImages());
        }
        Decoder raw = session.decoder(request.vqvae());
        Prior prior = session.prior(request.prior());
        DistillationPipeline.requireSameGrids(raw, request.vqvae(), prior, request.prior());
        Decoder decoder = request.minStd() == null ? raw : VarianceFloor.of(raw, request.minStd());
        Evaluator evaluator = new Evaluator(images, PixelEncoding.forLeafFamily(decoder.leafFamily()),
                CircuitEvaluation.DEFAULT_SEED, Evaluator.DEFAULT_BATCH, request.precision());
        Sweep sweep = new Sweep(strategy, prior, new Distiller(session.backend(), decoder,
                Distiller.DEFAULT_DECODE_BATCH, "the VQ-VAE checkpoint " + request.vqvae()),
                request.weighting() == WeightingKind.PRIOR ? Weighting.prior() : Weighting.uniform(), evaluator,
                () -> DistillationPipeline.encoded(session.encoder(request.vqvae()), session.backend(),
                        strategy.name(), request.searchImages()));
        listener.started(strategy);
        Consumer<Sweep.Row> measured = listener::measured;
        List<Sweep.Row> rows = ProgressListener.track(progress, TASK, Sweep.work(request.maxExponent()), "components",
                work -> sweep.run(request.maxExponent(), request.seed(), request.mode(), measured, work));
        Result result = new Result(strategy.name(), rows, request.out().resolve(CSV));
        AtomicFolder.update(request.out(), staging -> {
            Sweep.writeCsv(staging.resolve(CSV), rows);
            listener.writing(result, staging);
        });
        return result;
    }
}
