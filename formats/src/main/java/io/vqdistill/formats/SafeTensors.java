package io.vqdistill.formats;

import com.fasterxml.jackson.core.JsonParseException;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.vqdistill.api.Backend;
import io.vqdistill.api.DType;
import io.vqdistill.api.FormatException;
import io.vqdistill.api.InvalidArgumentException;
import io.vqdistill.api.Shapes;
import io.vqdistill.api.Tensor;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.Comparator;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Reads and writes the safetensors format (an 8-byte little-endian header length, a JSON header
 * naming each tensor's dtype, shape and byte range, then raw little-endian data), so checkpoints and
 * circuits open in PyTorch and numpy. Every defect of a file is a {@link FormatException} naming the
 * file and the tensor.
 */
public final class SafeTensors implements TensorStore {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final long MAX_HEADER = 100L << 20;

    private final Path file;
    private final Map<String, String> metadata;
    private final Map<String, Entry> entries;

    /**
     * One stored tensor: host-side bytes in little-endian order.
     *
     * @param name  the tensor's name
     * @param dtype its element type
     * @param shape its shape
     * @param data  size * dtype.bytes() bytes, little-endian, position 0
     */
    public record Entry(String name, DType dtype, long[] shape, ByteBuffer data) {
        /** A read-only view ordered little-endian. */
        public ByteBuffer buffer() {
            return data.duplicate().order(ByteOrder.LITTLE_ENDIAN);
        }

        /**
         * The flat position of the first value that is NaN or infinite (-inf passes when
         * {@code allowNegativeInfinity}); -1 when there is none or the entry is not floating-point.
         */
        public long firstNonFinite(boolean allowNegativeInfinity) {
            ByteBuffer b = buffer();
            int n = b.remaining() / dtype.bytes();
            if (dtype == DType.FLOAT32) {
                for (int i = 0; i < n; i++) {
                    float v = b.getFloat(i * 4);
                    if (!Float.isFinite(v) && !(allowNegativeInfinity && v == Float.NEGATIVE_INFINITY)) {
                        return i;
                    }
                }
            } else if (dtype == DType.FLOAT64) {
                for (int i = 0; i < n; i++) {
                    double v = b.getDouble(i * 8);
                    if (!Double.isFinite(v) && !(allowNegativeInfinity && v == Double.NEGATIVE_INFINITY)) {
                        return i;
                    }
                }
            }
            return -1;
        }

        /** The values as floats (FLOAT32 or FLOAT64 entries). */
        public float[] toFloats() {
            int n = Math.toIntExact(Shapes.size(shape));
            float[] out = new float[n];
            if (dtype == DType.FLOAT32) {
                buffer().asFloatBuffer().get(out);
            } else {
                double[] d = toDoubles();
                for (int i = 0; i < n; i++) {
                    out[i] = (float) d[i];
                }
            }
            return out;
        }

        /** The values as doubles (any numeric entry). */
        public double[] toDoubles() {
            int n = Math.toIntExact(Shapes.size(shape));
            double[] out = new double[n];
            ByteBuffer b = buffer();
            switch (dtype) {
                case FLOAT64 -> b.asDoubleBuffer().get(out);
                case FLOAT32 -> { for (int i = 0; i < n; i++) { out[i] = b.getFloat(i * 4); } }
                case INT32 -> { for (int i = 0; i < n; i++) { out[i] = b.getInt(i * 4); } }
                case INT64 -> { for (int i = 0; i < n; i++) { out[i] = b.getLong(i * 8); } }
                case BOOL -> { for (int i = 0; i < n; i++) { out[i] = b.get(i) != 0 ? 1 : 0; } }
            }
            return out;
        }

        /** The values as ints (INT32 or INT64 entries; INT64 values must fit). */
        public int[] toInts() {
            int n = Math.toIntExact(Shapes.size(shape));
            int[] out = new int[n];
            ByteBuffer b = buffer();
            if (dtype == DType.INT32) {
                b.asIntBuffer().get(out);
            } else if (dtype == DType.INT64) {
                for (int i = 0; i < n; i++) {
                    out[i] = Math.toIntExact(b.getLong(i * 8));
                }
            } else {
                throw new FormatException("tensor '" + name + "' is " + dtype.label() + ", expected an integer type");
            }
            return out;
        }

        /** Copies the entry into a tensor of {@code backend}. */
        public Tensor toTensor(Backend backend) {
            int n = Math.toIntExact(Shapes.size(shape));
            ByteBuffer b = buffer();
            return switch (dtype) {
                case FLOAT32 -> backend.of(toFloats(), shape);
                case FLOAT64 -> backend.of(toDoubles(), shape);
                case INT32 -> backend.of(toInts(), shape);
                case INT64 -> {
                    long[] l = new long[n];
                    b.asLongBuffer().get(l);
                    yield backend.of(l, shape);
                }
                case BOOL -> {
                    boolean[] z = new boolean[n];
                    for (int i = 0; i < n; i++) {
                        z[i] = b.get(i) != 0;
                    }
                    yield backend.of(z, shape);
                }
            };
        }

        /** An entry holding {@code values} (copied). */
        public static Entry of(String name, float[] values, long... shape) {
            ByteBuffer b = allocate(name, values.length, DType.FLOAT32, shape);
            b.asFloatBuffer().put(values);
            return new Entry(name, DType.FLOAT32, shape.clone(), b);
        }

        /** An entry holding {@code values} (copied). */
        public static Entry of(String name, double[] values, long... shape) {
            ByteBuffer b = allocate(name, values.length, DType.FLOAT64, shape);
            b.asDoubleBuffer().put(values);
            return new Entry(name, DType.FLOAT64, shape.clone(), b);
        }

        /** An entry holding {@code values} (copied). */
        public static Entry of(String name, int[] values, long... shape) {
            ByteBuffer b = allocate(name, values.length, DType.INT32, shape);
            b.asIntBuffer().put(values);
            return new Entry(name, DType.INT32, shape.clone(), b);
        }

        /** An entry holding {@code values} (copied). */
        public static Entry of(String name, long[] values, long... shape) {
            ByteBuffer b = allocate(name, values.length, DType.INT64, shape);
            b.asLongBuffer().put(values);
            return new Entry(name, DType.INT64, shape.clone(), b);
        }

        /** An entry holding the contents of {@code tensor}, in its dtype. */
        public static Entry of(String name, Tensor tensor) {
            long[] s = tensor.shape();
            return switch (tensor.dtype()) {
                case FLOAT32 -> of(name, tensor.toFloatArray(), s);
                case FLOAT64 -> of(name, tensor.toDoubleArray(), s);
                case INT32 -> of(name, tensor.toIntArray(), s);
                case INT64 -> of(name, tensor.toLongArray(), s);
                case BOOL -> {
                    boolean[] z = tensor.toBooleanArray();
                    ByteBuffer b = allocate(name, z.length, DType.BOOL, s);
                    for (boolean v : z) {
                        b.put((byte) (v ? 1 : 0));
                    }
                    b.rewind();
                    yield new Entry(name, DType.BOOL, s, b);
                }
            };
        }

        private static ByteBuffer allocate(String name, int length, DType dtype, long[] shape) {
            if (Shapes.size(Shapes.checkShape(shape, "safetensors")) != length) {
                throw new InvalidArgumentException("tensor '" + name + "': " + length + " values do not fill shape "
                        + Shapes.format(shape));
            }
            return ByteBuffer.allocate(Math.toIntExact((long) length * dtype.bytes())).order(ByteOrder.LITTLE_ENDIAN);
        }
    }

    private SafeTensors(Path file, Map<String, String> metadata, Map<String, Entry> entries) {
        this.file = file;
        this.metadata = metadata;
        this.entries = entries;
    }

    /** The file that was read. */
    @Override
    public Path file() {
        return file;
    }

    /** The {@code __metadata__} strings of the header. */
    public Map<String, String> metadata() {
        return Collections.unmodifiableMap(metadata);
    }

    /** Tensor names in file order. */
    @Override
    public List<String> names() {
        return new ArrayList<>(entries.keySet());
    }

    /**
     * The tensors of this file whose names do not start with {@code prefix}, with the same file and
     * metadata: what a reader that knows nothing of those tensors is handed.
     */
    public SafeTensors withoutPrefix(String prefix) {
        Map<String, Entry> kept = new LinkedHashMap<>();
        entries.forEach((name, entry) -> {
            if (!name.startsWith(prefix)) {
                kept.put(name, entry);
            }
        });
        return new SafeTensors(file, metadata, kept);
    }

    /** True when a tensor of that name is stored. */
    public boolean contains(String name) {
        return entries.containsKey(name);
    }

    /** The tensor {@code name}; a missing one is an error naming the file. */
    @Override
    public Entry get(String name) {
        Entry e = entries.get(name);
        if (e == null) {
            throw new FormatException(file + ": tensor '" + name + "' is missing (the file has " + names() + ")");
        }
        return e;
    }

    /** The tensor {@code name}, which must have dtype {@code dtype} and shape {@code shape}. */
    @Override
    public Entry get(String name, DType dtype, long... shape) {
        Entry e = get(name);
        if (e.dtype() != dtype || !Arrays.equals(e.shape(), shape)) {
            throw new FormatException(file + ": tensor '" + name + "' has " + e.dtype().label() + " "
                    + Shapes.format(e.shape()) + ", expected " + dtype.label() + " " + Shapes.format(shape));
        }
        return e;
    }

    @Override
    public SafeTensors require(String name) {
        get(name);
        return this;
    }

    @Override
    public SafeTensors require(String name, DType dtype, long... shape) {
        get(name, dtype, shape);
        return this;
    }

    @Override
    public Tensor toTensor(String name, DType dtype, long[] shape, Backend backend) {
        return get(name, dtype, shape).toTensor(backend);
    }

    /**
     * Reads and validates a whole safetensors file. Besides each tensor's dtype, shape and byte
     * range, the layout is checked as the format requires: the header is one JSON object, padded
     * with spaces only, naming each tensor once, and the tensors' byte ranges cover the data region
     * exactly: no two overlap or alias one another, no bytes lie unused between them, none follow
     * the last one. Values are not checked; see {@link #requireFinite}.
     */
    public static SafeTensors read(Path file) {
        FileKind.rejectSpecial(file);
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            long size = ch.size();
            if (size < 8) {
                throw new FormatException(file + ": header length: file has " + size + " bytes, too short for safetensors");
            }
            ByteBuffer lenBuf = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);
            readFully(ch, lenBuf, 0, file);
            long headerLen = lenBuf.getLong(0);
            if (headerLen <= 0 || headerLen > MAX_HEADER || headerLen > size - 8) {
                throw new FormatException(file + ": header length: " + headerLen + " does not fit a file of " + size
                        + " bytes (truncated or not safetensors)");
            }
            ByteBuffer headerBuf = ByteBuffer.allocate((int) headerLen);
            readFully(ch, headerBuf, 8, file);
            JsonNode header = header(file, headerBuf.array());
            long dataStart = 8 + headerLen;
            long dataLen = size - dataStart;
            Map<String, String> meta = new LinkedHashMap<>();
            List<Slot> slots = new ArrayList<>();
            for (Iterator<Map.Entry<String, JsonNode>> it = header.fields(); it.hasNext();) {
                Map.Entry<String, JsonNode> f = it.next();
                if (f.getKey().equals("__metadata__")) {
                    f.getValue().fields().forEachRemaining(m -> meta.put(m.getKey(), m.getValue().asText()));
                    continue;
                }
                slots.add(slot(file, f.getKey(), f.getValue(), dataLen));
            }
            checkCoverage(file, slots, dataLen);
            Map<String, Entry> entries = new LinkedHashMap<>();
            for (Slot slot : slots) {
                ByteBuffer data = ByteBuffer.allocate((int) (slot.end - slot.begin)).order(ByteOrder.LITTLE_ENDIAN);
                readFully(ch, data, dataStart + slot.begin, file);
                data.rewind();
                entries.put(slot.name, new Entry(slot.name, slot.dtype, slot.shape, data));
            }
            return new SafeTensors(file, meta, entries);
        } catch (NoSuchFileException e) {
            throw new FormatException(file + ": file not found", e);
        } catch (IOException e) {
            throw new FormatException(file + ": cannot read: " + e.getMessage(), e);
        }
    }

    /** The header object: one JSON object, each name once, followed by nothing but space padding. */
    private static JsonNode header(Path file, byte[] bytes) {
        JsonNode header;
        long end;
        try (JsonParser p = JSON.getFactory().createParser(bytes)) {
            p.enable(JsonParser.Feature.STRICT_DUPLICATE_DETECTION);
            header = JSON.readTree(p);
            end = p.currentLocation().getByteOffset();
        } catch (JsonParseException e) {
            String m = e.getOriginalMessage();
            if (m != null && m.startsWith("Duplicate field ")) {
                throw new FormatException(file + ": header: " + m.replace("Duplicate field ", "tensor ")
                        + " is named twice", e);
            }
            throw new FormatException(file + ": header: not valid JSON: " + e.getMessage(), e);
        } catch (IOException e) {
            throw new FormatException(file + ": header: not valid JSON: " + e.getMessage(), e);
        }
        if (header == null || !header.isObject()) {
            throw new FormatException(file + ": header: expected a JSON object");
        }
        if (bytes[0] != '{') {
            throw new FormatException(file + ": header: must begin with '{', found byte " + (bytes[0] & 0xff));
        }
        for (int i = (int) Math.max(0, end); i < bytes.length; i++) {
            if (bytes[i] != ' ') {
                int to = Math.min(bytes.length, i + 16);
                throw new FormatException(file + ": header: " + (bytes.length - i) + " bytes after the JSON object"
                        + " (from header byte " + i + ") are not space padding: \""
                        + printable(new String(bytes, i, to - i, StandardCharsets.UTF_8)) + "\"");
            }
        }
        return header;
    }

    private static String printable(String s) {
        StringBuilder b = new StringBuilder();
        for (char c : s.toCharArray()) {
            if (c == '\n') {
                b.append("\\n");
            } else if (c < 0x20 || c == 0x7f) {
                b.append(String.format("\\u%04x", (int) c));
            } else {
                b.append(c);
            }
        }
        return b.toString();
    }

    /** One tensor of the header: its name, dtype, shape and byte range in the data region. */
    private record Slot(String name, DType dtype, long[] shape, long begin, long end) {
    }

    /**
     * The tensors' byte ranges must tile the data region: sorted by offset, each begins where the
     * previous one ends, the first at 0 and the last at the end of the file.
     */
    private static void checkCoverage(Path file, List<Slot> slots, long dataLen) {
        List<Slot> sorted = new ArrayList<>(slots);
        sorted.sort(Comparator.comparingLong(Slot::begin).thenComparingLong(Slot::end));
        long cursor = 0;
        Slot previous = null;
        for (Slot s : sorted) {
            String where = file + ": tensor '" + s.name + "': data_offsets [" + s.begin + ", " + s.end + "]";
            if (s.begin < cursor) {
                if (previous.begin == s.begin && previous.end == s.end) {
                    throw new FormatException(where + " alias tensor '" + previous.name + "' (the same bytes);"
                            + " every tensor needs bytes of its own");
                }
                throw new FormatException(where + " overlap tensor '" + previous.name + "' [" + previous.begin + ", "
                        + previous.end + "]; every tensor needs bytes of its own");
            }
            if (s.begin > cursor) {
                throw new FormatException(where + " leave " + (s.begin - cursor) + " unused bytes [" + cursor + ", "
                        + s.begin + ") " + (previous == null ? "before it" : "after tensor '" + previous.name + "'")
                        + "; the tensors must cover the data exactly");
            }
            cursor = s.end;
            previous = s;
        }
        if (cursor < dataLen) {
            String what = previous == null ? "header: no tensors, but"
                    : "tensor '" + previous.name + "': the last tensor ends at data byte " + cursor + ", but";
            throw new FormatException(file + ": " + what + " " + (dataLen - cursor) + " bytes follow (" + dataLen
                    + " data bytes in all); trailing bytes are not allowed");
        }
    }

    private static Slot slot(Path file, String name, JsonNode node, long dataLen) {
        String where = file + ": tensor '" + name + "'";
        DType dtype = switch (node.path("dtype").asText("")) {
            case "F32" -> DType.FLOAT32;
            case "F64" -> DType.FLOAT64;
            case "I32" -> DType.INT32;
            case "I64" -> DType.INT64;
            case "BOOL" -> DType.BOOL;
            default -> throw new FormatException(where + ": dtype '" + node.path("dtype").asText() + "' is not supported"
                    + " (F32, F64, I32, I64, BOOL)");
        };
        JsonNode shapeNode = node.path("shape");
        JsonNode offsets = node.path("data_offsets");
        if (!shapeNode.isArray() || !offsets.isArray() || offsets.size() != 2) {
            throw new FormatException(where + ": shape and data_offsets [begin, end] are required");
        }
        long[] shape = new long[shapeNode.size()];
        for (int i = 0; i < shape.length; i++) {
            JsonNode length = shapeNode.get(i);
            shape[i] = length.isIntegralNumber() && length.canConvertToLong() ? length.asLong() : -1;
            if (shape[i] < 0) {
                throw new FormatException(where + ": shape " + shapeNode + " has an invalid length");
            }
        }
        if (!offsets.get(0).isIntegralNumber() || !offsets.get(0).canConvertToLong()
                || !offsets.get(1).isIntegralNumber() || !offsets.get(1).canConvertToLong()) {
            throw new FormatException(where + ": data_offsets " + offsets + " must be two integers");
        }
        long begin = offsets.get(0).asLong();
        long end = offsets.get(1).asLong();
        long expected;
        try {
            expected = Math.multiplyExact(Shapes.size(shape), dtype.bytes());
        } catch (ArithmeticException e) {
            throw new FormatException(where + ": shape " + shapeNode + " holds more bytes than a file can", e);
        }
        if (begin < 0 || end < begin || end > dataLen) {
            throw new FormatException(where + ": data_offsets [" + begin + ", " + end + "] outside the " + dataLen
                    + " data bytes (truncated file?)");
        }
        if (end - begin != expected) {
            throw new FormatException(where + ": data_offsets hold " + (end - begin) + " bytes but " + dtype.label() + " "
                    + Shapes.format(shape) + " needs " + expected);
        }
        if (expected > Integer.MAX_VALUE) {
            throw new FormatException(where + ": " + expected + " bytes exceed the 2 GiB limit of one tensor");
        }
        return new Slot(name, dtype, shape, begin, end);
    }

    private static void readFully(FileChannel ch, ByteBuffer buf, long position, Path file) throws IOException {
        long pos = position;
        while (buf.hasRemaining()) {
            int n = ch.read(buf, pos);
            if (n < 0) {
                throw new FormatException(file + ": unexpected end of file at byte " + pos);
            }
            pos += n;
        }
    }

    /** Writes tensors and metadata atomically, in the given order. */
    public static void write(Path target, List<Entry> tensors, Map<String, String> metadata) {
        AtomicFiles.write(target, content(target.toString(), tensors, metadata));
    }

    /**
     * The bytes of a safetensors file holding {@code tensors} (in the given order, packed without
     * gaps) and {@code metadata}, for writing into a file of an {@link AtomicFolder}; the header is
     * built (and a name given twice rejected, naming {@code what}) before anything is written.
     */
    public static AtomicFiles.Writer content(String what, List<Entry> tensors, Map<String, String> metadata) {
        ObjectNode header = JSON.createObjectNode();
        if (!metadata.isEmpty()) {
            ObjectNode m = header.putObject("__metadata__");
            metadata.forEach(m::put);
        }
        long offset = 0;
        for (Entry e : tensors) {
            if (header.has(e.name())) {
                throw new InvalidArgumentException(what + ": tensor name '" + e.name() + "' given twice");
            }
            ObjectNode n = header.putObject(e.name());
            n.put("dtype", switch (e.dtype()) {
                case FLOAT32 -> "F32";
                case FLOAT64 -> "F64";
                case INT32 -> "I32";
                case INT64 -> "I64";
                case BOOL -> "BOOL";
            });
            n.putArray("shape").addAll(Arrays.stream(e.shape()).mapToObj(JSON.getNodeFactory()::numberNode).toList());
            long len = e.data().remaining();
            n.putArray("data_offsets").add(offset).add(offset + len);
            offset += len;
        }
        byte[] json = header.toString().getBytes(StandardCharsets.UTF_8);
        int pad = (8 - json.length % 8) % 8;
        byte[] padded = Arrays.copyOf(json, json.length + pad);
        Arrays.fill(padded, json.length, padded.length, (byte) ' ');
        List<Entry> copy = List.copyOf(tensors);
        return out -> {
            ByteBuffer len = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(padded.length);
            out.write(len.array());
            out.write(padded);
            byte[] chunk = new byte[1 << 16];
            for (Entry e : copy) {
                ByteBuffer d = e.data().duplicate();
                while (d.hasRemaining()) {
                    int n = Math.min(chunk.length, d.remaining());
                    d.get(chunk, 0, n);
                    out.write(chunk, 0, n);
                }
            }
        };
    }

    // ---- value checks -------------------------------------------------------------------------

    /**
     * Checks that every floating-point tensor holds only finite values, except that the tensors
     * named in {@code logProbabilities} may also hold -inf (the log of a zero probability). Returns
     * this file.
     *
     * @throws FormatException naming the file, the tensor, the first bad element (flat and as an
     *                         index) and its value
     */
    public SafeTensors requireFinite(Set<String> logProbabilities) {
        for (Entry e : entries.values()) {
            requireFinite(e.name(), logProbabilities.contains(e.name()));
        }
        return this;
    }

    /** Checks that every floating-point tensor holds only finite values, as {@link #requireFinite(Set)}. */
    public SafeTensors requireFinite() {
        return requireFinite(Set.of());
    }

    /**
     * Checks that the floating-point tensor {@code name} (integer and boolean tensors always pass)
     * holds only finite values, and also -inf when {@code logProbabilities}.
     *
     * @throws FormatException naming the file, the tensor, the first bad element and its value
     */
    @Override
    public SafeTensors requireFinite(String name, boolean logProbabilities) {
        Entry e = get(name);
        long bad = e.firstNonFinite(logProbabilities);
        if (bad >= 0) {
            double v = e.dtype() == DType.FLOAT32 ? e.buffer().getFloat((int) bad * 4) : e.buffer().getDouble((int) bad * 8);
            throw new FormatException(file + ": tensor '" + name + "': element " + bad + " (index "
                    + Arrays.toString(index(bad, e.shape())) + ") is " + v + "; every value must be finite"
                    + (logProbabilities ? " or -inf" : ""));
        }
        return this;
    }

    private static long[] index(long flat, long[] shape) {
        long[] out = new long[shape.length];
        long rest = flat;
        for (int d = shape.length - 1; d >= 0; d--) {
            out[d] = shape[d] == 0 ? 0 : rest % shape[d];
            rest = shape[d] == 0 ? rest : rest / shape[d];
        }
        return out;
    }
}
