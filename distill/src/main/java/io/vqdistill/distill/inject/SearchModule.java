package io.vqdistill.distill.inject;

import com.google.inject.AbstractModule;
import com.google.inject.multibindings.MapBinder;
import com.google.inject.multibindings.OptionalBinder;
import io.vqdistill.api.search.LatentSearch;
import io.vqdistill.api.search.LatentSearchProvider;
import io.vqdistill.api.search.SearchOptions;
import io.vqdistill.distill.search.BeamSearch;
import io.vqdistill.distill.search.EncodedSearch;
import io.vqdistill.distill.search.ExhaustiveSearch;
import io.vqdistill.distill.search.LatentSearches;
import io.vqdistill.distill.search.RandomSearch;
import io.vqdistill.distill.search.TopSearch;
import jakarta.inject.Inject;
import jakarta.inject.Provider;
import java.util.List;
import java.util.ServiceLoader;

/**
 * Binds the latent searches by name in a {@code MapBinder<String, LatentSearch>}: {@code random},
 * {@code beam}, {@code top}, {@code exhaustive} and the data-guided {@code encoded},
 * {@code encoded-prior} and {@code encoded-sampled}, plus any {@link LatentSearchProvider} given to
 * the module, and {@link LatentSearches} to select among them. Every strategy is configured by the
 * optional {@link SearchOptions} binding (default {@link SearchOptions#defaults()}; override with
 * {@code OptionalBinder.newOptionalBinder(binder(), SearchOptions.class).setBinding()}).
 *
 * <p>Other modules add strategies with
 * {@code MapBinder.newMapBinder(binder(), String.class, LatentSearch.class).addBinding("name")};
 * jars add them through the {@link LatentSearchProvider} service, found by {@link #withPlugins()}.
 * A name bound twice is a configuration error. The module only binds; searches are created when
 * first injected.
 */
public final class SearchModule extends AbstractModule {
    private final List<LatentSearchProvider> plugins;

    /** The shipped strategies only. */
    public SearchModule() {
        this(List.of());
    }

    /** The shipped strategies and {@code plugins}. */
    public SearchModule(List<LatentSearchProvider> plugins) {
        this.plugins = List.copyOf(plugins);
    }

    /**
     * The shipped strategies and every {@link LatentSearchProvider} registered with
     * {@link ServiceLoader} on the class path of this module.
     */
    public static SearchModule withPlugins() {
        return new SearchModule(plugins());
    }

    /**
     * Every {@link LatentSearchProvider} registered with {@link ServiceLoader} on the class path of
     * this module, each created once.
     */
    public static List<LatentSearchProvider> plugins() {
        return ServiceLoader.load(LatentSearchProvider.class, SearchModule.class.getClassLoader()).stream()
                .map(ServiceLoader.Provider::get).toList();
    }

    @Override
    protected void configure() {
        OptionalBinder.newOptionalBinder(binder(), SearchOptions.class).setDefault()
                .toInstance(SearchOptions.defaults());
        MapBinder<String, LatentSearch> searches = MapBinder.newMapBinder(binder(), String.class, LatentSearch.class);
        searches.addBinding(RandomSearch.NAME).to(RandomSearch.class);
        searches.addBinding(BeamSearch.NAME).to(BeamSearch.class);
        searches.addBinding(TopSearch.NAME).to(TopSearch.class);
        searches.addBinding(ExhaustiveSearch.NAME).to(ExhaustiveSearch.class);
        for (EncodedSearch.Ranking ranking : EncodedSearch.Ranking.values()) {
            LatentSearchProvider encoded = new EncodedSearch.Provider(ranking);
            searches.addBinding(encoded.name()).toProvider(new PluginSearch(encoded));
        }
        for (LatentSearchProvider plugin : plugins) {
            searches.addBinding(plugin.name()).toProvider(new PluginSearch(plugin));
        }
        bind(LatentSearches.class);
    }

    /** Creates a plug-in's search with the injector's options. */
    private static final class PluginSearch implements Provider<LatentSearch> {
        private final LatentSearchProvider plugin;
        private SearchOptions options;

        PluginSearch(LatentSearchProvider plugin) {
            this.plugin = plugin;
        }

        @Inject
        void setOptions(SearchOptions options) {
            this.options = options;
        }

        @Override
        public LatentSearch get() {
            return plugin.create(options);
        }

        @Override
        public String toString() {
            return "plug-in latent search '" + plugin.name() + "' (" + plugin.getClass().getName() + ")";
        }
    }
}
