package io.vqdistill.api.spi;

import io.vqdistill.api.Backend;

/**
 * The service interface a backend jar registers in
 * {@code META-INF/services/io.vqdistill.api.spi.BackendProvider}. Providers are cheap: constructing
 * one and calling {@link #availability()} must not load a native library; only {@link #create}
 * does.
 */
public interface BackendProvider {

    /** The unique name users select it by, e.g. {@code djl}. */
    String name();

    /** Higher wins when the user names no backend. */
    int priority();

    /** A cheap probe (classes, OS, architecture, bundled native jar) saying whether {@link #create} should work. */
    Availability availability();

    /**
     * Loads the engine and creates a backend. Native libraries load here and nowhere else; a failure
     * is a {@link io.vqdistill.api.BackendException} naming the engine, with the cause.
     */
    Backend create(BackendOptions options);
}
