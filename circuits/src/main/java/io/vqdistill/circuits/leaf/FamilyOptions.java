package io.vqdistill.circuits.leaf;

import io.vqdistill.api.InvalidArgumentException;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/** Parsing of the string options a leaf family is created from, with messages naming family, key and value. */
final class FamilyOptions {
    private final String family;
    private final Map<String, String> options;

    FamilyOptions(String family, Map<String, String> options, Set<String> known) {
        this.family = family;
        this.options = options;
        for (String key : options.keySet()) {
            if (!known.contains(key)) {
                throw new InvalidArgumentException(family + " leaf option '" + key + "' is unknown; known options: "
                        + new TreeSet<>(known));
            }
        }
    }

    /** A finite number > 0, or {@code fallback} when absent. */
    double positive(String key, double fallback) {
        String text = options.get(key);
        if (text == null) {
            return fallback;
        }
        double v;
        try {
            v = Double.parseDouble(text.trim());
        } catch (NumberFormatException e) {
            throw new InvalidArgumentException(family + " leaf option '" + key + "' must be a number, found '" + text
                    + "'", e);
        }
        if (!(v > 0) || Double.isInfinite(v)) {
            throw new InvalidArgumentException(family + " leaf option '" + key + "' must be finite and > 0, found "
                    + text);
        }
        return v;
    }

    /** An integer >= {@code min}, or {@code fallback} when absent. */
    int atLeast(String key, int min, int fallback) {
        String text = options.get(key);
        if (text == null) {
            return fallback;
        }
        int v;
        try {
            v = Integer.parseInt(text.trim());
        } catch (NumberFormatException e) {
            throw new InvalidArgumentException(family + " leaf option '" + key + "' must be an integer, found '" + text
                    + "'", e);
        }
        if (v < min) {
            throw new InvalidArgumentException(family + " leaf option '" + key + "' must be >= " + min + ", found " + v);
        }
        return v;
    }
}
