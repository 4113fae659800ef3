package io.vqdistill.cli;

import com.google.inject.AbstractModule;
import com.google.inject.Guice;
import com.google.inject.Injector;
import com.google.inject.multibindings.OptionalBinder;
import io.vqdistill.api.BackendSelector;
import io.vqdistill.api.Capability;
import io.vqdistill.api.spi.BackendOptions;
import io.vqdistill.distill.inject.BackendChoice;
import io.vqdistill.distill.inject.BackendModule;
import java.util.Set;
import picocli.CommandLine.Option;

/** The options every command that computes shares: which backend, which device, how many threads. */
public final class BackendOptionsMixin {

    @Option(names = "--backend", paramLabel = "NAME",
            description = "djl, nd4j or tensorflow (default: the -D" + BackendSelector.PROPERTY
                    + " property, else the highest-priority available engine)")
    String backend;

    @Option(names = "--device", paramLabel = "DEVICE", defaultValue = "auto",
            description = "auto, cpu, gpu or gpu:N (default: ${DEFAULT-VALUE})")
    String device;

    @Option(names = "--threads", paramLabel = "N", defaultValue = "0",
            description = "intra-op CPU threads; 0 lets the engine choose (default: ${DEFAULT-VALUE})")
    int threads;

    /**
     * An injector whose {@code Backend} is the one these options select among the engines that
     * declare every capability in {@code required}.
     */
    @SafeVarargs
    final Injector injector(Class<? extends Capability>... required) {
        BackendChoice choice = new BackendChoice(backend, new BackendOptions(device, threads), Set.of(required));
        return Guice.createInjector(new BackendModule(), new AbstractModule() {
            @Override
            protected void configure() {
                OptionalBinder.newOptionalBinder(binder(), BackendChoice.class).setBinding().toInstance(choice);
            }
        });
    }
}
