package io.vqdistill.distill.eval;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import io.vqdistill.api.Backend;
import io.vqdistill.api.BackendSelector;
import io.vqdistill.api.InvalidArgumentException;
import io.vqdistill.api.model.ImageShape;
import io.vqdistill.api.model.LatentShape;
import io.vqdistill.api.search.EncodedImages;
import io.vqdistill.api.search.LatentSet;
import io.vqdistill.api.search.SearchOptions;
import io.vqdistill.api.search.SearchRequest;
import io.vqdistill.api.spi.BackendOptions;
import io.vqdistill.distill.Distillation;
import io.vqdistill.distill.Distiller;
import io.vqdistill.distill.ExactModel;
import io.vqdistill.distill.Weighting;
import io.vqdistill.distill.search.BeamSearch;
import io.vqdistill.distill.search.EncodedSearch;
import io.vqdistill.distill.search.ExhaustiveSearch;
import io.vqdistill.distill.search.RandomSearch;
import io.vqdistill.distill.toy.Brute;
import io.vqdistill.distill.toy.EncodedData;
import io.vqdistill.distill.toy.TableDecoder;
import io.vqdistill.distill.toy.TablePrior;
import io.vqdistill.models.data.ImageSet;
import java.io.StringReader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.SplittableRandom;
import java.util.function.Supplier;
import org.apache.commons.csv.CSVParser;
import org.apache.commons.csv.CSVRecord;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class EvaluationTest {
    private static final Backend BACKEND = BackendSelector.discover().select("fake", BackendOptions.defaults());
    private static final LatentShape SHAPE = new LatentShape(2, 2, 3);
    private static final ImageShape IMAGE = new ImageShape(1, 2, 3);
    private static final TablePrior PRIOR = TablePrior.random(BACKEND, SHAPE, new double[] {0.5, 0.5}, 1.0, 9);
    private static final TableDecoder DECODER = new TableDecoder(BACKEND, SHAPE, IMAGE, 9);

    private static ImageSet images(int n) {
        Random rng = new Random(n);
        byte[] pixels = new byte[n * IMAGE.pixels()];
        rng.nextBytes(pixels);
        int[] labels = new int[n];
        return new ImageSet(IMAGE, pixels, labels, 1, "random test images");
    }

    @Test
    void bitsPerDimIsTheMeanNegativeLog2PerPixelPlusTheEncodingsOffset() {
        int s = 784;
        double[] ll = {-2 * s * Math.log(2), -4 * s * Math.log(2)};
        assertThat(BitsPerDim.of(ll, s, PixelEncoding.DEQUANTISED)).isCloseTo(11, within(1e-12));
        assertThat(BitsPerDim.of(ll, s, PixelEncoding.LEVELS)).isCloseTo(3, within(1e-12));
        assertThat(BitsPerDim.of(new double[] {-6 * Math.log(2)}, 6, PixelEncoding.LEVELS)).isCloseTo(1,
                within(1e-12));
        assertThatThrownBy(() -> BitsPerDim.of(new double[0], 6, PixelEncoding.LEVELS))
                .hasMessageContaining("logLikelihoods is empty");
        assertThatThrownBy(() -> BitsPerDim.of(new double[] {Double.NaN}, 6, PixelEncoding.LEVELS))
                .hasMessageContaining("image 0 is NaN");
    }

    @Test
    void encodingsFollowTheLeafFamily() {
        assertThat(PixelEncoding.forLeafFamily("gaussian")).isEqualTo(PixelEncoding.DEQUANTISED);
        assertThat(PixelEncoding.forLeafFamily("categorical")).isEqualTo(PixelEncoding.LEVELS);
        assertThatThrownBy(() -> PixelEncoding.forLeafFamily("laplace"))
                .hasMessageContaining("no pixel encoding for 'laplace' leaves");
    }

    @Test
    void theEvaluatorPresentsTheSameDequantisedValuesToEveryModel() {
        ImageSet set = images(7);
        Evaluator evaluator = new Evaluator(set, PixelEncoding.DEQUANTISED, 11, 3);
        LatentSet latents = new ExhaustiveSearch(SearchOptions.defaults()).search(PRIOR, SearchRequest.of(81, 0));
        try (Distillation d = new Distiller(BACKEND, DECODER).distil(latents, Weighting.prior())) {
            double bpd = evaluator.bitsPerDim(d.mixture());
            assertThat(evaluator.bitsPerDim(d.mixture())).isEqualTo(bpd);
            float[] x = set.dequantised(new int[] {0, 1, 2, 3, 4, 5, 6}, new SplittableRandom(11));
            double[] ll = new double[7];
            for (int r = 0; r < 7; r++) {
                float[] xr = java.util.Arrays.copyOfRange(x, r * 6, r * 6 + 6);
                double[] terms = new double[81];
                for (int g = 0; g < 81; g++) {
                    terms[g] = latents.logProbs()[g] + DECODER.logDensity(latents.grid(g), xr);
                }
                ll[r] = Brute.logSumExp(terms);
            }
            assertThat(bpd).isCloseTo(BitsPerDim.of(ll, 6, PixelEncoding.DEQUANTISED), within(1e-5));
            double exact = evaluator.bitsPerDim(BACKEND, new ExactModel(BACKEND, PRIOR, DECODER, 20, 100));
            assertThat(exact).isCloseTo(bpd, within(1e-5));
        }
    }

    @Test
    void imageRangesAtBatchBoundsReproduceTheWholeSetsValues() {
        ImageSet set = images(10);
        Evaluator evaluator = new Evaluator(set, PixelEncoding.DEQUANTISED, 5, 4);
        LatentSet latents = new ExhaustiveSearch(SearchOptions.defaults()).search(PRIOR, SearchRequest.of(81, 0));
        try (Distillation d = new Distiller(BACKEND, DECODER).distil(latents, Weighting.prior())) {
            double[] whole = evaluator.logLikelihoods(BACKEND, x -> d.mixture().logLikelihood(x).toDoubleArray());
            List<Long> done = new ArrayList<>();
            double[] head = evaluator.logLikelihoods(d.mixture(), 0, 4, done::add);
            double[] tail = evaluator.logLikelihoods(d.mixture(), 4, 10, done::add);
            assertThat(done).containsExactly(4L, 4L, 6L);
            double[] joined = new double[10];
            System.arraycopy(head, 0, joined, 0, 4);
            System.arraycopy(tail, 0, joined, 4, 6);
            assertThat(joined).containsExactly(whole);
            assertThat(evaluator.logLikelihoods(d.mixture(), 7, 7, n -> { })).isEmpty();
            assertThatThrownBy(() -> evaluator.logLikelihoods(d.mixture(), 8, 11, n -> { }))
                    .isInstanceOf(IndexOutOfBoundsException.class).hasMessageContaining("[8, 11)");
        }
    }

    @Test
    void theHistogramOfLogPriorsCountsBinsTailAndZerosAndMergesShards(@TempDir Path dir) throws Exception {
        double[] logProbs = {0, -0.1, -0.5, -0.5000001, -1.2, -3, Double.NEGATIVE_INFINITY, 1e-9};
        LogProbHistogram whole = new LogProbHistogram(0.5, 2);
        whole.add(logProbs);
        assertThat(whole.count(0)).as("0, -0.1 and the rounding above 0").isEqualTo(3);
        assertThat(whole.count(1)).as("-0.5 (a bin holds its upper edge) and just below").isEqualTo(2);
        assertThat(whole.tailCount()).isEqualTo(2);
        assertThat(whole.zeroCount()).isEqualTo(1);
        assertThat(whole.total()).isEqualTo(8);
        assertThat(whole.mass(0)).isCloseTo(1 + Math.exp(-0.1) + Math.exp(1e-9), within(1e-15));
        assertThat(whole.tailMass()).isCloseTo(Math.exp(-1.2) + Math.exp(-3), within(1e-15));
        LogProbHistogram a = new LogProbHistogram(0.5, 2);
        a.add(Arrays.copyOfRange(logProbs, 0, 3));
        LogProbHistogram b = new LogProbHistogram(0.5, 2);
        b.add(Arrays.copyOfRange(logProbs, 3, 8));
        a.merge(b);
        assertThat(a.csv()).isEqualTo(whole.csv());
        assertThat(whole.gridsToReach(0.5)).containsExactly(0, 3);
        assertThat(whole.gridsToReach(1)).containsExactly(5, 7);
        assertThatThrownBy(() -> a.merge(new LogProbHistogram(0.25, 2)))
                .isInstanceOf(InvalidArgumentException.class).hasMessageContaining("2 bins of 0.25 nats");
        assertThatThrownBy(() -> whole.add(new double[] {Double.NaN})).isInstanceOf(InvalidArgumentException.class);
        whole.writeCsv(dir.resolve("h.csv"));
        List<String> lines = Files.readAllLines(dir.resolve("h.csv"));
        assertThat(lines).hasSize(5);
        assertThat(lines.get(0)).isEqualTo("bin,log_p_upper,log_p_lower,grids,mass,cumulative_grid_fraction,"
                + "cumulative_mass");
        assertThat(lines.get(4)).startsWith("zero,-inf,-inf,1,");
    }

    @Test
    void aSweepOfPrefixesRecordsNParametersAndBitsPerDim(@TempDir Path dir) {
        Evaluator evaluator = new Evaluator(images(5), PixelEncoding.DEQUANTISED, 1, 4);
        Sweep sweep = new Sweep(new BeamSearch(SearchOptions.defaults().withBeamStarts(2)), PRIOR,
                new Distiller(BACKEND, DECODER), Weighting.uniform(), evaluator);
        List<Sweep.Row> seen = new ArrayList<>();
        List<Sweep.Row> rows = sweep.run(4, 3, Sweep.Mode.PREFIXES, seen::add);
        assertThat(rows).containsExactlyElementsOf(seen);
        assertThat(rows).extracting(Sweep.Row::requested).containsExactly(1, 2, 4, 8, 16);
        assertThat(rows).extracting(Sweep.Row::components).containsExactly(1, 2, 4, 8, 16);
        for (Sweep.Row r : rows) {
            assertThat(r.parameters()).isEqualTo(r.components() - 1 + 2L * r.components() * IMAGE.pixels());
            assertThat(r.search()).isEqualTo("beam");
            assertThat(Double.isFinite(r.bitsPerDim())).isTrue();
        }
        assertThat(rows.get(1).searchSeconds()).isZero();
        Path csv = dir.resolve("sweep.csv");
        Sweep.writeCsv(csv, rows);
        List<String> lines;
        try {
            lines = Files.readAllLines(csv);
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
        assertThat(lines).hasSize(6);
        assertThat(lines.get(0)).isEqualTo(Sweep.CSV_HEADER);
        assertThat(lines.get(3)).startsWith("beam,4,4," + (3 + 2 * 4 * 6) + ",");
    }

    @Test
    void aSweepWithASearchPerNStopsGrowingAtTheNumberOfGrids() {
        TablePrior small = TablePrior.random(BACKEND, new LatentShape(1, 2, 2), new double[] {1}, 1.0, 2);
        TableDecoder decoder = new TableDecoder(BACKEND, new LatentShape(1, 2, 2), IMAGE, 2);
        Sweep sweep = new Sweep(new RandomSearch(SearchOptions.defaults()), small, new Distiller(BACKEND, decoder),
                Weighting.prior(), new Evaluator(images(3), PixelEncoding.DEQUANTISED, 1, 10));
        List<Sweep.Row> rows = sweep.run(3, 0, Sweep.Mode.SEARCH_EACH, r -> { });
        assertThat(rows).extracting(Sweep.Row::components).containsExactly(1, 2, 4, 4);
        assertThat(rows.get(3).bitsPerDim()).isEqualTo(rows.get(2).bitsPerDim());
    }

    @Test
    void aDataGuidedSweepAsksForTheTrainingGridsOnceAndTakesPrefixesOfOneSearch() {
        EncodedImages data = EncodedData.random(SHAPE, 200, 2, new Random(4));
        EncodedSearch encoded = new EncodedSearch(SearchOptions.defaults(), EncodedSearch.Ranking.COUNT);
        Evaluator evaluator = new Evaluator(images(5), PixelEncoding.DEQUANTISED, 1, 4);
        int[] asked = {0};
        Supplier<EncodedImages> supplier = () -> {
            asked[0]++;
            return data;
        };
        List<List<Sweep.Row>> runs = new ArrayList<>();
        for (Sweep.Mode mode : Sweep.Mode.values()) {
            asked[0] = 0;
            runs.add(new Sweep(encoded, PRIOR, new Distiller(BACKEND, DECODER), Weighting.uniform(), evaluator, supplier)
                    .run(3, 1, mode, r -> { }));
            assertThat(asked[0]).as("%s: the training grids asked for", mode).isEqualTo(1);
        }
        for (int e = 0; e <= 3; e++) {
            Sweep.Row prefix = runs.get(0).get(e);
            LatentSet own = encoded.search(PRIOR, SearchRequest.of(1 << e, 1).withEncoded(data));
            assertThat(prefix.components()).isEqualTo(own.size());
            assertThat(prefix.bitsPerDim()).as("N = %d: the prefix against a search of its own", 1 << e)
                    .isEqualTo(runs.get(1).get(e).bitsPerDim());
        }
        asked[0] = 0;
        new Sweep(new RandomSearch(SearchOptions.defaults()), PRIOR, new Distiller(BACKEND, DECODER),
                Weighting.uniform(), evaluator, supplier).run(1, 1, Sweep.Mode.PREFIXES, r -> { });
        assertThat(asked[0]).as("a search that reads no images is given none").isZero();
        assertThatThrownBy(() -> new Sweep(encoded, PRIOR, new Distiller(BACKEND, DECODER), Weighting.uniform(),
                evaluator).run(1, 1, Sweep.Mode.PREFIXES, r -> { })).isInstanceOf(InvalidArgumentException.class)
                .hasMessageContaining("encoded search: it selects from the grids the encoder assigns to the training"
                        + " images, and none were given");
    }

    @Test
    void theSweepCsvKeepsItsColumnsAndFormatsAndQuotesANameHoldingAComma() throws Exception {
        List<Sweep.Row> rows = List.of(new Sweep.Row("beam, deterministic", 1, 1, 40, 7.123456789, 12.3456, 0.5, 1),
                new Sweep.Row("say \"top\"", 2, 2, 81, 6.5, 0, 0.25, 2.0005));
        String csv = Sweep.csv(rows);
        assertThat(csv).isEqualTo(Sweep.CSV_HEADER + "\n"
                + "\"beam, deterministic\",1,1,40,7.123457,12.346,0.500,1.000\n"
                + "\"say \"\"top\"\"\",2,2,81,6.500000,0.000,0.250,2.001\n");
        try (CSVParser parser = CSVParser.parse(new StringReader(csv), Sweep.CSV_FORMAT.builder().setHeader()
                .setSkipHeaderRecord(true).get())) {
            assertThat(parser.getHeaderNames()).containsExactly(Sweep.CSV_HEADER.split(","));
            List<CSVRecord> records = parser.getRecords();
            assertThat(records).extracting(r -> r.get("search")).containsExactly("beam, deterministic", "say \"top\"");
            assertThat(records).extracting(r -> Double.parseDouble(r.get("bpd"))).containsExactly(7.123457, 6.5);
            assertThat(records).extracting(r -> Integer.parseInt(r.get("n"))).containsExactly(1, 2);
        }
    }

    @Test
    void aSweepReportsItsWorkInComponentsUpToTheTotal() {
        Evaluator evaluator = new Evaluator(images(5), PixelEncoding.DEQUANTISED, 1, 2);
        Sweep sweep = new Sweep(new BeamSearch(SearchOptions.defaults().withBeamStarts(2)), PRIOR,
                new Distiller(BACKEND, DECODER, 3), Weighting.uniform(), evaluator);
        List<Long> work = new ArrayList<>();
        List<Integer> rowsSeen = new ArrayList<>();
        sweep.run(3, 3, Sweep.Mode.PREFIXES, r -> rowsSeen.add(work.size()), work::add);
        assertThat(Sweep.work(3)).isEqualTo(15);
        assertThat(work).isSortedAccordingTo(Long::compare).last().isEqualTo(15L);
        assertThat(work).allMatch(w -> w >= 0 && w <= 15);
        assertThat(rowsSeen).hasSize(4);
        for (int e = 0; e < 4; e++) {
            assertThat(work.get(rowsSeen.get(e) - 1)).as("done after N = 2^%d", e).isEqualTo((2L << e) - 1);
        }
    }
}
