package io.vqdistill.distill.eval;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import io.vqdistill.api.Backend;
import io.vqdistill.api.BackendSelector;
import io.vqdistill.api.model.ImageShape;
import io.vqdistill.api.model.LatentShape;
import io.vqdistill.api.search.LatentSet;
import io.vqdistill.api.search.SearchOptions;
import io.vqdistill.api.search.SearchRequest;
import io.vqdistill.api.spi.BackendOptions;
import io.vqdistill.distill.Distillation;
import io.vqdistill.distill.Distiller;
import io.vqdistill.distill.ExactModel;
import io.vqdistill.distill.Weighting;
import io.vqdistill.distill.search.BeamSearch;
import io.vqdistill.distill.search.ExhaustiveSearch;
import io.vqdistill.distill.search.RandomSearch;
import io.vqdistill.distill.toy.Brute;
import io.vqdistill.distill.toy.TableDecoder;
import io.vqdistill.distill.toy.TablePrior;
import io.vqdistill.models.data.ImageSet;
import java.io.StringReader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.SplittableRandom;
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
