package io.vqdistill.cli;

import com.google.inject.Guice;
import io.vqdistill.api.search.LatentSearch;
import io.vqdistill.distill.inject.SearchModule;
import io.vqdistill.distill.search.LatentSearches;

/** The latent searches by name, from the Guice {@link SearchModule} with the plug-ins on the class path. */
final class Searches {
    private Searches() {
    }

    /**
     * The strategy called {@code name}.
     *
     * @throws IllegalArgumentException for an unknown name, listing the known ones
     */
    static LatentSearch named(String name) {
        return Guice.createInjector(SearchModule.withPlugins()).getInstance(LatentSearches.class).get(name);
    }
}
