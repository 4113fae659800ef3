package io.vqdistill.distill.pipeline;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import com.google.inject.Guice;
import com.google.inject.Injector;
import io.vqdistill.api.Backend;
import io.vqdistill.api.BackendException;
import io.vqdistill.api.BackendSelector;
import io.vqdistill.api.FormatException;
import io.vqdistill.api.InvalidArgumentException;
import io.vqdistill.api.VqdistillException;
import io.vqdistill.api.circuit.Circuit;
import io.vqdistill.api.circuit.Precision;
import io.vqdistill.api.fake.FakeBackend;
import io.vqdistill.api.model.ImageShape;
import io.vqdistill.api.model.LatentShape;
import io.vqdistill.api.search.BeamScoring;
import io.vqdistill.api.search.LatentSet;
import io.vqdistill.api.search.RandomClasses;
import io.vqdistill.api.search.SearchOptions;
import io.vqdistill.api.search.SearchRequest;
import io.vqdistill.api.spi.BackendOptions;
import io.vqdistill.circuits.DagCircuit;
import io.vqdistill.circuits.LeafFamilies;
import io.vqdistill.circuits.ShallowMixture;
import io.vqdistill.circuits.io.CircuitFiles;
import io.vqdistill.distill.ExactModel;
import io.vqdistill.distill.eval.Evaluator;
import io.vqdistill.distill.eval.LogProbHistogram;
import io.vqdistill.distill.eval.PixelEncoding;
import io.vqdistill.distill.eval.Sweep;
import io.vqdistill.distill.inject.BackendChoice;
import io.vqdistill.distill.inject.PipelineModule;
import io.vqdistill.distill.plugin.LexicographicSearchProvider;
import io.vqdistill.distill.search.ExhaustiveSearch;
import io.vqdistill.formats.SafeTensors;
import io.vqdistill.models.ModelLoader;
import io.vqdistill.models.checkpoint.Checkpoint;
import io.vqdistill.models.data.ImageSet;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The pipeline on the fake backend with toy networks: sessions, searches, distillation, evaluations. */
class PipelineTest {
    private static final Backend BACKEND = BackendSelector.discover().select("fake", BackendOptions.defaults());
    private static final LatentShape SHAPE = new LatentShape(2, 2, 3);
    private static final ImageShape IMAGE = new ImageShape(1, 2, 3);
    private static final Injector INJECTOR = Guice.createInjector(new PipelineModule());

    @TempDir
    Path dir;

    private static ImageSet images(int n, long seed) {
        Random rng = new Random(seed);
        byte[] pixels = new byte[n * IMAGE.pixels()];
        rng.nextBytes(pixels);
        int[] labels = new int[n];
        for (int i = 0; i < n; i++) {
            labels[i] = i % 3;
        }
        return new ImageSet(IMAGE, pixels, labels, 3, "toy images");
    }

    @Test
    void aSessionLoadsEachNetworkOnceAndClosesItsOwnButNotABorrowedBackend() {
        ToyModels models = new ToyModels(BACKEND, SHAPE, IMAGE);
        Path vq = dir.resolve("vq");
        Session session = Session.borrowing(BACKEND, models);
        assertThat(session.decoder(vq)).isSameAs(session.decoder(dir.resolve("x/../vq")));
        assertThat(session.prior(dir.resolve("prior"))).isSameAs(models.prior);
        assertThat(models.loaded).containsExactly("decoder " + vq, "prior " + dir.resolve("prior"));
        session.close();
        assertThat(models.closed).containsExactly("decoder " + vq);
        assertThatThrownBy(() -> session.decoder(vq)).isInstanceOf(VqdistillException.class)
                .hasMessageContaining("is closed");
        try (var t = BACKEND.of(new float[] {1}, 1)) {
            assertThat(t.toFloatArray()).containsExactly(1f);
        }
    }

    @Test
    void anOwnedBackendLoadsThroughItsCapabilityAndAMissingOneIsNamed() {
        ToyModels models = new ToyModels(BACKEND, SHAPE, IMAGE);
        try (Session session = Session.owning(new FakeBackend(List.of(models)))) {
            assertThat(session.loader()).isSameAs(models);
            assertThat(session.decoder(dir).latentShape()).isEqualTo(SHAPE);
        }
        try (Session session = Session.owning(new FakeBackend(List.of()))) {
            assertThatThrownBy(session::loader).isInstanceOf(BackendException.class)
                    .hasMessageStartingWith("backend fake (")
                    .hasMessageContaining("cannot load networks: it has no ModelLoader capability (it offers: none)");
        }
    }

    @Test
    void sessionsSelectTheChosenBackendOnlyWhenOpened() {
        Sessions sessions = INJECTOR.getInstance(Sessions.class);
        try (Session session = sessions.open(new BackendChoice("fake", BackendOptions.defaults()))) {
            assertThat(session.backend().name()).isEqualTo("fake");
        }
        assertThatThrownBy(() -> sessions.open(new BackendChoice("nope", BackendOptions.defaults())))
                .isInstanceOf(BackendException.class).hasMessageContaining("unknown backend 'nope'");
        assertThatThrownBy(() -> sessions.open(new BackendChoice("fake", BackendOptions.defaults(),
                java.util.Set.of(ModelLoader.class))))
                .isInstanceOf(BackendException.class).hasMessageContaining("has no ModelLoader capability");
    }

    @Test
    void theCatalogueHoldsSearchesThatLeaveTheirGridsUnscored() {
        SearchCatalog catalog = INJECTOR.getInstance(SearchCatalog.class);
        catalog.get(LexicographicSearchProvider.NAME, false, false, SearchTuning.NONE);
        assertThat(LexicographicSearchProvider.lastOptions.scoreGrids()).isFalse();
        assertThat(LexicographicSearchProvider.lastOptions.stochastic()).isTrue();
        catalog.get(LexicographicSearchProvider.NAME, true, false, SearchTuning.NONE);
        assertThat(LexicographicSearchProvider.lastOptions.scoreGrids()).isFalse();
        assertThat(LexicographicSearchProvider.lastOptions.stochastic()).isFalse();
        catalog.get(LexicographicSearchProvider.NAME, true, true, SearchTuning.NONE);
        assertThat(LexicographicSearchProvider.lastOptions.scoreGrids()).isTrue();
        ToyModels models = new ToyModels(BACKEND, SHAPE, IMAGE);
        try (Session session = Session.borrowing(BACKEND, models)) {
            DistillationResult r = INJECTOR.getInstance(DistillationPipeline.class).run(session,
                    DistillationRequest.builder(dir, dir, "random", 6, dir.resolve("unscored")).scoreGrids(false)
                            .build(), s -> { });
            assertThat(r.weighting()).isEqualTo("uniform");
        }
        try (ShallowMixture m = (ShallowMixture) CircuitFiles.read(dir.resolve("unscored"), BACKEND)) {
            assertThat(Arrays.stream(m.latents().orElseThrow().logProbs()).allMatch(Double::isNaN)).isTrue();
        }
        assertThatThrownBy(() -> DistillationRequest.builder(dir, dir, "random", 6, dir).scoreGrids(false)
                .weighting(WeightingKind.PRIOR).build()).isInstanceOf(InvalidArgumentException.class)
                .hasMessage("scoreGrids must be true for prior weights, which are the grids' scores, got false");
    }

