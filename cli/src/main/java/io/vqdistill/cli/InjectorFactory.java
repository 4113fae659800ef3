package io.vqdistill.cli;

import com.google.inject.Injector;
import java.lang.reflect.Modifier;
import java.util.Objects;
import picocli.CommandLine;

/**
 * Picocli's factory backed by the process's injector: vqdistill's commands, mixins and providers are
 * created by Guice, which injects their {@code @Inject} members; anything else (picocli's own help
 * command, collections) comes from picocli's default factory.
 */
final class InjectorFactory implements CommandLine.IFactory {
    private static final String OWN_PACKAGES = "io.vqdistill.";

    private final Injector injector;
    private final CommandLine.IFactory fallback = CommandLine.defaultFactory();

    InjectorFactory(Injector injector) {
        this.injector = Objects.requireNonNull(injector, "injector");
    }

    @Override
    public <K> K create(Class<K> type) throws Exception {
        if (type.isInterface() || Modifier.isAbstract(type.getModifiers())
                || !type.getName().startsWith(OWN_PACKAGES)) {
            return fallback.create(type);
        }
        return injector.getInstance(type);
    }
}
