package io.vqdistill.distill.inject;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.inject.AbstractModule;
import com.google.inject.Guice;
import com.google.inject.Injector;
import com.google.inject.ProvisionException;
import com.google.inject.multibindings.OptionalBinder;
import io.vqdistill.api.Backend;
import io.vqdistill.api.BackendException;
import io.vqdistill.api.BackendSelector;
import io.vqdistill.api.spi.BackendOptions;
import org.junit.jupiter.api.Test;

class BackendModuleTest {

    private static Injector injector(AbstractModule application) {
        return Guice.createInjector(new BackendModule(), application);
    }

    @Test
    void bindsTheSelectedBackendAsASingleton() {
        Injector injector = injector(new AbstractModule() {
            @Override
            protected void configure() {
                OptionalBinder.newOptionalBinder(binder(), BackendChoice.class).setBinding()
                        .toInstance(new BackendChoice("fake", BackendOptions.defaults()));
            }
        });
        Backend a = injector.getInstance(Backend.class);
        assertThat(a.name()).isEqualTo("fake");
        assertThat(injector.getInstance(Backend.class)).isSameAs(a);
    }

    @Test
    void creatingTheInjectorSelectsNothing() {
        Injector injector = injector(new AbstractModule() {
            @Override
            protected void configure() {
                OptionalBinder.newOptionalBinder(binder(), BackendChoice.class).setBinding()
                        .toInstance(new BackendChoice("nope", BackendOptions.defaults()));
            }
        });
        assertThatThrownBy(() -> injector.getInstance(Backend.class))
                .isInstanceOf(ProvisionException.class)
                .hasCauseInstanceOf(BackendException.class)
                .hasMessageContaining("unknown backend 'nope'");
    }

    @Test
    void anApplicationBindingOverridesTheSelection() {
        Backend own = BackendSelector.discover().select("fake", BackendOptions.defaults());
        Injector injector = injector(new AbstractModule() {
            @Override
            protected void configure() {
                OptionalBinder.newOptionalBinder(binder(), Backend.class).setBinding().toInstance(own);
            }
        });
        assertThat(injector.getInstance(Backend.class)).isSameAs(own);
    }
}
