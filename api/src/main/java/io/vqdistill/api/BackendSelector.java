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
import java.util.Set;
import java.util.stream.Collectors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The one place that decides which backend runs, by this rule:
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
        return select(explicit, options, Set.of());
    }

    /**
     * Like {@link #select(String, BackendOptions)}, for work that needs capabilities beyond tensors
     * (training, loading networks). Without an explicit name, engines lacking one of them are skipped
     * like unavailable ones; a named engine lacking one is an error naming what it offers.
     */
    public Backend select(String explicit, BackendOptions options, Set<Class<? extends Capability>> required) {
        Optional<String> requested = requestedName(explicit);
        if (requested.isPresent()) {
            Backend b = createNamed(requested.get(), options);
            String missing = missing(b, required);
            if (!missing.isEmpty()) {
                b.close();
                throw new BackendException("backend '" + b.name() + "' has no " + missing + " capability (it offers: "
                        + offered(b) + "); choose another backend");
            }
            return b;
        }
        List<String> skipped = new ArrayList<>();
        for (BackendProvider p : providers()) {
            Availability a = probe(p);
            if (!a.available()) {
                LOG.info("backend {} skipped: {}", p.name(), a.reason());
                skipped.add(p.name() + ": " + a.reason());
                continue;
            }
            Backend b;
            try {
                b = p.create(options);
            } catch (RuntimeException | LinkageError e) {
                LOG.warn("backend {} skipped: it failed to start: {}", p.name(), e.toString());
                skipped.add(p.name() + ": failed to start: " + e);
                continue;
            }
            String missing = missing(b, required);
            if (missing.isEmpty()) {
                LOG.debug("backend {} selected ({})", p.name(), b.version());
                return b;
            }
            b.close();
            LOG.info("backend {} skipped: it has no {} capability", p.name(), missing);
            skipped.add(p.name() + ": no " + missing + " capability");
        }
        throw new BackendException(skipped.isEmpty()
                ? "no backend provider on the class path: add vqdistill-backend-djl, -nd4j or -tensorflow"
                : "no backend could be created:\n  " + String.join("\n  ", skipped));
    }

    private static String missing(Backend b, Set<Class<? extends Capability>> required) {
        return required.stream().filter(c -> b.capability(c).isEmpty()).map(Class::getSimpleName).sorted()
                .collect(Collectors.joining(", "));
    }

    private static String offered(Backend b) {
        String names = b.capabilities().stream().map(Capability::capabilityName).collect(Collectors.joining(", "));
        return names.isEmpty() ? "tensors only" : names;
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
