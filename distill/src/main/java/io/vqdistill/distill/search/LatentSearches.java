package io.vqdistill.distill.search;

import io.vqdistill.api.InvalidArgumentException;
import io.vqdistill.api.search.LatentSearch;
import jakarta.inject.Inject;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;

/**
 * The latent searches of an application by name, as bound into the {@code MapBinder<String,
 * LatentSearch>} of {@code SearchModule} and of any other module or plugin. Selecting an unknown
 * name is an error listing the known ones.
 */
public final class LatentSearches {
    private final Map<String, LatentSearch> byName;

    /**
     * The given strategies.
     *
     * @throws InvalidArgumentException when a strategy is bound under a name other than its own
     */
    @Inject
    public LatentSearches(Map<String, LatentSearch> searches) {
        Objects.requireNonNull(searches, "searches");
        this.byName = new TreeMap<>(searches);
        byName.forEach((key, search) -> {
            if (!key.equals(search.name())) {
                throw new InvalidArgumentException("latent search " + search.getClass().getName() + " is bound under '"
                        + key + "' but calls itself '" + search.name() + "'");
            }
        });
    }

    /** The known names, sorted. */
    public List<String> names() {
        return new ArrayList<>(byName.keySet());
    }

    /**
     * The strategy called {@code name}.
     *
     * @throws InvalidArgumentException for an unknown name, listing the known ones
     */
    public LatentSearch get(String name) {
        Objects.requireNonNull(name, "name");
        LatentSearch search = byName.get(name);
        if (search == null) {
            throw new InvalidArgumentException("unknown latent search '" + name + "'; known searches: " + names());
        }
        return search;
    }
}
