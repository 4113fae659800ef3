package io.vqdistill.formats;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.vqdistill.api.FormatException;
import java.nio.file.Path;
import java.util.Map;
import org.assertj.core.api.ThrowableAssert.ThrowingCallable;
import org.junit.jupiter.api.Test;

/** Typed JSON field access: values come back typed; every defect names the file and the field's path. */
class JsonTest {
    private static final Path FILE = Path.of("run", "config.json");
    private static final JsonNode ROOT = parse("""
            {
              "name": "vqvae-conv",
              "count": 7,
              "big": 10000000000,
              "ratio": 0.25,
              "whole": 3,
              "empty": null,
              "channels": [16, 32],
              "bad_channels": [16, "x"],
              "small_channels": [16, 0],
              "latent": {"height": 7, "codebook_size": 512},
              "options": {"min_std": "0.01", "mode": "fast"},
              "bad_options": {"min_std": 0.01},
              "list": [1]
            }""");

    private static JsonNode parse(String text) {
        try {
            return new ObjectMapper().readTree(text);
        } catch (JsonProcessingException e) {
            throw new AssertionError(e);
        }
    }

    private static void assertError(ThrowingCallable call, String field, String problem) {
        assertThatThrownBy(call).isInstanceOf(FormatException.class).hasMessage(FILE + ": " + field + ": " + problem);
    }

    @Test
    void presentFieldsComeBackTyped() {
        assertThat(Json.requireText(ROOT, "name", FILE, "")).isEqualTo("vqvae-conv");
        assertThat(Json.requireInt(ROOT, "count", FILE, "")).isEqualTo(7);
        assertThat(Json.requireInt(ROOT, "count", 7, FILE, "")).isEqualTo(7);
        assertThat(Json.requireLong(ROOT, "big", FILE, "")).isEqualTo(10_000_000_000L);
        assertThat(Json.requireDouble(ROOT, "ratio", FILE, "")).isEqualTo(0.25);
        assertThat(Json.requireDouble(ROOT, "whole", FILE, "")).isEqualTo(3.0);
        assertThat(Json.requireIntArray(ROOT, "channels", 1, FILE, "")).containsExactly(16, 32);
        JsonNode latent = Json.requireObject(ROOT, "latent", FILE, "");
        assertThat(Json.requireInt(latent, "codebook_size", 1, FILE, "latent")).isEqualTo(512);
        assertThat(Json.optionalStringMap(ROOT, "options", FILE, "")).containsExactly(
                Map.entry("min_std", "0.01"), Map.entry("mode", "fast"));
        assertThat(Json.optionalStringMap(ROOT, "absent", FILE, "")).isEmpty();
    }

    @Test
    void missingFieldsNameTheFieldPath() {
        JsonNode latent = ROOT.get("latent");
        assertError(() -> Json.requireObject(ROOT, "image", FILE, "architecture"), "architecture.image",
                "expected an object, found nothing");
        assertError(() -> Json.requireText(ROOT, "type", FILE, ""), "type", "expected a string, found nothing");
        assertError(() -> Json.requireInt(latent, "width", FILE, "architecture.latent"), "architecture.latent.width",
                "expected an integer, found nothing");
        assertError(() -> Json.requireInt(latent, "width", 1, FILE, null), "width",
                "expected an integer, found nothing");
        assertError(() -> Json.requireLong(ROOT, "adam_steps", FILE, ""), "adam_steps",
                "expected an integer, found nothing");
        assertError(() -> Json.requireDouble(ROOT, "beta", FILE, "architecture"), "architecture.beta",
                "expected a number, found nothing");
        assertError(() -> Json.requireIntArray(ROOT, "kernels", 1, FILE, ""), "kernels",
                "expected an array of integers, found nothing");
    }

    @Test
    void mistypedFieldsShowTheValueFound() {
        assertError(() -> Json.requireObject(ROOT, "list", FILE, ""), "list", "expected an object, found [1]");
        assertError(() -> Json.requireObject(ROOT, "empty", FILE, ""), "empty", "expected an object, found null");
        assertError(() -> Json.requireText(ROOT, "count", FILE, "x"), "x.count", "expected a string, found 7");
        assertError(() -> Json.requireInt(ROOT, "name", FILE, ""), "name",
                "expected an integer, found \"vqvae-conv\"");
        assertError(() -> Json.requireInt(ROOT, "ratio", FILE, ""), "ratio", "expected an integer, found 0.25");
        assertError(() -> Json.requireInt(ROOT, "big", FILE, ""), "big", "expected an integer, found 10000000000");
        assertError(() -> Json.requireInt(ROOT, "count", 8, FILE, "a.b"), "a.b.count", "must be >= 8, found 7");
        assertError(() -> Json.requireLong(ROOT, "ratio", FILE, ""), "ratio", "expected an integer, found 0.25");
        assertError(() -> Json.requireDouble(ROOT, "name", FILE, ""), "name", "expected a number, found \"vqvae-conv\"");
        assertError(() -> Json.requireIntArray(ROOT, "latent", 1, FILE, ""), "latent",
                "expected an array of integers, found {\"height\":7,\"codebook_size\":512}");
        assertError(() -> Json.requireIntArray(ROOT, "bad_channels", 1, FILE, "architecture"),
                "architecture.bad_channels[1]", "expected an integer >= 1, found \"x\"");
        assertError(() -> Json.requireIntArray(ROOT, "small_channels", 1, FILE, ""), "small_channels[1]",
                "expected an integer >= 1, found 0");
        assertError(() -> Json.optionalStringMap(ROOT, "list", FILE, "leaf"), "leaf.list",
                "expected an object of strings, found [1]");
        assertError(() -> Json.optionalStringMap(ROOT, "bad_options", FILE, "leaf"), "leaf.bad_options.min_std",
                "expected a string, found 0.01");
    }

    @Test
    void unknownFieldsAreErrorsNamingFileAndPath() {
        JsonNode latent = ROOT.get("latent");
        Json.requireOnly(latent, java.util.List.of("height", "width", "codebook_size"), FILE, "architecture.latent");
        assertThatThrownBy(() -> Json.requireOnly(latent, java.util.Set.of("height", "width"), FILE,
                "architecture.latent")).isInstanceOf(FormatException.class)
                .hasMessage(FILE + ": architecture.latent.codebook_size: unknown field; expected only [height, width]"
                        + " in architecture.latent");
        assertThatThrownBy(() -> Json.requireOnly(ROOT, java.util.Set.of("name"), FILE, ""))
                .hasMessage(FILE + ": count: unknown field; expected only [name]");
    }
}
