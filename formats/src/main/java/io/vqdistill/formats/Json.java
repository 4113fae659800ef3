package io.vqdistill.formats;

import com.fasterxml.jackson.databind.JsonNode;
import io.vqdistill.api.FormatException;
import java.nio.file.Path;
import java.util.Collection;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.TreeSet;

/**
 * Typed access to the fields of a JSON file (configurations, checkpoints, circuits): a missing or
 * mistyped field is a {@link FormatException} naming the file and the field's path ({@code where}
 * then the field, e.g. {@code architecture.latent.height}), what was expected and the value found
 * ({@code nothing} for a missing field). Every method takes the object {@code node} holding the
 * field, the field's {@code name}, the {@code file} for the message and {@code where}, the path of
 * {@code node} in the file ({@code ""} or null for the top level).
 */
public final class Json {
    private Json() {
    }

    /** The object field {@code name} of {@code node}. */
    public static JsonNode requireObject(JsonNode node, String name, Path file, String where) {
        JsonNode v = node.get(name);
        if (v == null || !v.isObject()) {
            throw mistyped(file, where, name, "an object", v);
        }
        return v;
    }

    /** The text field {@code name} of {@code node}. */
    public static String requireText(JsonNode node, String name, Path file, String where) {
        JsonNode v = node.get(name);
        if (v == null || !v.isTextual()) {
            throw mistyped(file, where, name, "a string", v);
        }
        return v.asText();
    }

    /** The integer field {@code name} of {@code node}. */
    public static int requireInt(JsonNode node, String name, Path file, String where) {
        JsonNode v = node.get(name);
        if (v == null || !v.isIntegralNumber() || !v.canConvertToInt()) {
            throw mistyped(file, where, name, "an integer", v);
        }
        return v.asInt();
    }

    /** The integer field {@code name} of {@code node}, which must be at least {@code min}. */
    public static int requireInt(JsonNode node, String name, int min, Path file, String where) {
        int v = requireInt(node, name, file, where);
        if (v < min) {
            throw FormatException.of(file, path(where, name), "must be >= " + min + ", found " + v);
        }
        return v;
    }

    /** The long field {@code name} of {@code node}. */
    public static long requireLong(JsonNode node, String name, Path file, String where) {
        JsonNode v = node.get(name);
        if (v == null || !v.isIntegralNumber() || !v.canConvertToLong()) {
            throw mistyped(file, where, name, "an integer", v);
        }
        return v.asLong();
    }

    /** The number field {@code name} of {@code node}. */
    public static double requireDouble(JsonNode node, String name, Path file, String where) {
        JsonNode v = node.get(name);
        if (v == null || !v.isNumber()) {
            throw mistyped(file, where, name, "a number", v);
        }
        return v.asDouble();
    }

    /** The array-of-integers field {@code name} of {@code node}, each at least {@code min}. */
    public static int[] requireIntArray(JsonNode node, String name, int min, Path file, String where) {
        JsonNode v = node.get(name);
        if (v == null || !v.isArray()) {
            throw mistyped(file, where, name, "an array of integers", v);
        }
        int[] out = new int[v.size()];
        for (int i = 0; i < out.length; i++) {
            JsonNode e = v.get(i);
            if (!e.isIntegralNumber() || !e.canConvertToInt() || e.asInt() < min) {
                throw FormatException.of(file, path(where, name) + "[" + i + "]", "expected an integer >= " + min
                        + ", found " + e);
            }
            out[i] = e.asInt();
        }
        return out;
    }

    /**
     * The object field {@code name} of {@code node} as a map of its string fields, in file order;
     * empty when the field is absent.
     */
    public static Map<String, String> optionalStringMap(JsonNode node, String name, Path file, String where) {
        JsonNode v = node.get(name);
        Map<String, String> out = new LinkedHashMap<>();
        if (v == null) {
            return out;
        }
        if (!v.isObject()) {
            throw mistyped(file, where, name, "an object of strings", v);
        }
        String at = path(where, name);
        for (Iterator<Map.Entry<String, JsonNode>> it = v.fields(); it.hasNext();) {
            Map.Entry<String, JsonNode> e = it.next();
            if (!e.getValue().isTextual()) {
                throw mistyped(file, at, e.getKey(), "a string", e.getValue());
            }
            out.put(e.getKey(), e.getValue().asText());
        }
        return out;
    }

    /**
     * Checks that the object {@code node} has no fields but {@code allowed}: an unknown field (a
     * typo, or one this version does not understand, such as {@code architecture.dropout}) is a
     * {@link FormatException} naming the file and the field's path, rather than being ignored.
     */
    public static void requireOnly(JsonNode node, Collection<String> allowed, Path file, String where) {
        for (Iterator<String> it = node.fieldNames(); it.hasNext();) {
            String name = it.next();
            if (!allowed.contains(name)) {
                throw FormatException.of(file, path(where, name), "unknown field; expected only "
                        + new TreeSet<>(allowed) + (where == null || where.isEmpty() ? "" : " in " + where));
            }
        }
    }

    private static FormatException mistyped(Path file, String where, String name, String expected, JsonNode v) {
        String found = v == null || v.isMissingNode() ? "nothing" : v.toString();
        return FormatException.of(file, path(where, name), "expected " + expected + ", found " + found);
    }

    private static String path(String where, String name) {
        return where == null || where.isEmpty() ? name : where + "." + name;
    }
}
