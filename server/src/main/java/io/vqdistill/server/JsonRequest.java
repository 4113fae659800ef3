package io.vqdistill.server;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.vqdistill.server.CircuitService.Image;
import io.vqdistill.server.CircuitService.Query;
import java.io.IOException;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.Iterator;
import java.util.List;
import java.util.Set;

/**
 * The JSON body of one request, read field by field: every defect is a {@link RequestException}
 * naming the field as the client wrote it ({@code image[12]}, {@code hidden}), and a field the
 * endpoint does not know is refused, so a misspelt option is not silently ignored.
 */
final class JsonRequest {
    private final ObjectNode body;

    private JsonRequest(ObjectNode body) {
        this.body = body;
    }

    /**
     * Parses {@code bytes} (an empty body is an empty object) and checks that it names only
     * {@code allowed} fields.
     */
    static JsonRequest parse(ObjectMapper mapper, byte[] bytes, Set<String> allowed) {
        JsonNode node;
        if (bytes.length == 0) {
            node = mapper.createObjectNode();
        } else {
            try {
                node = mapper.readTree(bytes);
            } catch (JsonProcessingException e) {
                throw RequestException.bad("body", "not valid JSON: " + e.getOriginalMessage());
            } catch (IOException e) {
                throw RequestException.bad("body", "unreadable: " + e.getMessage());
            }
        }
        if (node == null || node.isMissingNode()) {
            node = mapper.createObjectNode();
        }
        if (!(node instanceof ObjectNode object)) {
            throw RequestException.bad("body", "must be a JSON object, got " + node.getNodeType().name().toLowerCase());
        }
        for (Iterator<String> it = object.fieldNames(); it.hasNext(); ) {
            String name = it.next();
            if (!allowed.contains(name)) {
                throw RequestException.bad(name, "unknown field; this endpoint takes " + String.join(", ",
                        allowed.stream().sorted().toList()));
            }
        }
        return new JsonRequest(object);
    }

    /** Whether {@code field} is present and not null. */
    boolean has(String field) {
        JsonNode n = body.get(field);
        return n != null && !n.isNull();
    }

    /** The integer {@code field}, {@code fallback} when absent, else within [min, max]. */
    int integer(String field, int fallback, int min, int max) {
        if (!has(field)) {
            return fallback;
        }
        long v = integral(body.get(field), field);
        if (v < min || v > max) {
            throw RequestException.bad(field, "must be in " + min + ".." + max + ", got " + v);
        }
        return (int) v;
    }

    /** The seed {@code field}: any integer, 0 when absent. */
    long seed() {
        return has("seed") ? integral(body.get("seed"), "seed") : 0;
    }

    /** The boolean {@code field}, {@code fallback} when absent. */
    boolean bool(String field, boolean fallback) {
        if (!has(field)) {
            return fallback;
        }
        JsonNode n = body.get(field);
        if (!n.isBoolean()) {
            throw RequestException.bad(field, "must be true or false, got " + n);
        }
        return n.booleanValue();
    }

    /**
     * The image to query: test image {@code index}, or the posted {@code image} (S levels 0..255, flat
     * or as rows); exactly one of the two.
     */
    Image image(CircuitService service) {
        boolean index = has("index");
        boolean image = has("image");
        if (index == image) {
            throw RequestException.bad(index ? "image" : "index", index
                    ? "give either index or image, not both"
                    : "give the test image's index, or the image as " + service.variables() + " levels 0..255");
        }
        if (index) {
            long i = integral(body.get("index"), "index");
            if (i < 0 || i > Integer.MAX_VALUE) {
                throw RequestException.bad("index", "must be >= 0, got " + i);
            }
            return service.testImage((int) i, "index");
        }
        return service.postedImage(levels(body.get("image"), service.variables()));
    }

    private static int[] levels(JsonNode node, int variables) {
        if (!node.isArray()) {
            throw RequestException.bad("image", "must be an array of " + variables + " levels 0..255 (or of rows)");
        }
        List<JsonNode> values = new ArrayList<>();
        List<String> names = new ArrayList<>();
        boolean rows = node.size() > 0 && node.get(0).isArray();
        for (int r = 0; r < node.size(); r++) {
            JsonNode item = node.get(r);
            if (rows) {
                if (!item.isArray()) {
                    throw RequestException.bad("image[" + r + "]", "must be a row (an array of levels), got " + item);
                }
                for (int c = 0; c < item.size(); c++) {
                    values.add(item.get(c));
                    names.add("image[" + r + "][" + c + "]");
                }
            } else {
                values.add(item);
                names.add("image[" + r + "]");
            }
        }
        if (values.size() != variables) {
            throw RequestException.bad("image", "needs " + variables + " levels, got " + values.size());
        }
        int[] out = new int[variables];
        for (int i = 0; i < variables; i++) {
            long v = integral(values.get(i), names.get(i));
            if (v < 0 || v > 255) {
                throw RequestException.bad(names.get(i), "a level must be an integer in 0..255, got " + v);
            }
            out[i] = (int) v;
        }
        return out;
    }

    /**
     * The observed pixels: the complement of {@code hidden}, or {@code observed}, each a list of pixel
     * indices 0..S-1; at most one of the two. With neither, every pixel is observed unless
     * {@code required}, which makes it an error naming {@code hidden}.
     */
    boolean[] observed(int variables, boolean required) {
        boolean hidden = has("hidden");
        boolean observed = has("observed");
        if (hidden && observed) {
            throw RequestException.bad("observed", "give either hidden or observed pixels, not both");
        }
        boolean[] mask = new boolean[variables];
        if (!hidden && !observed) {
            if (required) {
                throw RequestException.bad("hidden", "required: the pixel indices 0.." + (variables - 1)
                        + " to fill in (or 'observed': the ones to keep)");
            }
            java.util.Arrays.fill(mask, true);
            return mask;
        }
        String field = hidden ? "hidden" : "observed";
        JsonNode list = body.get(field);
        if (!list.isArray()) {
            throw RequestException.bad(field, "must be an array of pixel indices 0.." + (variables - 1));
        }
        if (hidden) {
            java.util.Arrays.fill(mask, true);
        }
        for (int k = 0; k < list.size(); k++) {
            long p = integral(list.get(k), field + "[" + k + "]");
            if (p < 0 || p >= variables) {
                throw RequestException.bad(field + "[" + k + "]", "a pixel index must be in 0.." + (variables - 1)
                        + ", got " + p);
            }
            mask[(int) p] = !hidden;
        }
        return mask;
    }

    /** The conditional queries asked for in {@code queries}; all three when absent. */
    Set<Query> queries() {
        if (!has("queries")) {
            return EnumSet.allOf(Query.class);
        }
        JsonNode list = body.get("queries");
        if (!list.isArray() || list.isEmpty()) {
            throw RequestException.bad("queries", "must be a non-empty array of mean, mode, sample");
        }
        Set<Query> out = EnumSet.noneOf(Query.class);
        for (int k = 0; k < list.size(); k++) {
            JsonNode q = list.get(k);
            Query found = null;
            for (Query candidate : Query.values()) {
                if (q.isTextual() && candidate.label().equals(q.textValue())) {
                    found = candidate;
                }
            }
            if (found == null) {
                throw RequestException.bad("queries[" + k + "]", "must be mean, mode or sample, got " + q);
            }
            out.add(found);
        }
        return out;
    }

    private static long integral(JsonNode n, String field) {
        if (n == null || !n.isNumber() || !n.canConvertToExactIntegral() || !n.canConvertToLong()) {
            throw RequestException.bad(field, "must be an integer, got " + n);
        }
        return n.longValue();
    }
}