    @Test
    void theCatalogueHoldsEverySearchStochasticAndDeterministic() {
        SearchCatalog catalog = INJECTOR.getInstance(SearchCatalog.class);
        assertThat(catalog.names()).containsExactly("beam", "encoded", "encoded-prior", "encoded-sampled", "exhaustive", "lexicographic",
                "random", "top");
        assertThat(catalog.get("beam", false).toString()).isEqualTo("beam (stochastic, s = 10)");
        assertThat(catalog.get("beam", true).toString()).isEqualTo("beam (deterministic, s = 10)");
        catalog.get(LexicographicSearchProvider.NAME, true);
        assertThat(LexicographicSearchProvider.lastOptions.stochastic()).isFalse();
        assertThatThrownBy(() -> catalog.get("dfs", false)).isInstanceOf(InvalidArgumentException.class)
                .hasMessage("unknown latent search 'dfs'; known searches: [beam, encoded, encoded-prior, encoded-sampled, exhaustive,"
                        + " lexicographic, random, top]");
    }

    @Test
    void tunedSettingsReachTheSearchAndOnlyTheirOwnSetIsCreatedOnce() {
        SearchCatalog catalog = INJECTOR.getInstance(SearchCatalog.class);
        SearchTuning tuning = new SearchTuning(3, 7, 2, BeamScoring.CLASS_MARGINAL, RandomClasses.CLASS_PRIOR);
        assertThat(catalog.get("beam", true, true, tuning).toString())
                .isEqualTo("beam (deterministic, s = 3, class-marginal ranking, width 7)");
        assertThat(catalog.get("beam", true, true, tuning)).as("one set per distinct settings")
                .isSameAs(catalog.get("beam", true, true, tuning));
        assertThat(catalog.get("beam", false, true, SearchTuning.NONE).toString()).isEqualTo("beam (stochastic, s = 10)");
        catalog.get(LexicographicSearchProvider.NAME, false, true, tuning);
        assertThat(LexicographicSearchProvider.lastOptions).isEqualTo(SearchOptions.defaults().withBeamStarts(3)
                .withBeamWidth(7).withTopWidthFactor(2).withBeamScoring(BeamScoring.CLASS_MARGINAL)
                .withRandomClasses(RandomClasses.CLASS_PRIOR));
        assertThat(SearchTuning.provenance("beam", catalog.options(true, true, tuning))).containsExactly(
                Map.entry("beam_starts", "3"), Map.entry("beam_width", "7"), Map.entry("beam_scoring",
                        "class-marginal"), Map.entry("stochastic", "false"));
        assertThat(SearchTuning.provenance("random", catalog.options(false, true, SearchTuning.NONE)))
                .containsExactly(Map.entry("random_classes", "uniform"));
        assertThat(SearchTuning.provenance("top", catalog.options(false, true, tuning)))
                .containsExactly(Map.entry("top_width_factor", "2"));
        assertThatThrownBy(() -> new SearchTuning(0, null, null, null, null))
                .isInstanceOf(InvalidArgumentException.class).hasMessageContaining("beamStarts");
    }

    @Test
    void distilsSavesWithProvenanceAndReportsTheSearchFirst() {
        ToyModels models = new ToyModels(BACKEND, SHAPE, IMAGE);
        DistillationPipeline pipeline = INJECTOR.getInstance(DistillationPipeline.class);
        List<String> events = new ArrayList<>();
        Path[] outs = {dir.resolve("a"), dir.resolve("b")};
        long[] seeds = {1, 2};
        try (Session session = Session.borrowing(BACKEND, models)) {
            for (int i = 0; i < 2; i++) {
                DistillationRequest request = DistillationRequest.builder(Path.of("vq"), Path.of("pr"), "beam", 6,
                        outs[i]).deterministic(true).seed(seeds[i]).minStd(0.5).build();
                DistillationResult r = pipeline.run(session, request, s -> events.add("searched " + s.grids()));
                events.add("distilled " + r.components());
                assertThat(r.search().search()).isEqualTo("beam");
                assertThat(r.search().shape()).isEqualTo(SHAPE);
                assertThat(r.weighting()).isEqualTo("uniform");
                assertThat(r.leafFamily()).isEqualTo("gaussian");
                assertThat(r.json()).isEqualTo(outs[i].resolve(CircuitFiles.JSON)).exists();
                assertThat(r.tensors()).exists();
            }
        }
        assertThat(events).containsExactly("searched 6", "distilled 6", "searched 6", "distilled 6");
        assertThat(models.loaded).hasSize(2).as("one decoder and one prior for both runs");
        Map<String, String> provenance = CircuitFiles.provenance(outs[1]);
        assertThat(provenance).containsEntry("min_std", "0.5").containsEntry("search", "beam")
                .containsEntry("seed", "2").containsEntry("distill.components", "6")
                .containsEntry("beam_starts", "10").containsEntry("beam_width", "auto")
                .containsEntry("beam_scoring", "per-class").containsEntry("stochastic", "false")
                .containsEntry("vqvae", Path.of("vq").toAbsolutePath().toString())
                .containsEntry("prior", Path.of("pr").toAbsolutePath().toString());
        assertThat(SafeTensors.read(outs[1].resolve(CircuitFiles.TENSORS)).get("latents").toInts())
                .as("the deterministic beam ignores the seed")
                .containsExactly(SafeTensors.read(outs[0].resolve(CircuitFiles.TENSORS)).get("latents").toInts());
    }

    @Test
    void theCircuitRecordsThePriorsClassCount() throws Exception {
        ToyModels models = new ToyModels(BACKEND, SHAPE, IMAGE);
        Path out = dir.resolve("classes");
        try (Session session = Session.borrowing(BACKEND, models)) {
            INJECTOR.getInstance(DistillationPipeline.class).run(session,
                    DistillationRequest.builder(Path.of("vq"), Path.of("pr"), "beam", 4, out).build(), s -> { });
        }
        assertThat(new com.fasterxml.jackson.databind.ObjectMapper().readTree(out.resolve(CircuitFiles.JSON).toFile())
                .path("latents").path("num_classes").asInt()).isEqualTo(models.prior.numClasses()).isEqualTo(3);
    }

