package io.vqdistill.api.search;


/**
 * The service interface of third-party latent searches: a jar lists its implementations in
 * {@code META-INF/services/io.vqdistill.api.search.LatentSearchProvider}, and
 * {@code SearchModule.withPlugins()} binds each one into the same {@code MapBinder<String,
 * LatentSearch>} as the shipped strategies, under {@link #name()}. A name that is already taken is a
 * configuration error when the injector is created. Providers are cheap to construct; the search is
 * created when first injected.
 */
public interface LatentSearchProvider {

    /** The name users select the strategy by; equal to the created search's {@link LatentSearch#name()}. */
    String name();

    /** The strategy, configured by the injector's {@link SearchOptions}. */
    LatentSearch create(SearchOptions options);
}
