package io.vqdistill.formats;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.vqdistill.api.Backend;
import io.vqdistill.api.DType;
import io.vqdistill.api.FormatException;
import io.vqdistill.api.InvalidArgumentException;
import io.vqdistill.api.Tensor;
import io.vqdistill.api.TensorScope;
import io.vqdistill.api.fake.FakeBackend;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The safetensors reader and writer: byte layout, round trips and the errors for damaged files. */
class SafeTensorsTest {
    private static final float[] FLOATS = {0f, -0f, 1.5f, -2.25e-3f, Float.MAX_VALUE, Float.MIN_VALUE,
        Float.NaN, Float.NEGATIVE_INFINITY};
    private static final double[] DOUBLES = {Math.PI, -0.0, Double.MIN_VALUE, Double.MAX_VALUE, Double.NaN,
        Double.POSITIVE_INFINITY};
    private static final int[] INTS = {0, -1, 7, Integer.MIN_VALUE, Integer.MAX_VALUE, 42};
    private static final long[] LONGS = {Long.MIN_VALUE, -1, 0, 1L << 40, Long.MAX_VALUE, 3};
    private static final boolean[] BOOLS = {true, false, false, true, true, false};

    private final Backend backend = new FakeBackend();

    @TempDir
    Path dir;

    /** One entry of every dtype, with shapes of rank 0 to 3 and an empty one. */
    private List<SafeTensors.Entry> everyDtype() {
        try (TensorScope scope = TensorScope.open()) {
            return List.of(
                    SafeTensors.Entry.of("f32", FLOATS, 2, 2, 2),
                    SafeTensors.Entry.of("f64", DOUBLES, 6),
                    SafeTensors.Entry.of("i32", INTS, 3, 2),
                    SafeTensors.Entry.of("i64", LONGS, 2, 3),
                    SafeTensors.Entry.of("bool", backend.of(BOOLS, 2, 3)),
                    SafeTensors.Entry.of("scalar", new double[] {-4.5}),
                    SafeTensors.Entry.of("empty", new float[0], 0, 3));
        }
    }

    @Test
    void everyDtypeRoundTripsBitForBitWithMetadataAndOrder() {
        Path file = dir.resolve("all.safetensors");
        SafeTensors.write(file, everyDtype(), Map.of("format", "pt", "note", "ünïcode"));
        SafeTensors st = SafeTensors.read(file);
        assertThat(st.file()).isEqualTo(file);
        assertThat(st.names()).containsExactly("f32", "f64", "i32", "i64", "bool", "scalar", "empty");
        assertThat(st.metadata()).containsExactlyInAnyOrderEntriesOf(Map.of("format", "pt", "note", "ünïcode"));
        assertThat(st.contains("f32")).isTrue();
        assertThat(st.contains("f16")).isFalse();

        float[] f = st.get("f32", DType.FLOAT32, 2, 2, 2).toFloats();
        for (int i = 0; i < FLOATS.length; i++) {
            assertThat(Float.floatToRawIntBits(f[i])).as("f32[%d]", i).isEqualTo(Float.floatToRawIntBits(FLOATS[i]));
        }
        double[] d = st.get("f64", DType.FLOAT64, 6).toDoubles();
        for (int i = 0; i < DOUBLES.length; i++) {
            assertThat(Double.doubleToRawLongBits(d[i])).as("f64[%d]", i)
                    .isEqualTo(Double.doubleToRawLongBits(DOUBLES[i]));
        }
        assertThat(st.get("i32", DType.INT32, 3, 2).toInts()).containsExactly(INTS);
        SafeTensors.Entry i64 = st.get("i64", DType.INT64, 2, 3);
        long[] longs = new long[LONGS.length];
        i64.buffer().asLongBuffer().get(longs);
        assertThat(longs).containsExactly(LONGS);
        SafeTensors.Entry bool = st.get("bool", DType.BOOL, 2, 3);
        assertThat(bool.toDoubles()).containsExactly(1, 0, 0, 1, 1, 0);
        assertThat(st.get("scalar", DType.FLOAT64).toDoubles()).containsExactly(-4.5);
        assertThat(st.get("empty", DType.FLOAT32, 0, 3).toFloats()).isEmpty();
    }

