package io.vqdistill.cli.options;

import io.vqdistill.api.InvalidArgumentException;
import io.vqdistill.api.circuit.Precision;
import io.vqdistill.api.search.BeamScoring;
import io.vqdistill.api.search.LatentSearch;
import io.vqdistill.api.search.RandomClasses;
import io.vqdistill.api.search.SearchOptions;
import io.vqdistill.distill.eval.Sweep;
import io.vqdistill.distill.pipeline.DistillationRequest;
import io.vqdistill.distill.pipeline.SearchCatalog;
import io.vqdistill.distill.pipeline.SearchTuning;
import io.vqdistill.distill.search.BeamSearch;
import io.vqdistill.distill.search.ExhaustiveSearch;
import io.vqdistill.distill.search.RandomSearch;
import io.vqdistill.distill.search.TopSearch;
import io.vqdistill.distill.pipeline.SweepRequest;
import io.vqdistill.distill.pipeline.WeightingKind;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** How a command builds mixtures: the checkpoints, the latent search and the leaves. */
public final class MixtureOptions {

    @Mixin
    ModelPaths models;

    @Option(names = "--search", paramLabel = "NAME", required = true,
            description = "the latent search: beam, random, top, exhaustive, encoded (the training images' grids by"
                + " use; --data chooses them), encoded-prior (the same by p(z)), encoded-sampled (the same in a"
                + " random draw of the images) or a plug-in's name")
    String search;

    @Option(names = "--deterministic",
            description = "beam search: keep the best candidates instead of sampling them (same grids on every run"
                + " and backend)")
    boolean deterministic;

    @Option(names = "--no-scores",
            description = "beam and random searches: leave the grids' class-marginal log p(z) unknown instead of "
                + "scoring every grid under every class (saves that time; not with --weights prior)")
    boolean noScores;

    @Option(names = "--beam-starts", paramLabel = "S",
            description = "beam search: s, the distinct starting codes per class (default: "
                + SearchOptions.DEFAULT_BEAM_STARTS + ", the paper's)")
    Integer beamStarts;

    @Option(names = "--beam-width", paramLabel = "B",
            description = "beam search: the width of every (class, start) beam, >= 1 (default: N / (s |C|), each"
                + " beam's share of N; a smaller width is raised to the share)")
    Integer beamWidth;

    @Option(names = "--beam-scoring", paramLabel = "R",
            description = "beam search: how a class's beams rank their candidates: per-class (by log p(z | c), the"
                + " paper's Algorithm 1) or class-marginal (by log p(z)) (default: per-class)")
    String beamScoring;

    @Option(names = "--top-width-factor", paramLabel = "F",
            description = "top search: keep F x N prefixes per position, >= 1; larger is closer to the exact"
                + " top-N (default: 1)")
    Integer topWidthFactor;

    @Option(names = "--random-classes", paramLabel = "D",
            description = "random search: draw each grid's class uniformly (uniform, the paper's c ~ U(C)) or from"
                + " the prior's class prior (prior) (default: uniform)")
    String randomClasses;

    @Option(names = "--min-std", paramLabel = "S",
            description = "Gaussian leaves: raise every standard deviation to at least S, in (0, 1] (default: the"
                + " decoder's own, down to 1e-3); choose S on --images validation, not on the test set")
    Double minStd;

    @Option(names = "--seed", paramLabel = "S", defaultValue = "1",
            description = "seed of the search (default: ${DEFAULT-VALUE})")
    long seed;

    /** The checked search settings, set by {@link #checkSearch}. */
    private SearchTuning tuning = SearchTuning.NONE;

    /**
     * The search {@code --search} names.
     *
     * @throws io.vqdistill.api.InvalidArgumentException for an unknown name, listing the known ones
     */
    public LatentSearch search(SearchCatalog searches) {
        return searches.get(search, deterministic);
    }

    /**
     * Checks that {@code --search} names a known search, before any work.
     *
     * @throws io.vqdistill.api.InvalidArgumentException for an unknown name, listing the known ones
     */
    public void checkSearch(SearchCatalog searches) {
        tuning = tuning();
        searches.get(search, deterministic, !noScores, tuning);
    }

