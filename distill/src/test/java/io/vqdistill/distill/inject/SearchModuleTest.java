package io.vqdistill.distill.inject;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.inject.AbstractModule;
import com.google.inject.CreationException;
import com.google.inject.Guice;
import com.google.inject.Injector;
import com.google.inject.multibindings.MapBinder;
import com.google.inject.multibindings.OptionalBinder;
import io.vqdistill.api.Backend;
import io.vqdistill.api.BackendSelector;
import io.vqdistill.api.InvalidArgumentException;
import io.vqdistill.api.model.LatentShape;
import io.vqdistill.api.model.Prior;
import io.vqdistill.api.search.EncodedImages;
import io.vqdistill.api.search.LatentSearch;
import io.vqdistill.api.search.LatentSet;
import io.vqdistill.api.search.SearchOptions;
import io.vqdistill.api.search.SearchRequest;
import io.vqdistill.api.spi.BackendOptions;
import io.vqdistill.distill.plugin.LexicographicSearchProvider;
import io.vqdistill.distill.search.LatentSearches;
import io.vqdistill.distill.toy.EncodedData;
import io.vqdistill.distill.toy.TablePrior;
import java.util.Random;
import org.junit.jupiter.api.Test;

class SearchModuleTest {
    private static final Backend BACKEND = BackendSelector.discover().select("fake", BackendOptions.defaults());
    private static final TablePrior PRIOR = TablePrior.random(BACKEND, new LatentShape(2, 2, 3),
            new double[] {0.5, 0.5}, 1.0, 1);

    /** A strategy registered from outside the module: the same grid, a full one of code 0 first. */
    private static final class ZerosFirst implements LatentSearch {
        @Override
        public String name() {
            return "zeros";
        }

        @Override
        public LatentSet search(Prior prior, SearchRequest request) {
            return new LatentSet(prior.latentShape(), new int[prior.latentShape().positions()], new int[] {-1},
                    new double[] {Double.NaN});
        }
    }

    @Test
    void bindsTheSixShippedStrategiesByName() {
        LatentSearches searches = Guice.createInjector(new SearchModule()).getInstance(LatentSearches.class);
        assertThat(searches.names()).containsExactly("beam", "encoded", "encoded-prior", "encoded-sampled", "exhaustive", "random",
                "top");
        EncodedImages training = EncodedData.random(PRIOR.latentShape(), 200, 2, new Random(3));
        for (String name : searches.names()) {
            LatentSet found = searches.get(name).search(PRIOR, SearchRequest.of(4, 0).withEncoded(training));
            assertThat(found.size()).as(name).isEqualTo(4);
            assertThat(found.distinctGrids()).as(name).isEqualTo(4);
        }
    }

    @Test
    void anUnknownNameIsAnErrorListingTheKnownOnes() {
        LatentSearches searches = Guice.createInjector(new SearchModule()).getInstance(LatentSearches.class);
        assertThatThrownBy(() -> searches.get("dfs"))
                .isInstanceOf(InvalidArgumentException.class)
                .hasMessage("unknown latent search 'dfs'; known searches: [beam, encoded, encoded-prior, encoded-sampled, exhaustive, random, top]");
    }

    @Test
    void optionsComeFromTheirBinding() {
        Injector injector = Guice.createInjector(new SearchModule(), new AbstractModule() {
            @Override
            protected void configure() {
                OptionalBinder.newOptionalBinder(binder(), SearchOptions.class).setBinding()
                        .toInstance(SearchOptions.defaults().withStochastic(false).withBeamStarts(1));
            }
        });
        LatentSearch beam = injector.getInstance(LatentSearches.class).get("beam");
        assertThat(beam.toString()).isEqualTo("beam (deterministic, s = 1)");
        assertThat(beam.search(PRIOR, SearchRequest.of(6, 1)).codes())
                .containsExactly(beam.search(PRIOR, SearchRequest.of(6, 2)).codes());
        assertThat(Guice.createInjector(new SearchModule()).getInstance(LatentSearches.class).get("beam").toString())
                .isEqualTo("beam (stochastic, s = 10)");
    }

    @Test
    void aStrategyBoundFromAnotherModuleRunsByName() {
        Injector injector = Guice.createInjector(new SearchModule(), new AbstractModule() {
            @Override
            protected void configure() {
                MapBinder.newMapBinder(binder(), String.class, LatentSearch.class).addBinding("zeros")
                        .to(ZerosFirst.class);
            }
        });
        LatentSearches searches = injector.getInstance(LatentSearches.class);
        assertThat(searches.names()).contains("zeros", "beam");
        assertThat(searches.get("zeros").search(PRIOR, SearchRequest.of(1, 0)).grid(0)).containsExactly(0, 0, 0, 0);
    }

    @Test
    void aServiceLoaderPluginIsBoundIntoTheSameMapWithTheInjectorsOptions() {
        SearchOptions options = SearchOptions.defaults().withMaxEnumeratedGrids(1000);
        Injector injector = Guice.createInjector(SearchModule.withPlugins(), new AbstractModule() {
            @Override
            protected void configure() {
                OptionalBinder.newOptionalBinder(binder(), SearchOptions.class).setBinding().toInstance(options);
            }
        });
        LatentSearches searches = injector.getInstance(LatentSearches.class);
        assertThat(searches.names()).containsExactly("beam", "encoded", "encoded-prior", "encoded-sampled", "exhaustive", "lexicographic",
                "random", "top");
        LatentSet found = searches.get(LexicographicSearchProvider.NAME).search(PRIOR, SearchRequest.of(2, 0));
        assertThat(found.grid(1)).containsExactly(0, 0, 0, 1);
        assertThat(LexicographicSearchProvider.lastOptions).isEqualTo(options);
    }

    @Test
    void aNameBoundTwiceIsAConfigurationError() {
        assertThatThrownBy(() -> Guice.createInjector(new SearchModule(), new AbstractModule() {
            @Override
            protected void configure() {
                MapBinder.newMapBinder(binder(), String.class, LatentSearch.class).addBinding("beam")
                        .to(ZerosFirst.class);
            }
        })).isInstanceOf(CreationException.class).hasMessageContaining("beam");
    }

    @Test
    void aStrategyBoundUnderAnotherNameIsRejected() {
        Injector injector = Guice.createInjector(new SearchModule(), new AbstractModule() {
            @Override
            protected void configure() {
                MapBinder.newMapBinder(binder(), String.class, LatentSearch.class).addBinding("ones")
                        .to(ZerosFirst.class);
            }
        });
        assertThatThrownBy(() -> injector.getInstance(LatentSearches.class))
                .hasMessageContaining("is bound under 'ones' but calls itself 'zeros'");
    }
}
