package io.vqdistill.distill.pipeline;

import io.vqdistill.api.BackendSelector;
import io.vqdistill.distill.inject.BackendChoice;
import jakarta.inject.Inject;
import jakarta.inject.Provider;
import java.util.Objects;

/**
 * Opens {@link Session}s: selects and starts the backend a {@link BackendChoice} asks for, with the
 * process's {@link BackendSelector} (bound by {@link io.vqdistill.distill.inject.BackendModule}).
 * The selector is only discovered when the first session opens.
 */
public final class Sessions {
    private final Provider<BackendSelector> selector;

    /** Sessions on the backends {@code selector} finds. */
    @Inject
    public Sessions(Provider<BackendSelector> selector) {
        this.selector = Objects.requireNonNull(selector, "selector");
    }

    /**
     * A session owning a new backend as {@code choice} says: its name (or the selection rule's
     * default), device and thread options, and the capabilities the work needs.
     *
     * @throws io.vqdistill.api.BackendException when no backend fits, naming every candidate and why
     */
    public Session open(BackendChoice choice) {
        Objects.requireNonNull(choice, "choice");
        return Session.owning(selector.get().select(choice.name(), choice.options(), choice.required()));
    }
}