    @Test
    void aPriorOfOtherGridsIsRefusedBeforeTheSearch() {
        ToyModels models = new ToyModels(BACKEND, SHAPE, IMAGE);
        models.prior = io.vqdistill.distill.toy.TablePrior.random(BACKEND, new LatentShape(2, 2, 4),
                new double[] {0.5, 0.5}, 1.0, 3);
        Path out = dir.resolve("other-grids");
        List<String> events = new ArrayList<>();
        try (Session session = Session.borrowing(BACKEND, models)) {
            DistillationRequest request = DistillationRequest.builder(Path.of("vq"), Path.of("pr"), "beam", 4, out)
                    .build();
            assertThatThrownBy(() -> INJECTOR.getInstance(DistillationPipeline.class).run(session, request,
                    s -> events.add("searched"))).isInstanceOf(InvalidArgumentException.class)
                    .hasMessage("the prior in pr models 2x2 K=4 grids, but the VQ-VAE in vq decodes 2x2 K=3 grids:"
                            + " give the prior trained on this VQ-VAE");
            assertThatThrownBy(() -> INJECTOR.getInstance(SweepPipeline.class).run(session, new SweepRequest(
                    Path.of("vq"), Path.of("pr"), "top", false, true, SearchTuning.NONE, 1, 1, Sweep.Mode.PREFIXES, WeightingKind.UNIFORM,
                    null, Precision.FAST, out), images(3, 1), new SweepPipeline.Listener() { }))
                    .hasMessageContaining("the prior in pr");
        }
        assertThat(events).isEmpty();
        assertThat(out).doesNotExist();
    }

    @Test
    void aNonFiniteDecoderOutputNamesTheCheckpointComponentGridAndPixel() {
        ToyModels models = new ToyModels(BACKEND, SHAPE, IMAGE);
        models.decoded = m -> {
            Map<String, io.vqdistill.api.Tensor> out = new java.util.LinkedHashMap<>(m);
            io.vqdistill.api.Tensor mean = m.get("mean");
            float[] v = mean.toFloatArray();
            if (v.length > IMAGE.pixels()) {
                v[IMAGE.pixels() + 4] = Float.NaN;
            }
            out.put("mean", BACKEND.of(v, mean.shape()));
            return out;
        };
        Path out = dir.resolve("nan");
        try (Session session = Session.borrowing(BACKEND, models)) {
            DistillationRequest request = DistillationRequest.builder(Path.of("runs/vq"), Path.of("pr"), "beam", 4,
                    out).deterministic(true).build();
            assertThatThrownBy(() -> INJECTOR.getInstance(DistillationPipeline.class).run(session, request, s -> { }))
                    .isInstanceOf(VqdistillException.class)
                    .hasMessageStartingWith("the decoder of the VQ-VAE checkpoint runs/vq gave NaN for gaussian"
                            + " parameter 'mean' of component 1 (grid [")
                    .hasMessageContaining("], class ")
                    .hasMessageContaining(") at pixel 4 (row 1, column 1)");
        }
        assertThat(out).doesNotExist();
    }

    @Test
    void emWeightsAreFittedOnTheFirstTrainingImages() {
        ToyModels models = new ToyModels(BACKEND, SHAPE, IMAGE);
        DistillationPipeline pipeline = INJECTOR.getInstance(DistillationPipeline.class);
        Path out = dir.resolve("em");
        try (Session session = Session.borrowing(BACKEND, models)) {
            DistillationResult r = pipeline.run(session, DistillationRequest.builder(dir, dir, "top", 5, out)
                    .em(images(40, 3), 20, 3).build(), s -> { });
            assertThat(r.weighting()).isEqualTo("em");
        }
        assertThat(CircuitFiles.provenance(out)).containsEntry("distill.weighting", "em")
                .containsKey("distill.em_updates").doesNotContainKey("min_std");
    }

    @Test
    void requestsAreCheckedBeforeAnyWork() {
        assertThatThrownBy(() -> DistillationRequest.builder(dir, dir, "beam", 0, dir).build())
                .isInstanceOf(InvalidArgumentException.class).hasMessage("components must be in [1, 1048576], got 0");
        assertThatThrownBy(() -> new DistillationRequest(dir, dir, "beam", false, true, SearchTuning.NONE, 4, 1,
                WeightingKind.EM, null, null, Precision.FAST, null, dir)).isInstanceOf(InvalidArgumentException.class)
                .hasMessageContaining("em must be given");
        assertThatThrownBy(() -> DistillationRequest.builder(dir, dir, "beam", 4, dir).em(images(2, 1), 0, 3))
                .isInstanceOf(InvalidArgumentException.class).hasMessage("images must be >= 1, got 0");
        assertThatThrownBy(() -> new SweepRequest(dir, dir, "beam", false, true, SearchTuning.NONE, 1, 21, Sweep.Mode.PREFIXES,
                WeightingKind.UNIFORM, null, Precision.FAST, dir)).isInstanceOf(InvalidArgumentException.class)
                .hasMessage("maxExponent must be in [0, 20], got 21");
        assertThatThrownBy(() -> new SweepRequest(dir, dir, "beam", false, true, SearchTuning.NONE, 1, 2, Sweep.Mode.PREFIXES,
                WeightingKind.EM, null, Precision.FAST, dir)).isInstanceOf(InvalidArgumentException.class)
                .hasMessageContaining("uniform or prior");
        DistillationPipeline pipeline = INJECTOR.getInstance(DistillationPipeline.class);
        try (Session session = Session.borrowing(BACKEND, new ToyModels(BACKEND, SHAPE, IMAGE))) {
            assertThatThrownBy(() -> pipeline.run(session, DistillationRequest.builder(dir, dir, "nope", 4, dir)
                    .build(), s -> { })).isInstanceOf(InvalidArgumentException.class)
                    .hasMessageContaining("unknown latent search 'nope'");
        }
        assertThat(WeightingKind.byLabel("prior")).contains(WeightingKind.PRIOR);
        assertThat(WeightingKind.byLabel("heavy")).isEmpty();
    }

    @Test
    void evaluatesACircuitAndTheExactModelAsTheEvaluatorDoes() {
        ToyModels models = new ToyModels(BACKEND, SHAPE, IMAGE);
        ImageSet test = images(7, 5);
        Path out = dir.resolve("c");
        try (Session session = Session.borrowing(BACKEND, models)) {
            INJECTOR.getInstance(DistillationPipeline.class).run(session,
                    DistillationRequest.builder(dir, dir, "exhaustive", 81, out).weighting(WeightingKind.PRIOR)
                            .build(), s -> { });
            Circuit c = session.circuit(out);
            assertThat(session.circuit(out)).isSameAs(c);
            CircuitEvaluation e = CircuitEvaluation.of(c, test, 3);
            assertThat(e.bitsPerDim()).isEqualTo(new Evaluator(test, PixelEncoding.DEQUANTISED, 3,
                    Evaluator.DEFAULT_BATCH).bitsPerDim(c));
            assertThat(e.images()).isEqualTo(7);
            assertThat(e.parameters()).isEqualTo(c.parameterCount());
            assertThat(e.encoding()).isEqualTo(PixelEncoding.DEQUANTISED);

            List<ExactEvaluation.Plan> plans = new ArrayList<>();
            ExactEvaluation exact = ExactEvaluation.run(session, dir, dir, test, 10, plans::add);
            assertThat(plans).containsExactly(new ExactEvaluation.Plan(81, SHAPE, 10, "fake", Precision.FAST, 0));
            double expected = new Evaluator(test, PixelEncoding.DEQUANTISED, CircuitEvaluation.DEFAULT_SEED,
                    Evaluator.DEFAULT_BATCH).bitsPerDim(BACKEND, new ExactModel(BACKEND, models.prior,
                    models.decoder, 10, 100));
            assertThat(exact.bitsPerDim()).isEqualTo(expected);
            assertThat(exact.components()).isEqualTo(81);
            assertThat(CircuitEvaluation.of(c, test, CircuitEvaluation.DEFAULT_SEED).bitsPerDim())
                    .as("every grid weighted by p(z) is the exact model")
                    .isCloseTo(expected, org.assertj.core.data.Offset.offset(1e-4));
        }
    }

