package io.vqdistill.distill.eval;

import io.vqdistill.api.InvalidArgumentException;
import io.vqdistill.api.model.Prior;
import io.vqdistill.api.search.EncodedImages;
import io.vqdistill.api.search.LatentSearch;
import io.vqdistill.api.search.LatentSet;
import io.vqdistill.api.search.SearchRequest;
import io.vqdistill.distill.Distillation;
import io.vqdistill.distill.Distiller;
import io.vqdistill.distill.Weighting;
import io.vqdistill.formats.AtomicFiles;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.function.Consumer;
import java.util.function.LongConsumer;
import java.util.function.Supplier;
import org.apache.commons.csv.CSVFormat;
import org.apache.commons.csv.CSVPrinter;

/**
 * Bits per dimension against model size: for N = 2^0, 2^1, ..., 2^k, distil a mixture of N grids found by
 * one latent search and evaluate its bits per dimension, recording the parameter count and the time
 * of each stage. A data-guided search ({@link LatentSearch#usesEncodedImages()}) is handed the training
 * images' grids, asked of the sweep's supplier once per run, within the time of the first search.
 */
public final class Sweep {
    /** The CSV header written by {@link #csv(List)}. */
    public static final String CSV_HEADER = "search,n,components,parameters,bpd,search_seconds,distill_seconds,"
            + "evaluate_seconds";
    /** The CSV dialect of {@link #csv(List)}: RFC 4180 quoting where needed, '\n' between records. */
    public static final CSVFormat CSV_FORMAT = CSVFormat.DEFAULT.builder().setRecordSeparator('\n').get();

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
    private final Supplier<EncodedImages> encoded;

    /**
     * A sweep of {@code search} on {@code prior}, distilling with {@code distiller} and {@code weighting};
     * a data-guided search is given no training grids, and fails saying so.
     */
    public Sweep(LatentSearch search, Prior prior, Distiller distiller, Weighting weighting, Evaluator evaluator) {
        this(search, prior, distiller, weighting, evaluator, () -> null);
    }

    /**
     * A sweep as {@link #Sweep(LatentSearch, Prior, Distiller, Weighting, Evaluator)}, whose data-guided
     * search selects from the training images' grids {@code encoded} gives (null for none); it is asked
     * once per run, and only when the search uses them.
     */
    public Sweep(LatentSearch search, Prior prior, Distiller distiller, Weighting weighting, Evaluator evaluator,
                 Supplier<EncodedImages> encoded) {
        this.search = Objects.requireNonNull(search, "search");
        this.prior = Objects.requireNonNull(prior, "prior");
        this.distiller = Objects.requireNonNull(distiller, "distiller");
        this.weighting = Objects.requireNonNull(weighting, "weighting");
        this.evaluator = Objects.requireNonNull(evaluator, "evaluator");
        this.encoded = Objects.requireNonNull(encoded, "encoded");
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
        return run(maxExponent, seed, mode, progress, done -> { });
    }

    /**
     * The amount of work a sweep to 2^{@code maxExponent} does, in the units {@code run} reports: N
     * for the mixture of N, 2^(k+1) - 1 in all.
     */
    public static long work(int maxExponent) {
        return (2L << maxExponent) - 1;
    }

    /**
     * Runs N = 2^0 .. 2^maxExponent as {@link #run(int, long, Mode, Consumer)} does, telling
     * {@code work} how much of the {@link #work(int)} is done as it goes: each N counts N, half as its
     * grids are decoded and half as its images are measured (the cost of both grows with N). The
     * searches are not counted.
     */
    public List<Row> run(int maxExponent, long seed, Mode mode, Consumer<Row> progress, LongConsumer work) {
        if (maxExponent < 0 || maxExponent > 30) {
            throw new InvalidArgumentException("maxExponent must be in [0, 30], found " + maxExponent);
        }
        Objects.requireNonNull(mode, "mode");
        Objects.requireNonNull(progress, "progress");
        Objects.requireNonNull(work, "work");
        int images = evaluator.images().size();
        List<Row> rows = new ArrayList<>();
        LatentSet all = null;
        double sharedSearch = 0;
        EncodedImages[] data = {null};
        if (mode == Mode.PREFIXES) {
            long t0 = System.nanoTime();
            all = search.search(prior, request(1 << maxExponent, seed, data));
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
                latents = search.search(prior, request(n, seed, data));
                searchSeconds = seconds(t0);
            }
            long base = n - 1;
            int grids = latents.size();
            long t1 = System.nanoTime();
            try (Distillation d = distiller.distil(latents, weighting,
                    decoded -> work.accept(base + Math.round(0.5 * n * decoded / grids)))) {
                double distillSeconds = seconds(t1);
                long t2 = System.nanoTime();
                double bpd = evaluator.bitsPerDim(d.mixture(),
                        measured -> work.accept(base + Math.round(n * (0.5 + 0.5 * measured / images))));
                Row row = new Row(search.name(), n, d.mixture().components(), d.mixture().parameterCount(), bpd,
                        searchSeconds, distillSeconds, seconds(t2));
                rows.add(row);
                progress.accept(row);
            }
        }
        return rows;
    }

    /**
     * The request for {@code n} grids: with the training images' grids for a data-guided search, asked
     * of the supplier the first time and kept in {@code data[0]}.
     */
    private SearchRequest request(int n, long seed, EncodedImages[] data) {
        SearchRequest request = SearchRequest.of(n, seed);
        if (!search.usesEncodedImages()) {
            return request;
        }
        if (data[0] == null) {
            data[0] = encoded.get();
        }
        return data[0] == null ? request : request.withEncoded(data[0]);
    }

    private static double seconds(long start) {
        return (System.nanoTime() - start) / 1e9;
    }

    /**
     * The rows as CSV, written with Apache Commons CSV: the header {@link #CSV_HEADER}, then one record
     * per row with BPD to six decimals and the times to three, '.' as the decimal point, lines ending
     * in '\n'. A search name holding a comma, a quote or a line break is quoted as RFC 4180 says.
     */
    public static String csv(List<Row> rows) {
        StringBuilder text = new StringBuilder();
        try (CSVPrinter out = new CSVPrinter(text, CSV_FORMAT)) {
            out.printRecord((Object[]) CSV_HEADER.split(","));
            for (Row r : rows) {
                out.printRecord(r.search(), Integer.toString(r.requested()), Integer.toString(r.components()),
                        Long.toString(r.parameters()), String.format(Locale.ROOT, "%.6f", r.bitsPerDim()),
                        String.format(Locale.ROOT, "%.3f", r.searchSeconds()),
                        String.format(Locale.ROOT, "%.3f", r.distillSeconds()),
                        String.format(Locale.ROOT, "%.3f", r.evaluateSeconds()));
            }
        } catch (IOException e) {
            throw new AssertionError("a StringBuilder does not throw", e);
        }
        return text.toString();
    }

    /** Writes {@link #csv(List)} to {@code file} atomically. */
    public static void writeCsv(Path file, List<Row> rows) {
        Objects.requireNonNull(file, "file");
        AtomicFiles.writeString(file, csv(rows));
    }
}