    @Test
    void entriesConvertBetweenNumericTypesAndIntoTensors() {
        Path file = dir.resolve("all.safetensors");
        SafeTensors.write(file, everyDtype(), Map.of());
        SafeTensors st = SafeTensors.read(file);
        assertThat(st.get("f64").toFloats()).containsExactly(toFloats(DOUBLES));
        assertThat(st.get("i32").toDoubles()).containsExactly(Arrays.stream(INTS).asDoubleStream().toArray());
        assertThat(st.get("i64").toDoubles()).containsExactly(Arrays.stream(LONGS).asDoubleStream().toArray());
        SafeTensors.write(file, List.of(SafeTensors.Entry.of("small", new long[] {-3, 0, 1L << 30}, 3)), Map.of());
        assertThat(SafeTensors.read(file).get("small").toInts()).containsExactly(-3, 0, 1 << 30);
        assertThatThrownBy(() -> st.get("f32").toInts()).isInstanceOf(FormatException.class)
                .hasMessage("tensor 'f32' is float32, expected an integer type");

        try (TensorScope scope = TensorScope.open()) {
            Tensor f32 = st.get("f32").toTensor(backend);
            assertThat(f32.dtype()).isEqualTo(DType.FLOAT32);
            assertThat(f32.shape()).containsExactly(2, 2, 2);
            assertThat(f32.toFloatArray()).containsExactly(FLOATS);
            Tensor f64 = st.get("f64").toTensor(backend);
            assertThat(f64.dtype()).isEqualTo(DType.FLOAT64);
            assertThat(f64.toDoubleArray()).containsExactly(DOUBLES);
            Tensor i32 = st.get("i32").toTensor(backend);
            assertThat(i32.dtype()).isEqualTo(DType.INT32);
            assertThat(i32.shape()).containsExactly(3, 2);
            assertThat(i32.toIntArray()).containsExactly(INTS);
            Tensor i64 = SafeTensors.Entry.of("i64", new long[] {-5, 1L << 40}, 2).toTensor(backend);
            assertThat(i64.dtype()).isEqualTo(DType.INT64);
            assertThat(i64.toLongArray()).containsExactly(-5, 1L << 40);
            Tensor bool = st.get("bool").toTensor(backend);
            assertThat(bool.dtype()).isEqualTo(DType.BOOL);
            assertThat(bool.shape()).containsExactly(2, 3);
            assertThat(bool.toBooleanArray()).containsExactly(BOOLS);
        }
    }