    @Test
    void aKilledExactRunContinuesFromItsStateToTheUninterruptedSumAndOtherOptionsAreRefusedBeforeLoading() throws Exception {
        ToyModels models = new ToyModels(BACKEND, SHAPE, IMAGE);
        ImageSet test = images(9, 6);
        Path vq = Files.createDirectories(dir.resolve("vq"));
        Path pr = Files.createDirectories(dir.resolve("pr"));
        Files.write(vq.resolve(Checkpoint.WEIGHTS), new byte[] {1, 2, 3});
        Files.write(pr.resolve(Checkpoint.WEIGHTS), new byte[] {4, 5, 6});
        Path state = dir.resolve("state/exact.safetensors");
        ExactEvaluation.Settings settings = new ExactEvaluation.Settings(10, Precision.FAST, state);
        try (Session session = Session.borrowing(BACKEND, models)) {
            double uninterrupted = ExactEvaluation.run(session, vq, pr, test, 10, plan -> { }).bitsPerDim();
            ProgressListener killer = new ProgressListener() {
                @Override
                public void advanced(long done) {
                    if (done == 40) {
                        throw new IllegalStateException("killed after 40 grids");
                    }
                }
            };
            assertThatThrownBy(() -> ExactEvaluation.run(session, vq, pr, test, settings, plan -> { }, killer))
                    .hasMessage("killed after 40 grids");
            List<ExactEvaluation.Plan> plans = new ArrayList<>();
            Recorder progress = new Recorder();
            ExactEvaluation resumed = ExactEvaluation.run(session, vq, pr, test, settings, plans::add, progress);
            assertThat(plans).containsExactly(new ExactEvaluation.Plan(81, SHAPE, 10, "fake", Precision.FAST, 40));
            assertThat(progress.events).containsExactly("start exact 81 grids", "done 40", "done 50", "done 60",
                    "done 70", "done 80", "done 81", "end");
            assertThat(resumed.resumed()).isEqualTo(40);
            assertThat(resumed.bitsPerDim()).isCloseTo(uninterrupted, org.assertj.core.data.Offset.offset(1e-9));
            assertThat(ExactEvaluation.run(session, vq, pr, test, settings, plan -> { }, ProgressListener.NONE)
                    .bitsPerDim()).as("a complete state is only reported").isEqualTo(resumed.bitsPerDim());
            List<String> loadedBefore = List.copyOf(models.loaded);

            assertThatThrownBy(() -> ExactEvaluation.run(session, vq, pr, test, new ExactEvaluation.Settings(20,
                    Precision.FAST, state), plan -> { }, ProgressListener.NONE))
                    .isInstanceOf(InvalidArgumentException.class)
                    .hasMessage("the exact-model state " + state + " was made with chunk = 10, but this run has chunk"
                            + " = 20; run with the same options, or remove the state to start again");
            assertThatThrownBy(() -> ExactEvaluation.run(session, vq, pr, test, new ExactEvaluation.Settings(10,
                    Precision.DOUBLE, state), plan -> { }, ProgressListener.NONE))
                    .isInstanceOf(InvalidArgumentException.class)
                    .hasMessageContaining("was made with precision = fast, but this run has precision = double");
            assertThatThrownBy(() -> ExactEvaluation.run(session, vq, pr, images(9, 7), settings, plan -> { },
                    ProgressListener.NONE)).isInstanceOf(InvalidArgumentException.class)
                    .hasMessageContaining("was made with images_sha256 = ");
            Files.write(pr.resolve(Checkpoint.WEIGHTS), new byte[] {4, 5, 7});
            assertThatThrownBy(() -> ExactEvaluation.run(session, vq, pr, test, settings, plan -> { },
                    ProgressListener.NONE)).isInstanceOf(InvalidArgumentException.class)
                    .hasMessageContaining("was made with prior_weights_sha256 = ");
            Files.writeString(state, "not a state");
            assertThatThrownBy(() -> ExactEvaluation.run(session, vq, pr, test, settings, plan -> { },
                    ProgressListener.NONE)).isInstanceOf(FormatException.class)
                    .hasMessageStartingWith(state.toString());
            assertThat(models.loaded).as("every refusal comes before the models load")
                    .containsExactlyElementsOf(loadedBefore);
        }
    }

    @Test
    void exactShardsAndPriorEnumerationShardsCombineIntoTheWholeRun() {
        ToyModels models = new ToyModels(BACKEND, SHAPE, IMAGE);
        ImageSet test = images(6, 8);
        try (Session session = Session.borrowing(BACKEND, models)) {
            ExactEvaluation whole = ExactEvaluation.run(session, dir, dir, test, 10, plan -> { });
            double[] parts = ExactEvaluation.combine(
                    ExactEvaluation.partialLogLikelihoods(session, dir, dir, test, 10, 0, 40, n -> { }),
                    ExactEvaluation.partialLogLikelihoods(session, dir, dir, test, 10, 40, 81, n -> { }));
            for (int i = 0; i < test.size(); i++) {
                assertThat(parts[i]).isCloseTo(whole.logLikelihoods()[i], within(1e-12));
            }
            assertThat(ExactEvaluation.of(parts, IMAGE.pixels(), "gaussian", 81, 0).bitsPerDim())
                    .isCloseTo(whole.bitsPerDim(), within(1e-12));
            assertThatThrownBy(() -> ExactEvaluation.combine(new double[2], new double[3]))
                    .hasMessage("cannot combine parts of 2 and 3 images");

            Recorder recorder = new Recorder();
            PriorEnumeration all = PriorEnumeration.run(session, dir, 10, 0.5, 40, recorder);
            assertThat(all.histogram().total()).isEqualTo(81);
            assertThat(all.histogram().totalMass()).as("the class-marginal prior sums to one")
                    .isCloseTo(1, within(1e-6));
            assertThat(recorder.events).containsSubsequence("start enumerate 81 grids", "done 10", "done 81", "end");
            LatentSet every = new ExhaustiveSearch(SearchOptions.defaults()).search(models.prior,
                    SearchRequest.of(81, 0));
            LogProbHistogram brute = new LogProbHistogram(0.5, 40);
            brute.add(every.logProbs());
            LogProbHistogram shards = PriorEnumeration.histogram(session, dir, 10, 0.5, 40,
                    0, 30, n -> { }).merge(PriorEnumeration.histogram(session, dir, 10, 0.5, 40, 30, 81, n -> { }));
            for (int b = 0; b < 40; b++) {
                assertThat(shards.count(b)).isEqualTo(brute.count(b)).isEqualTo(all.histogram().count(b));
                assertThat(shards.mass(b)).isCloseTo(brute.mass(b), within(1e-12));
            }
        }
    }

