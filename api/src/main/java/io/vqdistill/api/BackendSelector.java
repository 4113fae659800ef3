package io.vqdistill.api;

import io.vqdistill.api.spi.Availability;
import io.vqdistill.api.spi.BackendOptions;
import io.vqdistill.api.spi.BackendProvider;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.ServiceLoader;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The one place that decides which backend runs, by the rule of DESIGN.md:
 * <ol>
 *   <li>an explicit choice wins (an argument, else the system property {@value #PROPERTY}); an
 *       unknown or unavailable name fails, listing every provider and its state;</li>
 *   <li>otherwise the available provider of highest priority whose engine loads; each one skipped
 *       is logged with its reason;</li>
 *   <li>none: an error listing every candidate and why it was skipped.</li>
 * </ol>
 * Two providers with one name are an error naming both classes.
 */
public final class BackendSelector {
    /** The system property naming the backend, e.g. {@code -Dvqdistill.backend=djl}. */
    public static final String PROPERTY = "vqdistill.backend";

    private static final Logger LOG = LoggerFactory.getLogger(BackendSelector.class);

    private final Map<String, BackendProvider> providers;

    /** A selector over the given providers (tests and custom class loaders). */
    public BackendSelector(List<BackendProvider> providers) {
        Map<String, BackendProvider> byName = new LinkedHashMap<>();
        for (BackendProvider p : providers) {
            String key = p.name().toLowerCase(Locale.ROOT);
            BackendProvider previous = byName.putIfAbsent(key, p);
            if (previous != null) {
                throw new BackendException("two backend providers are named '" + p.name() + "': "
                        + previous.getClass().getName() + " and " + p.getClass().getName());
            }
        }
        this.providers = byName;
    }

    /** A selector over every provider {@link ServiceLoader} finds on the class path. */
    public static BackendSelector discover() {
        List<BackendProvider> found = new ArrayList<>();
        ServiceLoader.load(BackendProvider.class, BackendSelector.class.getClassLoader()).forEach(found::add);
        return new BackendSelector(found);
    }

    /** Every provider, highest priority first. */
    public List<BackendProvider> providers() {
        return providers.values().stream()
                .sorted(Comparator.comparingInt(BackendProvider::priority).reversed()
                        .thenComparing(BackendProvider::name))
                .toList();
    }

    /** The name chosen by the user, if any: {@code explicit} when non-blank, else the system property. */
    public static Optional<String> requestedName(String explicit) {
        if (explicit != null && !explicit.isBlank()) {
            return Optional.of(explicit.trim());
        }
        String prop = System.getProperty(PROPERTY);
        return prop == null || prop.isBlank() ? Optional.empty() : Optional.of(prop.trim());
    }

    /**
     * Creates the backend named by {@code explicit} (or the system property), or else the best
     * available one.
     *
     * @param explicit a provider name, or null/blank to apply the system property and then priority
     */
    public Backend select(String explicit, BackendOptions options) {
        Optional<String> requested = requestedName(explicit);
        if (requested.isPresent()) {
            return createNamed(requested.get(), options);
        }
        List<String> skipped = new ArrayList<>();
        for (BackendProvider p : providers()) {
            Availability a = probe(p);
            if (!a.available()) {
                LOG.info("backend {} skipped: {}", p.name(), a.reason());
                skipped.add(p.name() + ": " + a.reason());
                continue;
            }
            try {
                Backend b = p.create(options);
                LOG.debug("backend {} selected ({})", p.name(), b.version());
                return b;
            } catch (RuntimeException | LinkageError e) {
                LOG.warn("backend {} skipped: it failed to start: {}", p.name(), e.toString());
                skipped.add(p.name() + ": failed to start: " + e);
            }
        }
        throw new BackendException(skipped.isEmpty()
                ? "no backend provider on the class path: add vqdistill-backend-djl, -nd4j or -tensorflow"
                : "no backend could be created:\n  " + String.join("\n  ", skipped));
    }

    /** The provider called {@code name} (case-insensitive); an unknown name fails listing every provider. */
    public BackendProvider provider(String name) {
        BackendProvider p = providers.get(name.trim().toLowerCase(Locale.ROOT));
        if (p == null) {
            throw new BackendException("unknown backend '" + name + "'; the providers are:\n  " + describeAll());
        }
        return p;
    }

    private Backend createNamed(String name, BackendOptions options) {
        BackendProvider p = provider(name);
        Availability a = probe(p);
        if (!a.available()) {
            throw new BackendException("backend '" + p.name() + "' is not available: " + a.reason()
                    + "\nthe providers are:\n  " + describeAll());
        }
        try {
            return p.create(options);
        } catch (BackendException e) {
            throw e;
        } catch (RuntimeException | LinkageError e) {
            throw new BackendException("backend '" + p.name() + "' failed to start: " + e, e);
        }
    }

    /** The provider's availability; a probe that throws counts as unavailable, with the exception as reason. */
    public static Availability probe(BackendProvider p) {
        try {
            return p.availability();
        } catch (RuntimeException | LinkageError e) {
            return Availability.no("availability probe failed: " + e);
        }
    }

    private String describeAll() {
        if (providers.isEmpty()) {
            return "(none on the class path)";
        }
        List<String> lines = new ArrayList<>();
        for (BackendProvider p : providers()) {
            Availability a = probe(p);
            lines.add(p.name() + " (priority " + p.priority() + "): "
                    + (a.available() ? "available" : "unavailable") + " - " + a.reason());
        }
        return String.join("\n  ", lines);
    }
}
