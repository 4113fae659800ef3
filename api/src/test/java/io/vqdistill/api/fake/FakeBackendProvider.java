package io.vqdistill.api.fake;

import io.vqdistill.api.Backend;
import io.vqdistill.api.BackendException;
import io.vqdistill.api.spi.Availability;
import io.vqdistill.api.spi.BackendOptions;
import io.vqdistill.api.spi.BackendProvider;

/**
 * Provides the {@link FakeBackend} under the name {@value #NAME}. Always available, with priority
 * {@value #PRIORITY} so that any real engine on the class path wins the automatic selection.
 * Registered from the api test resources, so it is visible to every module that uses the api
 * test-jar.
 */
public final class FakeBackendProvider implements BackendProvider {
    /** The provider name. */
    public static final String NAME = "fake";
    /** The priority: lower than any real engine. */
    public static final int PRIORITY = -100;

    /** Creates the provider; cheap, as the SPI requires. */
    public FakeBackendProvider() {
    }

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public int priority() {
        return PRIORITY;
    }

    @Override
    public Availability availability() {
        return Availability.yes("pure Java, always available");
    }

    /** A new fake backend; the device must be {@code auto} or {@code cpu}, threads are ignored. */
    @Override
    public Backend create(BackendOptions options) {
        if (!options.autoDevice() && !options.device().equals("cpu")) {
            throw new BackendException("backend fake runs on the cpu only, found device " + options.device());
        }
        return new FakeBackend();
    }
}