    @Test
    void sweepsWriteTheirRowsAndReportEachAsItComes() throws Exception {
        ToyModels models = new ToyModels(BACKEND, SHAPE, IMAGE);
        SweepPipeline pipeline = INJECTOR.getInstance(SweepPipeline.class);
        List<String> events = new ArrayList<>();
        Path out = dir.resolve("sweep");
        try (Session session = Session.borrowing(BACKEND, models)) {
            SweepPipeline.Result r = pipeline.run(session, new SweepRequest(dir, dir, "top", false, true, SearchTuning.NONE, 1, 2,
                    Sweep.Mode.PREFIXES, WeightingKind.UNIFORM, null, Precision.FAST, out), images(5, 2),
                    new SweepPipeline.Listener() {
                        @Override
                        public void started(io.vqdistill.api.search.LatentSearch search) {
                            events.add("started " + search.name());
                        }

                        @Override
                        public void measured(Sweep.Row row) {
                            events.add("N = " + row.requested());
                        }

                        @Override
                        public void writing(SweepPipeline.Result result, io.vqdistill.formats.AtomicFolder.Staging
                                staging) throws java.io.IOException {
                            assertThat(staging.exists(SweepPipeline.CSV)).as("the CSV is staged first").isTrue();
                            assertThat(out.resolve(SweepPipeline.CSV)).as("nothing is committed yet").doesNotExist();
                            staging.writeString("plot.txt", result.rows().size() + " rows");
                        }
                    });
            assertThat(r.rows()).hasSize(3);
            assertThat(r.csv()).isEqualTo(out.resolve(SweepPipeline.CSV));
        }
        assertThat(events).containsExactly("started top", "N = 1", "N = 2", "N = 4");
        assertThat(Files.readAllLines(out.resolve(SweepPipeline.CSV))).hasSize(4).first().isEqualTo(Sweep.CSV_HEADER);
        assertThat(Files.readString(out.resolve("plot.txt"))).as("committed with the CSV").isEqualTo("3 rows");
    }

    @Test
    void inpaintsTheHiddenRegionAndSamplesOnlySquareImages() {
        ToyModels models = new ToyModels(BACKEND, SHAPE, IMAGE);
        Path out = dir.resolve("c");
        try (Session session = Session.borrowing(BACKEND, models)) {
            INJECTOR.getInstance(DistillationPipeline.class).run(session,
                    DistillationRequest.builder(dir, dir, "top", 4, out).build(), s -> { });
            Circuit c = session.circuit(out);
            Inpainting in = Inpainting.run(BACKEND, c, images(3, 1), Inpainting.Mask.LEFT, Inpainting.Query.MEAN, 1);
            assertThat(in.count()).isEqualTo(3);
            assertThat(in.observed()).containsExactly(false, true, true, false, true, true);
            assertThat(in.filled()).hasSize(18);
            assertThat(Inpainting.Mask.CENTRE.hides(14, 14, 28, 28)).isTrue();
            assertThat(Inpainting.Mask.CENTRE.hides(2, 14, 28, 28)).isFalse();
            assertThat(Inpainting.Mask.BOTTOM.label()).isEqualTo("bottom");
            assertThatThrownBy(() -> Sampling.draw(c, 2, 1, Sampling.Draw.PIXELS)).isInstanceOf(InvalidArgumentException.class)
                    .hasMessage("the circuit has 6 variables, not a square image");
        }
    }

    /** Records what a pipeline reports: "start TASK TOTAL UNIT", each "done N", and "end". */
    private static final class Recorder implements ProgressListener {
        final List<String> events = new ArrayList<>();

        @Override
        public void started(String task, long total, String unit) {
            events.add("start " + task + " " + total + " " + unit);
        }

        @Override
        public void advanced(long done) {
            events.add("done " + done);
        }

        @Override
        public void finished() {
            events.add("end");
        }
    }

    @Test
    void eachLongStepReportsItsTaskDoneOverTotalAndItsEnd() {
        ToyModels models = new ToyModels(BACKEND, SHAPE, IMAGE);
        Path out = dir.resolve("c");
        ImageSet test = images(1200, 4);
        try (Session session = Session.borrowing(BACKEND, models)) {
            Recorder distil = new Recorder();
            List<String> searched = new ArrayList<>();
            INJECTOR.getInstance(DistillationPipeline.class).run(session,
                    DistillationRequest.builder(dir, dir, "exhaustive", 81, out).build(),
                    s -> searched.add("searched after " + distil.events.size() + " events"), distil);
            assertThat(distil.events).containsExactly("start search 81 grids", "done 81", "end",
                    "start decode 81 components", "done 81", "end");
            assertThat(searched).containsExactly("searched after 3 events");

            Recorder evaluate = new Recorder();
            CircuitEvaluation e = CircuitEvaluation.of(session.circuit(out), test, 3, evaluate);
            assertThat(evaluate.events).containsExactly("start evaluate 1200 images", "done 500", "done 1000",
                    "done 1200", "end");
            assertThat(e.bitsPerDim()).isEqualTo(CircuitEvaluation.of(session.circuit(out), test, 3).bitsPerDim());

            Recorder exact = new Recorder();
            ExactEvaluation.run(session, dir, dir, test, 30, plan -> { }, exact);
            assertThat(exact.events).containsExactly("start exact 81 grids", "done 30", "done 60", "done 81", "end");

            Recorder sweep = new Recorder();
            INJECTOR.getInstance(SweepPipeline.class).run(session, new SweepRequest(dir, dir, "top", false, true, SearchTuning.NONE, 1,
                    2, Sweep.Mode.PREFIXES, WeightingKind.UNIFORM, null, Precision.FAST, dir.resolve("sweep")),
                    images(5, 2), new SweepPipeline.Listener() { }, sweep);
            assertThat(sweep.events).first().isEqualTo("start sweep 7 components");
            assertThat(sweep.events).contains("done 1", "done 3", "done 7").last().isEqualTo("end");
        }
    }