    @Test
    void theFileHasTheSafetensorsLayout() throws IOException {
        Path file = dir.resolve("one.safetensors");
        SafeTensors.write(file, List.of(SafeTensors.Entry.of("w", new int[] {1, 2, 3}, 3),
                SafeTensors.Entry.of("b", new double[] {0.5}, 1)), Map.of("format", "pt"));
        byte[] bytes = Files.readAllBytes(file);
        ByteBuffer b = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN);
        long headerLength = b.getLong(0);
        assertThat(headerLength % 8).isZero();
        assertThat(bytes.length).isEqualTo(8 + headerLength + 3 * 4 + 8);
        String header = new String(bytes, 8, (int) headerLength, StandardCharsets.UTF_8);
        assertThat(header.strip()).isEqualTo("{\"__metadata__\":{\"format\":\"pt\"},"
                + "\"w\":{\"dtype\":\"I32\",\"shape\":[3],\"data_offsets\":[0,12]},"
                + "\"b\":{\"dtype\":\"F64\",\"shape\":[1],\"data_offsets\":[12,20]}}");
        assertThat(header.substring(header.strip().length())).as("padding").matches(" *");
        int data = 8 + (int) headerLength;
        assertThat(b.getInt(data)).isEqualTo(1);
        assertThat(b.getInt(data + 8)).isEqualTo(3);
        assertThat(b.getDouble(data + 12)).isEqualTo(0.5);
    }

    @Test
    void missingTensorsAndWrongDtypesOrShapesNameFileAndTensor() {
        Path file = dir.resolve("all.safetensors");
        SafeTensors.write(file, everyDtype(), Map.of());
        SafeTensors st = SafeTensors.read(file);
        assertThatThrownBy(() -> st.get("weight")).isInstanceOf(FormatException.class)
                .hasMessage(file + ": tensor 'weight' is missing (the file has [f32, f64, i32, i64, bool, scalar,"
                        + " empty])");
        assertThatThrownBy(() -> st.get("f32", DType.FLOAT64, 2, 2, 2)).isInstanceOf(FormatException.class)
                .hasMessage(file + ": tensor 'f32' has float32 [2, 2, 2], expected float64 [2, 2, 2]");
        assertThatThrownBy(() -> st.get("i32", DType.INT32, 2, 3)).isInstanceOf(FormatException.class)
                .hasMessage(file + ": tensor 'i32' has int32 [3, 2], expected int32 [2, 3]");
        assertThatThrownBy(() -> SafeTensors.read(dir.resolve("absent.safetensors")))
                .isInstanceOf(FormatException.class).hasMessage(dir.resolve("absent.safetensors") + ": file not found");
    }

    /** A file with the given header text (padded to 8 bytes) and data bytes. */
    private Path raw(String name, String header, byte[] data) throws IOException {
        byte[] h = header.getBytes(StandardCharsets.UTF_8);
        int padded = (h.length + 7) / 8 * 8;
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.write(ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(padded).array());
        out.write(h);
        out.write(" ".repeat(padded - h.length).getBytes(StandardCharsets.US_ASCII));
        out.write(data);
        Path file = dir.resolve(name);
        Files.write(file, out.toByteArray());
        return file;
    }

    private static void assertFormatError(Path file, String message) {
        assertThatThrownBy(() -> SafeTensors.read(file)).isInstanceOf(FormatException.class)
                .hasMessage(file + ": " + message);
    }

    @Test
    void headerErrorsNameTheFileAndTheField() throws IOException {
        byte[] twelve = new byte[12];
        assertFormatError(raw("array.safetensors", "[1, 2]", twelve), "header: expected a JSON object");
        Path notJson = raw("text.safetensors", "{\"w\": ", twelve);
        assertThatThrownBy(() -> SafeTensors.read(notJson)).isInstanceOf(FormatException.class)
                .hasMessageStartingWith(notJson + ": header: not valid JSON: ");
        assertFormatError(raw("f16.safetensors", "{\"w\":{\"dtype\":\"F16\",\"shape\":[6],\"data_offsets\":[0,12]}}",
                twelve), "tensor 'w': dtype 'F16' is not supported (F32, F64, I32, I64, BOOL)");
        assertFormatError(raw("noshape.safetensors", "{\"w\":{\"dtype\":\"F32\",\"data_offsets\":[0,12]}}", twelve),
                "tensor 'w': shape and data_offsets [begin, end] are required");
        assertFormatError(raw("nooffsets.safetensors", "{\"w\":{\"dtype\":\"F32\",\"shape\":[3]}}", twelve),
                "tensor 'w': shape and data_offsets [begin, end] are required");
        assertFormatError(raw("negative.safetensors", "{\"w\":{\"dtype\":\"F32\",\"shape\":[-3],\"data_offsets\":"
                + "[0,12]}}", twelve), "tensor 'w': shape [-3] has an invalid length");
        assertFormatError(raw("fraction.safetensors", "{\"w\":{\"dtype\":\"F32\",\"shape\":[2.5],\"data_offsets\":"
                + "[0,12]}}", twelve), "tensor 'w': shape [2.5] has an invalid length");
        assertFormatError(raw("huge.safetensors", "{\"w\":{\"dtype\":\"F32\",\"shape\":[4294967296,4294967296],"
                + "\"data_offsets\":[0,12]}}", twelve),
                "tensor 'w': shape [4294967296,4294967296] holds more bytes than a file can");
        assertFormatError(raw("textoffsets.safetensors", "{\"w\":{\"dtype\":\"F32\",\"shape\":[3],\"data_offsets\":"
                + "[\"0\",12]}}", twelve), "tensor 'w': data_offsets [\"0\",12] must be two integers");
        assertFormatError(raw("beyond.safetensors", "{\"w\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":"
                + "[0,16]}}", twelve), "tensor 'w': data_offsets [0, 16] outside the 12 data bytes (truncated file?)");
        assertFormatError(raw("backwards.safetensors", "{\"w\":{\"dtype\":\"F32\",\"shape\":[0],\"data_offsets\":"
                + "[8,4]}}", twelve), "tensor 'w': data_offsets [8, 4] outside the 12 data bytes (truncated file?)");
        assertFormatError(raw("mismatch.safetensors", "{\"w\":{\"dtype\":\"F64\",\"shape\":[2],\"data_offsets\":"
                + "[0,12]}}", twelve), "tensor 'w': data_offsets hold 12 bytes but float64 [2] needs 16");
    }

    @Test
    void overlappingAliasingGappedAndTrailingDataAreErrorsNamingBothTensors() throws IOException {
        byte[] eight = new byte[8];
        byte[] twelve = new byte[12];
        assertFormatError(raw("alias.safetensors", "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
                + "\"b\":{\"dtype\":\"I32\",\"shape\":[2],\"data_offsets\":[0,8]}}", eight),
                "tensor 'b': data_offsets [0, 8] alias tensor 'a' (the same bytes); every tensor needs bytes of its own");
        assertFormatError(raw("overlap.safetensors", "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
                + "\"b\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[4,12]}}", twelve),
                "tensor 'b': data_offsets [4, 12] overlap tensor 'a' [0, 8]; every tensor needs bytes of its own");
        assertFormatError(raw("inside.safetensors", "{\"a\":{\"dtype\":\"F32\",\"shape\":[3],\"data_offsets\":[0,12]},"
                + "\"e\":{\"dtype\":\"F32\",\"shape\":[0],\"data_offsets\":[4,4]}}", twelve),
                "tensor 'e': data_offsets [4, 4] overlap tensor 'a' [0, 12]; every tensor needs bytes of its own");
        assertFormatError(raw("gap.safetensors", "{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]},"
                + "\"b\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[8,12]}}", twelve),
                "tensor 'b': data_offsets [8, 12] leave 4 unused bytes [4, 8) after tensor 'a'; the tensors must cover"
                        + " the data exactly");
        assertFormatError(raw("start.safetensors", "{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]}}",
                eight), "tensor 'a': data_offsets [4, 8] leave 4 unused bytes [0, 4) before it; the tensors must cover"
                        + " the data exactly");
        assertFormatError(raw("trailing.safetensors", "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}",
                twelve), "tensor 'a': the last tensor ends at data byte 8, but 4 bytes follow (12 data bytes in all);"
                        + " trailing bytes are not allowed");
        assertFormatError(raw("none.safetensors", "{\"__metadata__\":{\"format\":\"pt\"}}", eight),
                "header: no tensors, but 8 bytes follow (8 data bytes in all); trailing bytes are not allowed");
        // tensors stored out of order but tiling the data exactly are fine
        SafeTensors st = SafeTensors.read(raw("order.safetensors", "{\"b\":{\"dtype\":\"I32\",\"shape\":[1],"
                + "\"data_offsets\":[4,8]},\"a\":{\"dtype\":\"I32\",\"shape\":[1],\"data_offsets\":[0,4]},"
                + "\"e\":{\"dtype\":\"I32\",\"shape\":[0],\"data_offsets\":[8,8]}}",
                new byte[] {1, 0, 0, 0, 2, 0, 0, 0}));
        assertThat(st.names()).containsExactly("b", "a", "e");
        assertThat(st.get("b").toInts()).containsExactly(2);
    }

    @Test
    void junkAroundTheHeaderJsonAndDuplicateNamesAreErrors() throws IOException {
        String w = "{\"w\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}";
        byte[] four = new byte[4];
        assertThat(SafeTensors.read(raw("padded.safetensors", w + "       ", four)).names()).containsExactly("w");
        assertFormatError(raw("junk.safetensors", w + "xyz", four),
                "header: 10 bytes after the JSON object (from header byte 54) are not space padding: \"xyz       \"");
        assertFormatError(raw("second.safetensors", w + "{}", four),
                "header: 2 bytes after the JSON object (from header byte 54) are not space padding: \"{}\"");
        assertFormatError(raw("newline.safetensors", w + "\n", four),
                "header: 2 bytes after the JSON object (from header byte 54) are not space padding: \"\\n \"");
        assertFormatError(raw("nul.safetensors", w + "\0", four),
                "header: 2 bytes after the JSON object (from header byte 54) are not space padding: \"\\u0000 \"");
        assertFormatError(raw("leading.safetensors", " " + w, four), "header: must begin with '{', found byte 32");
        assertFormatError(raw("twice.safetensors", "{\"w\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]},"
                + "\"w\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]}}", new byte[8]),
                "header: tensor 'w' is named twice");
    }

    @Test
    void nonFiniteValuesAreErrorsNamingTheTensorAndTheFirstBadIndex() {
        Path file = dir.resolve("values.safetensors");
        float[] f = {0, 1, 2, 3, 4, Float.NaN, Float.NaN};
        SafeTensors.write(file, List.of(SafeTensors.Entry.of("ints", new int[] {Integer.MIN_VALUE}, 1),
                SafeTensors.Entry.of("ok", new float[] {-3, Float.MAX_VALUE}, 2),
                SafeTensors.Entry.of("log_p", new double[] {0, Double.NEGATIVE_INFINITY}, 2),
                SafeTensors.Entry.of("f32", Arrays.copyOf(f, 6), 2, 3),
                SafeTensors.Entry.of("f64", new double[] {0, 0, 0, Double.POSITIVE_INFINITY}, 4)), Map.of());
        SafeTensors st = SafeTensors.read(file);
        assertThat(st.requireFinite("ints", false).requireFinite("ok", false).requireFinite("log_p", true)).isSameAs(st);
        assertThatThrownBy(() -> st.requireFinite("log_p", false)).isInstanceOf(FormatException.class)
                .hasMessage(file + ": tensor 'log_p': element 1 (index [1]) is -Infinity; every value must be finite");
        assertThatThrownBy(() -> st.requireFinite(java.util.Set.of("log_p"))).isInstanceOf(FormatException.class)
                .hasMessage(file + ": tensor 'f32': element 5 (index [1, 2]) is NaN; every value must be finite");
        assertThatThrownBy(() -> st.requireFinite("f64", true)).isInstanceOf(FormatException.class)
                .hasMessage(file + ": tensor 'f64': element 3 (index [3]) is Infinity; every value must be finite"
                        + " or -inf");
        SafeTensors.write(file, List.of(SafeTensors.Entry.of("scalar", new float[] {Float.NEGATIVE_INFINITY})),
                Map.of());
        assertThatThrownBy(() -> SafeTensors.read(file).requireFinite()).isInstanceOf(FormatException.class)
                .hasMessage(file + ": tensor 'scalar': element 0 (index []) is -Infinity; every value must be finite");
    }

    @Test
    void truncatedFilesAreErrorsNamingTheFile() throws IOException {
        Path file = dir.resolve("all.safetensors");
        SafeTensors.write(file, everyDtype(), Map.of());
        byte[] bytes = Files.readAllBytes(file);
        long headerLength = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN).getLong(0);

        Path data = dir.resolve("data.safetensors");
        Files.write(data, Arrays.copyOf(bytes, bytes.length - 1));
        assertThatThrownBy(() -> SafeTensors.read(data)).isInstanceOf(FormatException.class)
                .hasMessageStartingWith(data + ": tensor '").hasMessageContaining("data_offsets")
                .hasMessageContaining("(truncated file?)");

        Path header = dir.resolve("header.safetensors");
        Files.write(header, Arrays.copyOf(bytes, 8 + (int) headerLength / 2));
        assertFormatError(header, "header length: " + headerLength + " does not fit a file of "
                + (8 + headerLength / 2) + " bytes (truncated or not safetensors)");

        Path length = dir.resolve("length.safetensors");
        Files.write(length, Arrays.copyOf(bytes, 5));
        assertFormatError(length, "header length: file has 5 bytes, too short for safetensors");

        Path zero = dir.resolve("zero.safetensors");
        Files.write(zero, new byte[16]);
        assertFormatError(zero, "header length: 0 does not fit a file of 16 bytes (truncated or not safetensors)");
    }

    @Test
    void badEntriesAreRejectedBeforeAnythingIsWritten() {
        assertThatThrownBy(() -> SafeTensors.Entry.of("w", new float[5], 2, 3))
                .isInstanceOf(InvalidArgumentException.class).hasMessage("tensor 'w': 5 values do not fill shape [2, 3]");
        Path file = dir.resolve("twice.safetensors");
        List<SafeTensors.Entry> twice = List.of(SafeTensors.Entry.of("w", new int[] {1}, 1),
                SafeTensors.Entry.of("w", new int[] {2}, 1));
        assertThatThrownBy(() -> SafeTensors.write(file, twice, Map.of()))
                .isInstanceOf(InvalidArgumentException.class).hasMessage(file + ": tensor name 'w' given twice");
        assertThat(file).doesNotExist();
        assertThat(dir).isEmptyDirectory();
    }

    private static float[] toFloats(double[] v) {
        float[] f = new float[v.length];
        for (int i = 0; i < v.length; i++) {
            f[i] = (float) v[i];
        }
        return f;
    }
}
