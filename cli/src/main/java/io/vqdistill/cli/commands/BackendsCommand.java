package io.vqdistill.cli.commands;

import io.vqdistill.api.Backend;
import io.vqdistill.api.BackendSelector;
import io.vqdistill.api.Capability;
import io.vqdistill.api.spi.Availability;
import io.vqdistill.api.spi.BackendOptions;
import io.vqdistill.api.spi.BackendProvider;
import jakarta.inject.Inject;
import jakarta.inject.Provider;
import java.io.PrintWriter;
import java.util.stream.Collectors;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code vqdistill backends}: every discovered backend, whether it works here, and what it offers. */
@Command(name = "backends", mixinStandardHelpOptions = true,
        description = {"Lists every backend on the class path with its priority, availability (and the reason",
            "when unavailable), engine version, devices and capabilities. Available engines are started",
            "to read their versions and devices."})
public final class BackendsCommand implements java.util.concurrent.Callable<Integer> {

    @Option(names = "--no-start", description = "only run the cheap availability probes; start no engine")
    boolean noStart;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Inject
    Provider<BackendSelector> selectors;

    @Override
    public Integer call() {
        PrintWriter out = spec.commandLine().getOut();
        BackendSelector selector = selectors.get();
        String requested = BackendSelector.requestedName(null).orElse(null);
        if (requested != null) {
            selector.provider(requested);
        }
        boolean anyAvailable = false;
        for (BackendProvider p : selector.providers()) {
            Availability a = BackendSelector.probe(p);
            out.printf("%-11s priority %-4d %s%n", p.name(), p.priority(), a.available() ? "available" : "unavailable");
            out.printf("  %s%n", a.reason());
            if (!a.available()) {
                continue;
            }
            if (noStart) {
                anyAvailable = true;
                continue;
            }
            try (Backend b = p.create(BackendOptions.defaults())) {
                anyAvailable = true;
                out.printf("  version:      %s%n", b.version());
                out.printf("  devices:      %s (using %s)%n",
                        b.devices().stream().map(Object::toString).collect(Collectors.joining(", ")), b.device());
                String caps = b.capabilities().stream().map(Capability::capabilityName).collect(Collectors.joining(", "));
                out.printf("  capabilities: tensor%s%n", caps.isEmpty() ? "" : ", " + caps);
            } catch (RuntimeException | LinkageError e) {
                out.printf("  failed to start: %s%n", e);
            }
        }
        out.flush();
        if (requested != null && !noStart) {
            try (Backend chosen = selector.select(null, BackendOptions.defaults())) {
                out.printf("selected by -D%s: %s%n", BackendSelector.PROPERTY, chosen.name());
            }
        }
        return anyAvailable ? 0 : 1;
    }
}