    @Test
    void componentMeansAreTheMeansOfTheComponentsPixelDrawsComeFrom() {
        int n = 3;
        int s = 4;
        float[] mean = new float[n * s];
        float[] logVar = new float[n * s];
        for (int c = 0; c < n; c++) {
            for (int p = 0; p < s; p++) {
                mean[c * s + p] = 0.1f + 0.3f * c + 0.01f * p;
                logVar[c * s + p] = (float) Math.log(1e-10);
            }
        }
        try (ShallowMixture m = ShallowMixture.builder(LeafFamilies.create("gaussian"))
                .parameters(Map.of("mean", BACKEND.of(mean, n, s), "log_var", BACKEND.of(logVar, n, s)))
                .logWeights(new double[] {Math.log(0.2), Math.log(0.5), Math.log(0.3)}).build()) {
            Sampling means = Sampling.draw(m, 40, 7, Sampling.Draw.MEANS);
            assertThat(means.draw()).isEqualTo(Sampling.Draw.MEANS);
            assertThat(means.side()).isEqualTo(2);
            assertThat(means.count()).isEqualTo(40);
            int[] components = means.components();
            assertThat(components).hasSize(40).contains(0, 1, 2);
            float[] v = means.values();
            for (int i = 0; i < 40; i++) {
                for (int p = 0; p < s; p++) {
                    assertThat(v[i * s + p]).isEqualTo(mean[components[i] * s + p]);
                }
            }
            Sampling draws = Sampling.draw(m, 40, 7, Sampling.Draw.PIXELS);
            assertThat(draws.components()).isEmpty();
            float[] d = draws.values();
            for (int i = 0; i < 40; i++) {
                assertThat(d[i * s]).as("pixel draw %d comes from component %d", i, components[i])
                        .isCloseTo(mean[components[i] * s], org.assertj.core.data.Offset.offset(0.05f));
            }
            try (DagCircuit dag = m.toDag()) {
                assertThatThrownBy(() -> Sampling.draw(dag, 2, 1, Sampling.Draw.MEANS))
                        .isInstanceOf(InvalidArgumentException.class).hasMessageContaining("draw pixels instead");
                assertThat(Sampling.draw(dag, 2, 1, Sampling.Draw.PIXELS).values()).hasSize(8);
            }
        }
        assertThat(Sampling.Draw.PIXELS.label()).isEqualTo("pixels");
    }

    // ---- data-guided search, refinement, inpainting scores, classification --------------------

    @Test
    void theEncodedSearchDistilsTheGridsTheEncoderAssignsToTheTrainingImages() {
        ToyModels models = new ToyModels(BACKEND, SHAPE, IMAGE);
        DistillationPipeline pipeline = INJECTOR.getInstance(DistillationPipeline.class);
        ImageSet train = images(60, 5);
        Path out = dir.resolve("encoded");
        java.util.Set<String> encoded = new java.util.HashSet<>();
        java.util.SplittableRandom noise = new java.util.SplittableRandom(12);
        int[] all = new int[train.size()];
        for (int i = 0; i < all.length; i++) {
            all[i] = i;
        }
        float[] x = train.dequantised(all, noise);
        for (int i = 0; i < train.size(); i++) {
            int[] grid = new int[SHAPE.positions()];
            for (int j = 0; j < grid.length; j++) {
                grid[j] = models.code(x[i * IMAGE.pixels() + j]);
            }
            encoded.add(java.util.Arrays.toString(grid));
        }
        try (Session session = Session.borrowing(BACKEND, models)) {
            DistillationResult r = pipeline.run(session, DistillationRequest.builder(dir, dir, "encoded", 6, out)
                    .searchImages(train).build(), s -> { });
            assertThat(r.components()).isEqualTo(6);
            ShallowMixture m = (ShallowMixture) session.circuit(out);
            for (int i = 0; i < 6; i++) {
                assertThat(encoded).contains(java.util.Arrays.toString(m.latents().orElseThrow().grid(i)));
            }
            assertThatThrownBy(() -> pipeline.run(session, DistillationRequest.builder(dir, dir, "encoded", 6,
                    dir.resolve("none")).build(), s -> { })).isInstanceOf(InvalidArgumentException.class)
                    .hasMessageContaining("the encoded search selects from the grids of the training images");
        }
        assertThat(CircuitFiles.provenance(out)).containsEntry("search", "encoded")
                .containsEntry("search_images", "toy images (60)");
    }

    @Test
    void aDataGuidedSweepMeasuresAtEveryNTheMixtureTheDistillationMakesAndNeedsTrainingImages() {
        ToyModels models = new ToyModels(BACKEND, SHAPE, IMAGE);
        ImageSet train = images(60, 5);
        ImageSet test = images(7, 2);
        SweepPipeline sweeps = INJECTOR.getInstance(SweepPipeline.class);
        DistillationPipeline distillation = INJECTOR.getInstance(DistillationPipeline.class);
        try (Session session = Session.borrowing(BACKEND, models)) {
            for (Sweep.Mode mode : Sweep.Mode.values()) {
                SweepRequest request = new SweepRequest(dir, dir, "encoded-sampled", false, true, SearchTuning.NONE, 3,
                        2, mode, WeightingKind.UNIFORM, null, Precision.FAST, dir.resolve("sweep-" + mode))
                        .withSearchImages(train);
                List<Sweep.Row> rows = sweeps.run(session, request, test, new SweepPipeline.Listener() { }).rows();
                assertThat(rows).extracting(Sweep.Row::components).containsExactly(1, 2, 4);
                for (Sweep.Row row : rows) {
                    Path out = dir.resolve("encoded-" + mode + "-" + row.requested());
                    distillation.run(session, DistillationRequest.builder(dir, dir, "encoded-sampled",
                            row.requested(), out).seed(3).searchImages(train).build(), s -> { });
                    double distilled = CircuitEvaluation.of(session.circuit(out), test, CircuitEvaluation.DEFAULT_SEED)
                            .bitsPerDim();
                    assertThat(row.bitsPerDim()).as("%s, N = %d", mode, row.requested())
                            .isCloseTo(distilled, within(1e-9));
                }
            }
            assertThatThrownBy(() -> sweeps.run(session, new SweepRequest(dir, dir, "encoded", false, true,
                    SearchTuning.NONE, 1, 1, Sweep.Mode.PREFIXES, WeightingKind.UNIFORM, null, Precision.FAST,
                    dir.resolve("sweep-none")), test, new SweepPipeline.Listener() { }))
                    .isInstanceOf(InvalidArgumentException.class)
                    .hasMessage("the encoded search selects from the grids of the training images, and none were given");
        }
        assertThat(dir.resolve("sweep-none")).doesNotExist();
    }

