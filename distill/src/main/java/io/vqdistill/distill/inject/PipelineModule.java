package io.vqdistill.distill.inject;

import com.google.inject.AbstractModule;
import com.google.inject.Guice;
import com.google.inject.Key;
import com.google.inject.PrivateModule;
import com.google.inject.multibindings.OptionalBinder;
import io.vqdistill.api.search.LatentSearchProvider;
import io.vqdistill.api.search.SearchOptions;
import io.vqdistill.distill.search.LatentSearches;
import java.lang.annotation.Annotation;
import java.util.List;
import java.util.Objects;

/**
 * What an application of the distillation pipeline injects, in one injector for the whole process:
 * the {@link BackendModule} (the backend selector; a backend is only created when a pipeline session
 * opens one for the options of that piece of work) and the latent searches twice, each set in a
 * private module of its own that exposes one {@link LatentSearches}:
 * {@code @}{@link Configured} with the given {@link SearchOptions}, and {@code @}{@link Deterministic}
 * with the same options but {@code stochastic = false}. Both sets hold the shipped strategies and the
 * given plug-ins. Plain {@code LatentSearches} is not bound; the pipeline's search catalogue selects
 * between the two sets, or asks the bound {@link SearchSets} (an injector of its own per call, holding
 * the same strategies) for other settings; {@code @Configured SearchOptions} are the given options. The module only binds; searches are created when first injected.
 */
public final class PipelineModule extends AbstractModule {
    private final SearchOptions options;
    private final List<LatentSearchProvider> plugins;

    /** The default search options and the plug-ins on the class path ({@link SearchModule#plugins()}). */
    public PipelineModule() {
        this(SearchOptions.defaults(), SearchModule.plugins());
    }

    /** Searches configured by {@code options}, with {@code plugins} besides the shipped strategies. */
    public PipelineModule(SearchOptions options, List<LatentSearchProvider> plugins) {
        this.options = Objects.requireNonNull(options, "options");
        this.plugins = List.copyOf(plugins);
    }

    @Override
    protected void configure() {
        install(new BackendModule());
        install(new SearchSet(options, plugins, Configured.class));
        install(new SearchSet(options.withStochastic(false), plugins, Deterministic.class));
        bind(SearchOptions.class).annotatedWith(Configured.class).toInstance(options);
        bind(SearchSets.class).toInstance(o -> Guice.createInjector(new SearchSet(o, plugins, Configured.class))
                .getInstance(Key.get(LatentSearches.class, Configured.class)));
    }

    /** One set of strategies with its own options, exposed as {@code @qualifier LatentSearches}. */
    private static final class SearchSet extends PrivateModule {
        private final SearchOptions options;
        private final List<LatentSearchProvider> plugins;
        private final Class<? extends Annotation> qualifier;

        SearchSet(SearchOptions options, List<LatentSearchProvider> plugins, Class<? extends Annotation> qualifier) {
            this.options = options;
            this.plugins = plugins;
            this.qualifier = qualifier;
        }

        @Override
        protected void configure() {
            install(new SearchModule(plugins));
            OptionalBinder.newOptionalBinder(binder(), SearchOptions.class).setBinding().toInstance(options);
            Key<LatentSearches> exposed = Key.get(LatentSearches.class, qualifier);
            bind(exposed).to(LatentSearches.class);
            expose(exposed);
        }
    }
}
