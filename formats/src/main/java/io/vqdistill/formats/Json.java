package io.vqdistill.formats;

import com.fasterxml.jackson.databind.JsonNode;
import io.vqdistill.api.FormatException;
import java.nio.file.Path;

/**
 * Typed access to the fields of a JSON configuration: a missing or mistyped field is a
 * {@link FormatException} naming the file, the field's path and the value found.
 */
public final class Json {
    private Json() {
    }

    /** The object field {@code name} of {@code node}. */
    public static JsonNode requireObject(JsonNode node, String name, Path file, String where) {
        JsonNode v = node.get(name);
        if (v == null || !v.isObject()) {
            throw FormatException.of(file, path(where, name), "expected an object, found " + describe(v));
        }
        return v;
    }

    /** The text field {@code name} of {@code node}. */
    public static String requireText(JsonNode node, String name, Path file, String where) {
        JsonNode v = node.get(name);
        if (v == null || !v.isTextual()) {
            throw FormatException.of(file, path(where, name), "expected a string, found " + describe(v));
        }
        return v.asText();
    }

    /** The integer field {@code name} of {@code node}. */
    public static int requireInt(JsonNode node, String name, Path file, String where) {
        JsonNode v = node.get(name);
        if (v == null || !v.isIntegralNumber() || !v.canConvertToInt()) {
            throw FormatException.of(file, path(where, name), "expected an integer, found " + describe(v));
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
            throw FormatException.of(file, path(where, name), "expected an integer, found " + describe(v));
        }
        return v.asLong();
    }

    /** The number field {@code name} of {@code node}. */
    public static double requireDouble(JsonNode node, String name, Path file, String where) {
        JsonNode v = node.get(name);
        if (v == null || !v.isNumber()) {
            throw FormatException.of(file, path(where, name), "expected a number, found " + describe(v));
        }
        return v.asDouble();
    }

    /** The array-of-integers field {@code name} of {@code node}, each at least {@code min}. */
    public static int[] requireIntArray(JsonNode node, String name, int min, Path file, String where) {
        JsonNode v = node.get(name);
        if (v == null || !v.isArray()) {
            throw FormatException.of(file, path(where, name), "expected an array of integers, found " + describe(v));
        }
        int[] out = new int[v.size()];
        for (int i = 0; i < out.length; i++) {
            JsonNode e = v.get(i);
            if (!e.isIntegralNumber() || !e.canConvertToInt() || e.asInt() < min) {
                throw FormatException.of(file, path(where, name) + "[" + i + "]", "expected an integer >= " + min
                        + ", found " + describe(e));
            }
            out[i] = e.asInt();
        }
        return out;
    }

    private static String path(String where, String name) {
        return where == null || where.isEmpty() ? name : where + "." + name;
    }

    private static String describe(JsonNode v) {
        return v == null || v.isMissingNode() ? "nothing" : v.toString();
    }
}