    @Test
    void refinementKeepsTheBestValidationUpdateAndRecordsItWithTheDistillationsProvenance() {
        ToyModels models = new ToyModels(BACKEND, SHAPE, IMAGE);
        Path distilled = dir.resolve("top");
        Path refined = dir.resolve("refined");
        int kept;
        try (Session session = Session.borrowing(BACKEND, models)) {
            INJECTOR.getInstance(DistillationPipeline.class).run(session, DistillationRequest.builder(dir, dir, "top",
                    5, distilled).build(), s -> { });
            List<Refinement.Report> reports = new ArrayList<>();
            Refinement.Result r = Refinement.run(session, new RefinementRequest(distilled, images(80, 6),
                    images(30, 7), 4, List.of(0.3, 0.05), List.of(0.0, 2.0), 0.1, 4, 11, refined, null), reports::add,
                    ProgressListener.NONE);
            assertThat(r.trials()).extracting(t -> List.of(t.start().floor(), t.start().shrinkage()))
                    .containsExactly(List.of(0.3, 0.0), List.of(0.3, 2.0), List.of(0.05, 0.0), List.of(0.05, 2.0));
            for (Refinement.Trial t : r.trials()) {
                assertThat(t.epochs()).hasSize(4);
                double best = Math.min(t.start().validationBpd(), t.epochs().stream()
                        .mapToDouble(Refinement.Epoch::validationBpd).min().orElseThrow());
                assertThat(t.validationBpd()).isEqualTo(best);
            }
            assertThat(r.trials().get(0).start().validationBpd()).as("the start depends on the floor only")
                    .isEqualTo(r.trials().get(1).start().validationBpd());
            Refinement.Trial plain = r.trials().get(2);
            for (int k = 1; k < plain.epochs().size(); k++) {
                assertThat(plain.epochs().get(k).trainBpd()).as("training BPD before update %d", k + 1)
                        .isLessThanOrEqualTo(plain.epochs().get(k - 1).trainBpd() + 1e-4);
            }
            assertThat(r.best().validationBpd()).isEqualTo(r.trials().stream()
                    .mapToDouble(Refinement.Trial::validationBpd).min().orElseThrow());
            kept = r.best().bestEpoch();
            assertThat(reports).hasSize(4 * 5);
            Circuit saved = session.circuit(refined);
            double measured = CircuitEvaluation.of(saved, images(30, 7), CircuitEvaluation.DEFAULT_SEED).bitsPerDim();
            assertThat(measured).isCloseTo(r.best().validationBpd(), org.assertj.core.api.Assertions.within(1e-4));
        }
        assertThat(CircuitFiles.provenance(refined)).containsEntry("search", "top")
                .containsEntry("refine.best_epoch", Integer.toString(kept)).containsKey("refine.min_std")
                .containsKey("refine.shrinkage").containsKey("refine.trials").containsKey("distill.components");
    }

    /** A simulated kill: thrown from a reports consumer or a fault hook. */
    private static final class Killed extends RuntimeException {
        Killed(String where) {
            super("killed " + where);
        }
    }

    private static RefinementRequest refinement(Path circuit, List<Double> shrinkages, Path out, Path state) {
        return new RefinementRequest(circuit, images(80, 6), images(30, 7), 4, List.of(0.3, 0.05), shrinkages, 0.1,
                4, 11, out, state);
    }

    @Test
    void aRefinementKilledAfterAnUpdateAndInsideACommitContinuesToTheUninterruptedResult() throws Exception {
        ToyModels models = new ToyModels(BACKEND, SHAPE, IMAGE);
        Path distilled = dir.resolve("top");
        Path state = dir.resolve("state");
        List<Double> shrinkages = List.of(0.0, 2.0);
        try (Session session = Session.borrowing(BACKEND, models)) {
            INJECTOR.getInstance(DistillationPipeline.class).run(session, DistillationRequest.builder(dir, dir, "top",
                    5, distilled).build(), s -> { });
            List<Refinement.Report> plain = new ArrayList<>();
            Refinement.Result whole = Refinement.run(session, refinement(distilled, shrinkages, dir.resolve("whole"),
                    null), plain::add, ProgressListener.NONE);
            assertThat(plain).hasSize(4 * 5);

            List<Refinement.Report> first = new ArrayList<>();
            assertThatThrownBy(() -> Refinement.run(session, refinement(distilled, shrinkages, dir.resolve("resumed"),
                    state), r -> {
                        first.add(r);
                        if (first.size() == 8) {
                            throw new Killed("after the second update of the second candidate");
                        }
                    }, ProgressListener.NONE)).isInstanceOf(Killed.class);
            assertThat(RefinementState.exists(state)).isTrue();

            List<Refinement.Report> second = new ArrayList<>();
            int[] commits = {0};
            try (AutoCloseable hook = io.vqdistill.formats.AtomicFolder.installFaultHook(
                    new io.vqdistill.formats.AtomicFolder.FaultHook() {
                        @Override
                        public void at(io.vqdistill.formats.AtomicFolder.Boundary boundary, Path folder) {
                            if (boundary == io.vqdistill.formats.AtomicFolder.Boundary.MOVED_ASIDE
                                    && folder.getFileName().toString().equals("state") && ++commits[0] == 4) {
                                throw new Killed("between the renames of a commit");
                            }
                        }
                    })) {
                assertThatThrownBy(() -> Refinement.run(session, refinement(distilled, shrinkages,
                        dir.resolve("resumed"), state), second::add, ProgressListener.NONE))
                        .isInstanceOf(Killed.class);
            }
            assertThat(second.get(0)).isEqualTo(new Refinement.Resumed(state, 1, 6));
            assertThat(second.subList(1, 9)).as("the first run's reports replayed").isEqualTo(first);

            List<Refinement.Report> third = new ArrayList<>();
            Refinement.Result resumed = Refinement.run(session, refinement(distilled, shrinkages,
                    dir.resolve("resumed"), state), third::add, ProgressListener.NONE);
            assertThat(third.get(0)).isInstanceOf(Refinement.Resumed.class);
            List<Refinement.Report> replayedAndNew = third.subList(1, third.size());
            assertThat(replayedAndNew).hasSize(plain.size());
            for (int i = 0; i < plain.size(); i++) {
                assertThat(withoutTime(replayedAndNew.get(i))).as("report %d", i).isEqualTo(withoutTime(plain.get(i)));
            }
            assertThat(resumed.chosen()).isEqualTo(whole.chosen());
            assertThat(resumed.best().bestEpoch()).isEqualTo(whole.best().bestEpoch());
            assertThat(resumed.trials()).extracting(Refinement.Trial::validationBpd)
                    .containsExactlyElementsOf(whole.trials().stream().map(Refinement.Trial::validationBpd).toList());
            assertThat(java.nio.file.Files.exists(state)).as("the state is deleted at the end").isFalse();

            ShallowMixture a = (ShallowMixture) session.circuit(dir.resolve("whole"));
            ShallowMixture b = (ShallowMixture) session.circuit(dir.resolve("resumed"));
            assertThat(b.logWeights()).containsExactly(a.logWeights(), within(1e-6));
            for (String name : a.parameters().keySet()) {
                float[] x = a.parameters().get(name).toFloatArray();
                float[] y = b.parameters().get(name).toFloatArray();
                assertThat(y).as(name).containsExactly(x, within(1e-6f));
            }
        }
        Map<String, String> p = new java.util.HashMap<>(CircuitFiles.provenance(dir.resolve("whole")));
        Map<String, String> q = new java.util.HashMap<>(CircuitFiles.provenance(dir.resolve("resumed")));
        p.remove("created");
        q.remove("created");
        assertThat(q).isEqualTo(p);
    }

