package io.vqdistill.distill.pipeline;

import io.vqdistill.api.search.LatentSearch;
import io.vqdistill.distill.inject.Configured;
import io.vqdistill.distill.inject.Deterministic;
import io.vqdistill.distill.search.LatentSearches;
import jakarta.inject.Inject;
import jakarta.inject.Provider;
import java.util.List;
import java.util.Objects;

/**
 * The latent searches by name, in the two variants {@link io.vqdistill.distill.inject.PipelineModule}
 * binds: as configured (by default the stochastic beam search) and deterministic (the beam search keeps
 * the best candidates instead of sampling them: the same grids on every run and every backend). The
 * strategies are created when a search is first asked for.
 */
public final class SearchCatalog {
    private final Provider<LatentSearches> configured;
    private final Provider<LatentSearches> deterministic;

    /** A catalogue over the two sets of strategies. */
    @Inject
    public SearchCatalog(@Configured Provider<LatentSearches> configured,
                         @Deterministic Provider<LatentSearches> deterministic) {
        this.configured = Objects.requireNonNull(configured, "configured");
        this.deterministic = Objects.requireNonNull(deterministic, "deterministic");
    }

    /**
     * The strategy called {@code name}; with {@code deterministic} the variant whose beam keeps the
     * best candidates.
     *
     * @throws io.vqdistill.api.InvalidArgumentException for an unknown name, listing the known ones
     */
    public LatentSearch get(String name, boolean deterministic) {
        return (deterministic ? this.deterministic : configured).get().get(name);
    }

    /** The known names, sorted. */
    public List<String> names() {
        return configured.get().names();
    }
}
