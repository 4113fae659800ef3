package io.vqdistill.distill.eval;

import io.vqdistill.api.InvalidArgumentException;
import io.vqdistill.api.model.Prior;
import io.vqdistill.api.search.LatentSearch;
import io.vqdistill.api.search.LatentSet;
import io.vqdistill.api.search.SearchRequest;
import io.vqdistill.distill.Distillation;
import io.vqdistill.distill.Distiller;
import io.vqdistill.distill.Weighting;
import io.vqdistill.formats.AtomicFiles;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.function.Consumer;

/**
 * Bits per dimension against model size: for N = 2^0, 2^1, ..., 2^k, distil a mixture of N grids found by
 * one latent search and evaluate its bits per dimension, recording the parameter count and the time
 * of each stage.
 */
public final class Sweep {
    /** The CSV header written by {@link #csv(List)}. */
    public static final String CSV_HEADER = "search,n,components,parameters,bpd,search_seconds,distill_seconds,"
            + "evaluate_seconds";

    /** Where the grids of each N come from. */
    public enum Mode {
        /**
         * One search for the largest N; each smaller mixture takes the first N grids of its result,
         * which every search orders so that prefixes are fair subsets.
         */
        PREFIXES,
        /** A search of its own for every N (a beam search for N grids has beams of width N / (s |C|), so its grids for a smaller N are not a prefix). */
        SEARCH_EACH
    }

    /**
     * One point of the sweep.
     *
     * @param search          the strategy's name
     * @param requested       N
     * @param components      the mixture's components (fewer than N only when fewer grids exist)
     * @param parameters      the mixture's free parameters, as {@code Circuit.parameterCount()}
     * @param bitsPerDim      the evaluation result
     * @param searchSeconds   wall time of the search (in PREFIXES mode, of the one search, on the first row)
     * @param distillSeconds  wall time of decoding and building the mixture
     * @param evaluateSeconds wall time of the evaluation
     */
    public record Row(String search, int requested, int components, long parameters, double bitsPerDim,
                      double searchSeconds, double distillSeconds, double evaluateSeconds) {
    }

    private final LatentSearch search;
    private final Prior prior;
    private final Distiller distiller;
    private final Weighting weighting;
    private final Evaluator evaluator;

    /** A sweep of {@code search} on {@code prior}, distilling with {@code distiller} and {@code weighting}. */
    public Sweep(LatentSearch search, Prior prior, Distiller distiller, Weighting weighting, Evaluator evaluator) {
        this.search = Objects.requireNonNull(search, "search");
        this.prior = Objects.requireNonNull(prior, "prior");
        this.distiller = Objects.requireNonNull(distiller, "distiller");
        this.weighting = Objects.requireNonNull(weighting, "weighting");
        this.evaluator = Objects.requireNonNull(evaluator, "evaluator");
    }

    /**
     * Runs N = 2^0 .. 2^maxExponent.
     *
     * @param maxExponent k in [0, 30]
     * @param seed        the seed of every search
     * @param progress    receives each row as soon as it is measured
     * @return the rows in increasing N
     */
    public List<Row> run(int maxExponent, long seed, Mode mode, Consumer<Row> progress) {
        if (maxExponent < 0 || maxExponent > 30) {
            throw new InvalidArgumentException("maxExponent must be in [0, 30], found " + maxExponent);
        }
        Objects.requireNonNull(mode, "mode");
        Objects.requireNonNull(progress, "progress");
        List<Row> rows = new ArrayList<>();
        LatentSet all = null;
        double sharedSearch = 0;
        if (mode == Mode.PREFIXES) {
            long t0 = System.nanoTime();
            all = search.search(prior, SearchRequest.of(1 << maxExponent, seed));
            sharedSearch = seconds(t0);
        }
        for (int e = 0; e <= maxExponent; e++) {
            int n = 1 << e;
            double searchSeconds;
            LatentSet latents;
            if (mode == Mode.PREFIXES) {
                latents = all.prefix(Math.min(n, all.size()));
                searchSeconds = e == 0 ? sharedSearch : 0;
            } else {
                long t0 = System.nanoTime();
                latents = search.search(prior, SearchRequest.of(n, seed));
                searchSeconds = seconds(t0);
            }
            long t1 = System.nanoTime();
            try (Distillation d = distiller.distil(latents, weighting)) {
                double distillSeconds = seconds(t1);
                long t2 = System.nanoTime();
                double bpd = evaluator.bitsPerDim(d.mixture());
                Row row = new Row(search.name(), n, d.mixture().components(), d.mixture().parameterCount(), bpd,
                        searchSeconds, distillSeconds, seconds(t2));
                rows.add(row);
                progress.accept(row);
            }
        }
        return rows;
    }

    private static double seconds(long start) {
        return (System.nanoTime() - start) / 1e9;
    }

    /** The rows as CSV with {@link #CSV_HEADER}, one line per row, '.' as the decimal point. */
    public static String csv(List<Row> rows) {
        StringBuilder sb = new StringBuilder(CSV_HEADER).append('\n');
        for (Row r : rows) {
            sb.append(String.format(Locale.ROOT, "%s,%d,%d,%d,%.6f,%.3f,%.3f,%.3f\n", r.search(), r.requested(),
                    r.components(), r.parameters(), r.bitsPerDim(), r.searchSeconds(), r.distillSeconds(),
                    r.evaluateSeconds()));
        }
        return sb.toString();
    }

    /** Writes {@link #csv(List)} to {@code file} atomically. */
    public static void writeCsv(Path file, List<Row> rows) {
        Objects.requireNonNull(file, "file");
        AtomicFiles.writeString(file, csv(rows));
    }
}
