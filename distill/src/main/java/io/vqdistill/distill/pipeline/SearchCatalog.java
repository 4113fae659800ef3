package io.vqdistill.distill.pipeline;

import io.vqdistill.api.search.LatentSearch;
import io.vqdistill.api.search.SearchOptions;
import io.vqdistill.distill.inject.Configured;
import io.vqdistill.distill.inject.Deterministic;
import io.vqdistill.distill.inject.SearchSets;
import io.vqdistill.distill.search.LatentSearches;
import jakarta.inject.Inject;
import jakarta.inject.Provider;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The latent searches by name, in the two variants {@link io.vqdistill.distill.inject.PipelineModule}
 * binds: as configured (by default the stochastic beam search) and deterministic (the beam search keeps
 * the best candidates instead of sampling them: the same grids on every run and every backend), and in
 * any other settings a piece of work asks for with a {@link SearchTuning} (created once per distinct
 * settings by the module's factory, with the same strategies). The strategies are created when a
 * search is first asked for.
 */
public final class SearchCatalog {
    private final SearchOptions options;
    private final Provider<LatentSearches> configured;
    private final Provider<LatentSearches> deterministic;
    private final SearchSets factory;
    private final Map<SearchOptions, LatentSearches> tuned = new ConcurrentHashMap<>();

    /** A catalogue over the two bound sets of strategies and the factory of others. */
    @Inject
    public SearchCatalog(@Configured SearchOptions options, @Configured Provider<LatentSearches> configured,
                         @Deterministic Provider<LatentSearches> deterministic, SearchSets factory) {
        this.options = Objects.requireNonNull(options, "options");
        this.configured = Objects.requireNonNull(configured, "configured");
        this.deterministic = Objects.requireNonNull(deterministic, "deterministic");
        this.factory = Objects.requireNonNull(factory, "factory");
    }

    /**
     * The strategy called {@code name}, scoring its grids; with {@code deterministic} the variant whose
     * beam keeps the best candidates.
     *
     * @throws io.vqdistill.api.InvalidArgumentException for an unknown name, listing the known ones
     */
    public LatentSearch get(String name, boolean deterministic) {
        return get(name, deterministic, true, SearchTuning.NONE);
    }

    /**
     * The strategy called {@code name} with the settings {@link #options(boolean, boolean, SearchTuning)}
     * gives.
     *
     * @throws io.vqdistill.api.InvalidArgumentException for an unknown name, listing the known ones
     */
    public LatentSearch get(String name, boolean deterministic, boolean scoreGrids, SearchTuning tuning) {
        SearchOptions wanted = options(deterministic, scoreGrids, tuning);
        LatentSearches set;
        if (wanted.equals(options)) {
            set = configured.get();
        } else if (wanted.equals(options.withStochastic(false))) {
            set = this.deterministic.get();
        } else {
            set = tuned.computeIfAbsent(wanted, factory::create);
        }
        return set.get(name);
    }

    /**
     * The settings a search runs with: the configured ones, not stochastic when {@code deterministic},
     * without the grids' scores unless {@code scoreGrids}, with {@code tuning}'s values in place.
     */
    public SearchOptions options(boolean deterministic, boolean scoreGrids, SearchTuning tuning) {
        SearchOptions base = deterministic ? options.withStochastic(false) : options;
        return tuning.applyTo(scoreGrids ? base : base.withScoreGrids(false));
    }

    /** The known names, sorted. */
    public List<String> names() {
        return configured.get().names();
    }
}