    /**
     * The search settings the flags give, each checked and naming its flag; a flag of a shipped
     * search other than {@code --search}'s is refused (a plug-in may read any of them).
     */
    private SearchTuning tuning() {
        if (beamStarts != null) {
            Flags.atLeastOne("--beam-starts", beamStarts);
        }
        if (beamWidth != null) {
            Flags.atLeastOne("--beam-width", beamWidth);
        }
        if (topWidthFactor != null) {
            Flags.atLeastOne("--top-width-factor", topWidthFactor);
        }
        BeamScoring scoring = beamScoring == null ? null : SearchTuning.beamScoring(beamScoring).orElseThrow(() ->
                new InvalidArgumentException("unknown --beam-scoring '" + beamScoring + "'; known: "
                        + SearchTuning.beamScorings()));
        RandomClasses classes = randomClasses == null ? null : SearchTuning.randomClasses(randomClasses)
                .orElseThrow(() -> new InvalidArgumentException("unknown --random-classes '" + randomClasses
                        + "'; known: " + SearchTuning.randomClassesLabels()));
        Map<String, Object> given = new LinkedHashMap<>();
        given.put("--beam-starts", beamStarts);
        given.put("--beam-width", beamWidth);
        given.put("--beam-scoring", beamScoring);
        given.put("--top-width-factor", topWidthFactor);
        given.put("--random-classes", randomClasses);
        Map<String, String> owner = Map.of("--beam-starts", BeamSearch.NAME, "--beam-width", BeamSearch.NAME,
                "--beam-scoring", BeamSearch.NAME, "--top-width-factor", TopSearch.NAME, "--random-classes",
                RandomSearch.NAME);
        if (owner.containsValue(search) || search.equals(ExhaustiveSearch.NAME)) {
            given.forEach((flag, value) -> {
                if (value != null && !owner.get(flag).equals(search)) {
                    throw new InvalidArgumentException(flag + " " + value + " applies only to --search "
                            + owner.get(flag) + "; --search " + search + " does not read it: drop it");
                }
            });
        }
        return new SearchTuning(beamStarts, beamWidth, topWidthFactor, scoring, classes);
    }

    /**
     * Checks, before any work, the search's name, {@code --no-scores} against the weighting,
     * {@code --min-std}, and the two checkpoints' settings
     * against each other ({@link ModelPaths#check()}), and returns what the checkpoints describe.
     *
     * @throws io.vqdistill.api.InvalidArgumentException naming the flag at fault
     */
    public ModelPaths.Checked check(SearchCatalog searches, WeightingKind weighting) {
        checkSearch(searches);
        if (noScores && weighting == WeightingKind.PRIOR) {
            throw new InvalidArgumentException("--no-scores leaves the grids' prior probabilities unknown, but"
                    + " --weights prior weighs the components by them: drop one of the two");
        }
        if (minStd != null && !(minStd > 0 && minStd <= 1)) {
            throw new InvalidArgumentException("--min-std must be in (0, 1], found " + minStd);
        }
        ModelPaths.Checked checked = models.check();
        if (minStd != null && !checked.leafFamily().equals("gaussian")) {
            throw new InvalidArgumentException("--min-std needs gaussian leaves, but the VQ-VAE of --vqvae "
                    + models.vqvae() + " has " + checked.leafFamily() + " leaves");
        }
        return checked;
    }

    /** A request for {@code components} grids saved to {@code out}, with these options; uniform weights. */
    public DistillationRequest.Builder request(int components, Path out) {
        return DistillationRequest.builder(models.vqvae, models.prior, search, components, out)
                .deterministic(deterministic).scoreGrids(!noScores).tuning(tuning).seed(seed).minStd(minStd);
    }

    /** A sweep up to N = 2^{@code maxExponent} with these options, its mixtures measured at {@code precision}. */
    public SweepRequest sweep(int maxExponent, Sweep.Mode mode, WeightingKind weighting, Precision precision,
                              Path out) {
        return new SweepRequest(models.vqvae, models.prior, search, deterministic, !noScores, tuning, seed,
                maxExponent, mode, weighting, minStd, precision, out);
    }
}
