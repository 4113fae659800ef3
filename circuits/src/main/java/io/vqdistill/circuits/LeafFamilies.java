package io.vqdistill.circuits;

import io.vqdistill.api.InvalidArgumentException;
import io.vqdistill.api.VqdistillException;
import io.vqdistill.api.circuit.LeafFamily;
import io.vqdistill.api.circuit.LeafFamilyProvider;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.ServiceLoader;
import java.util.TreeMap;

/**
 * The leaf families found on the class path: every {@link LeafFamilyProvider} registered in a
 * {@code META-INF/services/io.vqdistill.api.circuit.LeafFamilyProvider} file, looked up by name.
 * The circuits jar registers {@code gaussian}, {@code categorical} and {@code bernoulli}.
 */
public final class LeafFamilies {
    private static final class Registry {
        static final Map<String, LeafFamilyProvider> PROVIDERS = discover();
    }

    private LeafFamilies() {
    }

    private static Map<String, LeafFamilyProvider> discover() {
        Map<String, LeafFamilyProvider> byName = new TreeMap<>();
        for (LeafFamilyProvider p : ServiceLoader.load(LeafFamilyProvider.class, LeafFamilies.class.getClassLoader())) {
            LeafFamilyProvider previous = byName.putIfAbsent(p.name(), p);
            if (previous != null) {
                throw new VqdistillException("two leaf-family providers are named '" + p.name() + "': "
                        + previous.getClass().getName() + " and " + p.getClass().getName());
            }
        }
        return Collections.unmodifiableMap(byName);
    }

    /** The registered family names, sorted. */
    public static List<String> names() {
        return new ArrayList<>(Registry.PROVIDERS.keySet());
    }

    /**
     * The family {@code name} configured by {@code options}.
     *
     * @throws InvalidArgumentException for an unknown name (listing the known ones) or bad options
     */
    public static LeafFamily create(String name, Map<String, String> options) {
        LeafFamilyProvider p = Registry.PROVIDERS.get(name);
        if (p == null) {
            throw new InvalidArgumentException("no leaf family named '" + name + "'; registered families: " + names());
        }
        return p.create(options);
    }

    /** The family {@code name} with its default options. */
    public static LeafFamily create(String name) {
        return create(name, Map.of());
    }
}
