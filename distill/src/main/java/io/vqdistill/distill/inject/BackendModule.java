package io.vqdistill.distill.inject;

import com.google.inject.AbstractModule;
import com.google.inject.Key;
import com.google.inject.Provides;
import com.google.inject.Singleton;
import com.google.inject.multibindings.OptionalBinder;
import io.vqdistill.api.Backend;
import io.vqdistill.api.BackendSelector;

/**
 * Binds the selected {@link Backend} as a singleton. Only bindings happen here; the backend is
 * selected (and its natives load) the first time something asks for it.
 *
 * <p>The choice comes from an optional {@link BackendChoice} binding (default: automatic, i.e. the
 * {@value BackendSelector#PROPERTY} system property, then the highest-priority available engine).
 * An application that builds its backend itself overrides the whole selection with
 * {@code OptionalBinder.newOptionalBinder(binder(), Backend.class).setBinding().toInstance(backend)}.
 */
public final class BackendModule extends AbstractModule {

    @Override
    protected void configure() {
        OptionalBinder.newOptionalBinder(binder(), BackendChoice.class).setDefault()
                .toInstance(BackendChoice.automatic());
        OptionalBinder.newOptionalBinder(binder(), BackendSelector.class).setDefault()
                .toProvider(BackendSelector::discover).in(Singleton.class);
        OptionalBinder.newOptionalBinder(binder(), Backend.class).setDefault()
                .to(Key.get(Backend.class, Selected.class));
    }

    @Provides
    @Singleton
    @Selected
    Backend selectedBackend(BackendSelector selector, BackendChoice choice) {
        return selector.select(choice.name(), choice.options(), choice.required());
    }
}
