package io.vqdistill.distill.pipeline;

import io.vqdistill.api.search.LatentSearch;
import io.vqdistill.distill.inject.Configured;
import io.vqdistill.distill.inject.Deterministic;
import io.vqdistill.distill.inject.DeterministicUnscored;
import io.vqdistill.distill.inject.Unscored;
import io.vqdistill.distill.search.LatentSearches;
import jakarta.inject.Inject;
import jakarta.inject.Provider;
import java.util.List;
import java.util.Objects;

/**
 * The latent searches by name, in the variants {@link io.vqdistill.distill.inject.PipelineModule}
 * binds: as configured (by default the stochastic beam search) or deterministic (the beam search keeps
 * the best candidates instead of sampling them: the same grids on every run and every backend), each
 * with or without the grids' class-marginal scores
 * ({@link io.vqdistill.api.search.SearchOptions#scoreGrids()}). The strategies are created when a
 * search is first asked for.
 */
public final class SearchCatalog {
    private final Provider<LatentSearches> configured;
    private final Provider<LatentSearches> deterministic;
    private final Provider<LatentSearches> unscored;
    private final Provider<LatentSearches> deterministicUnscored;

    /** A catalogue over the four sets of strategies. */
    @Inject
    public SearchCatalog(@Configured Provider<LatentSearches> configured,
                         @Deterministic Provider<LatentSearches> deterministic,
                         @Unscored Provider<LatentSearches> unscored,
                         @DeterministicUnscored Provider<LatentSearches> deterministicUnscored) {
        this.configured = Objects.requireNonNull(configured, "configured");
        this.deterministic = Objects.requireNonNull(deterministic, "deterministic");
        this.unscored = Objects.requireNonNull(unscored, "unscored");
        this.deterministicUnscored = Objects.requireNonNull(deterministicUnscored, "deterministicUnscored");
    }

    /**
     * The strategy called {@code name}, scoring its grids; with {@code deterministic} the variant whose
     * beam keeps the best candidates.
     *
     * @throws io.vqdistill.api.InvalidArgumentException for an unknown name, listing the known ones
     */
    public LatentSearch get(String name, boolean deterministic) {
        return get(name, deterministic, true);
    }

    /**
     * The strategy called {@code name}; with {@code deterministic} the variant whose beam keeps the
     * best candidates, without {@code scoreGrids} the variant that leaves the class-marginal scores of
     * its grids unknown where it does not need them (see
     * {@link io.vqdistill.api.search.SearchOptions#scoreGrids()}).
     *
     * @throws io.vqdistill.api.InvalidArgumentException for an unknown name, listing the known ones
     */
    public LatentSearch get(String name, boolean deterministic, boolean scoreGrids) {
        Provider<LatentSearches> set = scoreGrids ? (deterministic ? this.deterministic : configured)
                : (deterministic ? deterministicUnscored : unscored);
        return set.get().get(name);
    }

    /** The known names, sorted. */
    public List<String> names() {
        return configured.get().names();
    }
}