    /** A report with its wall time zeroed, to compare runs. */
    private static Refinement.Report withoutTime(Refinement.Report r) {
        return r instanceof Refinement.Epoch e ? new Refinement.Epoch(e.epoch(), e.trainBpd(), e.validationBpd(),
                e.improved(), 0) : r;
    }

    @Test
    void aRefinementStateMadeWithOtherSettingsIsRefusedNamingTheFieldAndBothValues() throws Exception {
        ToyModels models = new ToyModels(BACKEND, SHAPE, IMAGE);
        Path distilled = dir.resolve("top");
        Path state = dir.resolve("state");
        try (Session session = Session.borrowing(BACKEND, models)) {
            INJECTOR.getInstance(DistillationPipeline.class).run(session, DistillationRequest.builder(dir, dir, "top",
                    5, distilled).build(), s -> { });
            assertThatThrownBy(() -> Refinement.run(session, refinement(distilled, List.of(0.0, 2.0),
                    dir.resolve("out"), state), r -> {
                        throw new Killed("after the first start");
                    }, ProgressListener.NONE)).isInstanceOf(Killed.class);
            List<Refinement.Report> reports = new ArrayList<>();
            assertThatThrownBy(() -> Refinement.run(session, refinement(distilled, List.of(0.0), dir.resolve("out"),
                    state), reports::add, ProgressListener.NONE))
                    .isInstanceOf(InvalidArgumentException.class)
                    .hasMessageContaining("was made with shrinkages = [0.0, 2.0], but this run has shrinkages = [0.0]");
            assertThat(reports).as("refused before any work").isEmpty();
            assertThat(RefinementState.exists(state)).as("a refused state is kept").isTrue();
            assertThatThrownBy(() -> Refinement.run(session, new RefinementRequest(distilled, images(60, 6),
                    images(30, 7), 4, List.of(0.3, 0.05), List.of(0.0, 2.0), 0.1, 4, 11, dir.resolve("out"), state),
                    reports::add, ProgressListener.NONE))
                    .isInstanceOf(InvalidArgumentException.class)
                    .hasMessageContaining("train_images = toy images (80), but this run has train_images = toy"
                            + " images (60)");
            Path other = dir.resolve("other");
            java.nio.file.Files.createDirectories(other);
            java.nio.file.Files.writeString(other.resolve(RefinementState.STATE_JSON), "{\"format\": \"x/1\"}");
            assertThatThrownBy(() -> Refinement.run(session, refinement(distilled, List.of(0.0), dir.resolve("out"),
                    other), reports::add, ProgressListener.NONE)).isInstanceOf(FormatException.class)
                    .hasMessageContaining("field format: expected 'vqdistill.refine-state/1', found 'x/1'");
        }
    }

    @Test
    void theMeanImageBaselinePredictsTheTrainingMeanAndTheCircuitRowsItsConditionalMean() {
        ToyModels models = new ToyModels(BACKEND, SHAPE, IMAGE);
        Path distilled = dir.resolve("top");
        ImageSet train = images(200, 8);
        ImageSet test = images(20, 9);
        try (Session session = Session.borrowing(BACKEND, models)) {
            INJECTOR.getInstance(DistillationPipeline.class).run(session, DistillationRequest.builder(dir, dir, "top",
                    4, distilled).build(), s -> { });
            Circuit circuit = session.circuit(distilled);
            InpaintingScores scores = InpaintingScores.run(BACKEND, circuit, train, test,
                    InpaintingScores.Settings.of(List.of(Inpainting.Mask.LEFT, Inpainting.Mask.BOTTOM), 0),
                    ProgressListener.NONE);
            assertThat(scores.rows()).hasSize(4);
            int[] trainLevels = train.levels(range(train.size()));
            int[] testLevels = test.levels(range(test.size()));
            int s = IMAGE.pixels();
            for (InpaintingScores.Row row : scores.rows()) {
                Inpainting filled = Inpainting.run(BACKEND, circuit, test, row.mask(), Inpainting.Query.MEAN, 0);
                double circuitSquares = 0;
                double baselineSquares = 0;
                int hidden = 0;
                for (int p = 0; p < s; p++) {
                    if (filled.observed()[p]) {
                        continue;
                    }
                    hidden++;
                    double mean = 0;
                    for (int i = 0; i < train.size(); i++) {
                        mean += (trainLevels[i * s + p] + 0.5) / train.size();
                    }
                    for (int i = 0; i < test.size(); i++) {
                        double truth = testLevels[i * s + p];
                        double c = 256.0 * filled.filled()[i * s + p] - 0.5 - truth;
                        circuitSquares += c * c / (255.0 * 255.0);
                        baselineSquares += (mean - 0.5 - truth) * (mean - 0.5 - truth) / (255.0 * 255.0);
                    }
                }
                assertThat(row.hiddenPixels()).isEqualTo(hidden);
                double expected = (row.model().equals(InpaintingScores.CIRCUIT) ? circuitSquares : baselineSquares)
                        / (test.size() * hidden);
                assertThat(row.mse()).as("%s %s", row.mask(), row.model())
                        .isCloseTo(expected, org.assertj.core.api.Assertions.within(2e-3 * expected + 1e-6));
            }
            assertThat(scores.csv()).startsWith("mask,model,hidden_pixels,images,mse,mse_vs_mean_image,conditional_bpd\n"
                    + "left,circuit,");
        }
    }

    @Test
    void classificationCountsTheArgmaxOfTheClassPosteriorAgainstTheLabels() {
        ToyModels models = new ToyModels(BACKEND, SHAPE, IMAGE);
        Path distilled = dir.resolve("beam");
        ImageSet test = images(30, 10);
        try (Session session = Session.borrowing(BACKEND, models)) {
            INJECTOR.getInstance(DistillationPipeline.class).run(session, DistillationRequest.builder(dir, dir, "beam",
                    9, distilled).deterministic(true).build(), s -> { });
            ShallowMixture m = (ShallowMixture) session.circuit(distilled);
            Classification c = Classification.run(BACKEND, m, test, 0, ProgressListener.NONE);
            long[] predicted;
            try (var x = BACKEND.of(PixelEncoding.DEQUANTISED.values(test, range(30), new java.util.SplittableRandom(0)),
                    30, IMAGE.pixels()); var all = BACKEND.full(io.vqdistill.api.DType.BOOL, 1, 30, IMAGE.pixels());
                    var post = m.classPosterior(x, all, 3); var best = post.argMax(1)) {
                predicted = best.toLongArray();
            }
            int[][] expected = new int[3][3];
            for (int i = 0; i < 30; i++) {
                expected[test.label(i)][(int) predicted[i]]++;
            }
            assertThat(c.confusion()).isDeepEqualTo(expected);
            assertThat(c.accuracy()).isEqualTo((expected[0][0] + expected[1][1] + expected[2][2]) / 30.0);
        }
    }

    private static int[] range(int n) {
        int[] idx = new int[n];
        for (int i = 0; i < n; i++) {
            idx[i] = i;
        }
        return idx;
    }
}
