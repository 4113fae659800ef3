package io.vqdistill.cli;

import com.google.inject.AbstractModule;
import com.google.inject.Guice;
import com.google.inject.multibindings.OptionalBinder;
import io.vqdistill.api.search.LatentSearch;
import io.vqdistill.api.search.SearchOptions;
import io.vqdistill.distill.inject.SearchModule;
import io.vqdistill.distill.search.LatentSearches;

/** The latent searches by name, from the Guice {@link SearchModule} with the plug-ins on the class path. */
final class Searches {
    private Searches() {
    }

    /**
     * The strategy called {@code name}, with the default (stochastic) beam.
     *
     * @throws IllegalArgumentException for an unknown name, listing the known ones
     */
    static LatentSearch named(String name) {
        return named(name, false);
    }

    /**
     * The strategy called {@code name}; {@code deterministic} makes the beam search keep the best
     * candidates instead of sampling them (the same grids on every run and every backend).
     *
     * @throws IllegalArgumentException for an unknown name, listing the known ones
     */
    static LatentSearch named(String name, boolean deterministic) {
        SearchOptions d = SearchOptions.defaults();
        SearchOptions options = new SearchOptions(d.beamStarts(), !deterministic, d.attemptsPerGrid(),
                d.samplingBatch(), d.topWidthFactor(), d.maxBlockElements(), d.enumerationChunk(),
                d.maxEnumeratedGrids());
        return Guice.createInjector(SearchModule.withPlugins(), new AbstractModule() {
            @Override
            protected void configure() {
                OptionalBinder.newOptionalBinder(binder(), SearchOptions.class).setBinding().toInstance(options);
            }
        }).getInstance(LatentSearches.class).get(name);
    }
}
