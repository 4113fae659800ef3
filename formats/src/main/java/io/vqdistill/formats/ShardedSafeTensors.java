package io.vqdistill.formats;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
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
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * Named tensors stored as one safetensors file {@code STEM.safetensors} while they fit in one shard,
 * and otherwise as several shards {@code STEM-00001-of-0000K.safetensors} under an index
 * {@code STEM.safetensors.index.json}: the layout Hugging Face uses for large checkpoints. The index is
 * <pre>
 * {"metadata": {"total_size": BYTES,
 *               "shards": {"STEM-00001-of-0000K.safetensors": "SHA-256", ...},
 *               "split_tensors": {"NAME": ["NAME.part-00001-of-0000P", ...], ...}},
 *  "weight_map": {"STORED NAME": "STEM-0000i-of-0000K.safetensors", ...}}
 * </pre>
 * where {@code total_size} counts the tensors' data bytes (headers excluded) and {@code weight_map}
 * names the shard of every stored tensor. Tensors are placed in order, each whole in the current
 * shard while it fits, else in the next one. A tensor larger than a shard is split along its first
 * axis into consecutive blocks of whole rows, stored as {@code NAME.part-0000j-of-0000P} (j from 1,
 * filling the current shard first); {@code split_tensors} lists its parts in order, and concatenating
 * them along axis 0 gives the tensor. Readers check every shard's SHA-256 and that the shards hold
 * exactly the tensors the index maps to them, so a missing, truncated or replaced shard is an error
 * naming that file.
 */
public final class ShardedSafeTensors implements TensorStore {
    /** The suffix of the single file and of every shard. */
    public static final String SUFFIX = ".safetensors";
    /** The suffix of the index, after the stem. */
    public static final String INDEX_SUFFIX = ".safetensors.index.json";
    /** The default largest shard, 1 GiB of tensor data. */
    public static final long DEFAULT_MAX_SHARD_BYTES = 1L << 30;
    /** The largest shard accepted: one entry of {@link SafeTensors} holds at most this many bytes. */
    public static final long MAX_SHARD_BYTES = Integer.MAX_VALUE;
    /** What a part's name adds to its tensor's name, before "NNNNN-of-NNNNN". */
    public static final String PART = ".part-";

    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    private final Path index;
    private final Map<String, List<Stored>> tensors;

    /** One stored tensor, a whole tensor or one part: its name in the shard and the shard. */
    private record Stored(String name, SafeTensors shard) {
        SafeTensors.Entry entry() {
            return shard.get(name);
        }
    }

    private ShardedSafeTensors(Path index, Map<String, List<Stored>> tensors) {
        this.index = index;
        this.tensors = tensors;
    }

    // ---- names --------------------------------------------------------------------------------

    /** {@code STEM.safetensors}, the single file. */
    public static String single(String stem) {
        return stem + SUFFIX;
    }

    /** {@code STEM.safetensors.index.json}, the index of the shards. */
    public static String index(String stem) {
        return stem + INDEX_SUFFIX;
    }

    /** {@code STEM-0000i-of-0000K.safetensors}, shard {@code i} (from 1) of {@code count}. */
    public static String shard(String stem, int i, int count) {
        return String.format(Locale.ROOT, "%s-%05d-of-%05d%s", stem, i, count, SUFFIX);
    }

    private static String part(String name, int j, int count) {
        return String.format(Locale.ROOT, "%s%s%05d-of-%05d", name, PART, j, count);
    }

    private static Pattern shardPattern(String stem) {
        return Pattern.compile(Pattern.quote(stem) + "-\\d{5}-of-\\d{5}" + Pattern.quote(SUFFIX));
    }

    // ---- writing ------------------------------------------------------------------------------

    /** Produces the rows [from, to) of a tensor along its first axis as an entry called {@code name}. */
    @FunctionalInterface
    public interface Rows {
        /** The rows [from, to), as an entry of at most 2 GiB called {@code name}. */
        SafeTensors.Entry read(String name, long from, long to);
    }

    /**
     * A tensor to write, read in blocks of rows only while its shard is written.
     *
     * @param name  its name
     * @param dtype its element type
     * @param shape its shape
     * @param rows  produces blocks of its rows along the first axis
     */
    public record Source(String name, DType dtype, long[] shape, Rows rows) {
        /** Validates and copies the shape. */
        public Source {
            Objects.requireNonNull(name, "name");
            Objects.requireNonNull(dtype, "dtype");
            Objects.requireNonNull(rows, "rows");
            shape = Shapes.checkShape(shape, "tensor '" + name + "'").clone();
        }

        /** Its data bytes. */
        public long bytes() {
            return Math.multiplyExact(Shapes.size(shape), dtype.bytes());
        }

        /** A source of the entry {@code e}, whose row blocks are views of its bytes. */
        public static Source of(SafeTensors.Entry e) {
            long rowBytes = e.shape().length == 0 || e.shape()[0] == 0 ? 0 : e.data().remaining() / e.shape()[0];
            return new Source(e.name(), e.dtype(), e.shape(), (name, from, to) -> {
                if (from == 0 && (e.shape().length == 0 || to == e.shape()[0])) {
                    return new SafeTensors.Entry(name, e.dtype(), e.shape(), e.data().duplicate());
                }
                long[] shape = e.shape().clone();
                shape[0] = to - from;
                ByteBuffer view = e.data().duplicate().position((int) (from * rowBytes)).limit((int) (to * rowBytes))
                        .slice().order(ByteOrder.LITTLE_ENDIAN);
                return new SafeTensors.Entry(name, e.dtype(), shape, view);
            });
        }
    }

    /** One stored piece: rows [from, to) of a source, under its stored name. */
    private static final class Piece {
        final Source source;
        final long from;
        final long to;
        String name;

        Piece(Source source, long from, long to) {
            this.source = source;
            this.from = from;
            this.to = to;
            this.name = source.name();
        }

        long bytes() {
            long rows = source.shape().length == 0 ? 1 : source.shape()[0];
            return rows == 0 ? 0 : source.bytes() / rows * (to - from);
        }
    }

    /**
     * Where each tensor goes, decided (and checked) before anything is written: see
     * {@link #plan(String, String, List, Map, long)}.
     */
    public static final class Plan {
        private final String what;
        private final String stem;
        private final List<List<Piece>> shards;
        private final Map<String, List<String>> split;
        private final Map<String, String> metadata;

        private Plan(String what, String stem, List<List<Piece>> shards, Map<String, List<String>> split,
                     Map<String, String> metadata) {
            this.what = what;
            this.stem = stem;
            this.shards = shards;
            this.split = split;
            this.metadata = metadata;
        }

        /** True when the tensors go into shards under an index, false for one file. */
        public boolean sharded() {
            return shards.size() > 1;
        }

        /** The file names this plan writes: the single file, or the shards and the index. */
        public List<String> files() {
            if (!sharded()) {
                return List.of(single(stem));
            }
            List<String> out = new ArrayList<>();
            for (int i = 0; i < shards.size(); i++) {
                out.add(shard(stem, i + 1, shards.size()));
            }
            out.add(index(stem));
            return out;
        }

        /**
         * Writes the files into {@code staging}, deleting the single file, index and shards of this stem
         * that an earlier version left there, and returns the file that identifies the whole: the single
         * file, or the index (which records every shard's SHA-256).
         */
        public Path write(AtomicFolder.Staging staging) throws IOException {
            Pattern old = shardPattern(stem);
            try (Stream<Path> files = Files.list(staging.folder())) {
                for (Path f : files.toList()) {
                    String name = f.getFileName().toString();
                    if (name.equals(single(stem)) || name.equals(index(stem)) || old.matcher(name).matches()) {
                        staging.delete(name);
                    }
                }
            }
            if (!sharded()) {
                return writeShard(staging, single(stem), shards.isEmpty() ? List.of() : shards.get(0));
            }
            ObjectNode root = JSON.createObjectNode();
            ObjectNode meta = root.putObject("metadata");
            ObjectNode weightMap = JSON.createObjectNode();
            ObjectNode digests = JSON.createObjectNode();
            long total = 0;
            for (int i = 0; i < shards.size(); i++) {
                String file = shard(stem, i + 1, shards.size());
                Path written = writeShard(staging, file, shards.get(i));
                digests.put(file, Digests.sha256(written));
                for (Piece p : shards.get(i)) {
                    weightMap.put(p.name, file);
                    total += p.bytes();
                }
            }
            meta.put("total_size", total);
            meta.set("shards", digests);
            ObjectNode parts = meta.putObject("split_tensors");
            split.forEach((name, names) -> names.forEach(parts.putArray(name)::add));
            root.set("weight_map", weightMap);
            return staging.writeString(index(stem), JSON.writeValueAsString(root) + "\n");
        }

        private Path writeShard(AtomicFolder.Staging staging, String file, List<Piece> pieces) throws IOException {
            return staging.write(file, out -> {
                List<SafeTensors.Entry> entries = new ArrayList<>();
                for (Piece p : pieces) {
                    entries.add(p.source.rows().read(p.name, p.from, p.to));
                }
                SafeTensors.content(what + " (" + file + ")", entries, metadata).write(out);
            });
        }
    }

    /**
     * Decides where {@code tensors} go: one file {@code STEM.safetensors} when their data fit in
     * {@code maxShardBytes}, else shards of at most {@code maxShardBytes} data bytes each, splitting a
     * tensor larger than a shard into parts of whole rows. Each file's header carries {@code metadata}.
     *
     * @param what names the target in messages
     * @throws InvalidArgumentException for a name given twice, a shard size outside [1, 2 GiB) or a
     *                                  tensor whose single row (or whole, for a scalar) exceeds a shard
     */
    public static Plan plan(String what, String stem, List<Source> tensors, Map<String, String> metadata,
                            long maxShardBytes) {
        if (maxShardBytes < 1 || maxShardBytes > MAX_SHARD_BYTES) {
            throw InvalidArgumentException.of("maxShardBytes", maxShardBytes, "in [1, " + MAX_SHARD_BYTES + "]");
        }
        Set<String> names = new HashSet<>();
        long total = 0;
        for (Source s : tensors) {
            if (!names.add(s.name())) {
                throw new InvalidArgumentException(what + ": tensor name '" + s.name() + "' given twice");
            }
            total += s.bytes();
        }
        List<List<Piece>> shards = new ArrayList<>();
        Map<String, List<String>> split = new LinkedHashMap<>();
        List<Piece> current = new ArrayList<>();
        shards.add(current);
        if (total <= maxShardBytes) {
            tensors.forEach(s -> current.add(new Piece(s, 0, rows(s))));
            return new Plan(what, stem, shards, split, Map.copyOf(metadata));
        }
        long used = 0;
        for (Source s : tensors) {
            long bytes = s.bytes();
            if (bytes <= maxShardBytes - used || bytes <= maxShardBytes) {
                if (bytes > maxShardBytes - used) {
                    shards.add(new ArrayList<>());
                    used = 0;
                }
                shards.get(shards.size() - 1).add(new Piece(s, 0, rows(s)));
                used += bytes;
                continue;
            }
            if (s.shape().length == 0 || bytes / s.shape()[0] > maxShardBytes) {
                throw new InvalidArgumentException(what + ": tensor '" + s.name() + "' " + Shapes.format(s.shape())
                        + (s.shape().length == 0 ? " holds " + bytes : " has rows of " + bytes / s.shape()[0])
                        + " bytes, more than a shard's " + maxShardBytes);
            }
            long rowBytes = bytes / s.shape()[0];
            List<Piece> parts = new ArrayList<>();
            for (long at = 0; at < s.shape()[0];) {
                long fit = (maxShardBytes - used) / rowBytes;
                if (fit == 0) {
                    shards.add(new ArrayList<>());
                    used = 0;
                    continue;
                }
                long to = Math.min(s.shape()[0], at + fit);
                Piece p = new Piece(s, at, to);
                parts.add(p);
                shards.get(shards.size() - 1).add(p);
                used += (to - at) * rowBytes;
                at = to;
            }
            List<String> partNames = new ArrayList<>();
            for (int j = 0; j < parts.size(); j++) {
                parts.get(j).name = part(s.name(), j + 1, parts.size());
                partNames.add(parts.get(j).name);
            }
            split.put(s.name(), partNames);
        }
        shards.removeIf(List::isEmpty);
        return new Plan(what, stem, shards, split, Map.copyOf(metadata));
    }

    private static long rows(Source s) {
        return s.shape().length == 0 ? 1 : s.shape()[0];
    }

    // ---- reading ------------------------------------------------------------------------------

    /** True when {@code dir} holds the index of shards of {@code stem}. */
    public static boolean isSharded(Path dir, String stem) {
        return Files.exists(dir.resolve(index(stem)), LinkOption.NOFOLLOW_LINKS);
    }

    /**
     * The tensors of {@code stem} in {@code dir}: the shards under {@code STEM.safetensors.index.json}
     * when it exists, else the single file {@code STEM.safetensors}.
     *
     * @throws FormatException naming the file at fault, or both files when both exist
     */
    public static TensorStore read(Path dir, String stem) {
        Path single = dir.resolve(single(stem));
        if (!isSharded(dir, stem)) {
            return SafeTensors.read(single);
        }
        Path index = dir.resolve(index(stem));
        if (Files.exists(single, LinkOption.NOFOLLOW_LINKS)) {
            throw new FormatException(dir + ": holds both " + single.getFileName() + " and " + index.getFileName()
                    + "; one folder stores its tensors one way: remove the stale one");
        }
        return readIndex(index);
    }

    /** The file {@link #read} reads first: the index when it exists, else the single file. */
    public static Path mainFile(Path dir, String stem) {
        return dir.resolve(isSharded(dir, stem) ? index(stem) : single(stem));
    }

    /**
     * Reads the index {@code index} and every shard it names (in its folder), checking each shard's
     * SHA-256, that the shards hold exactly the tensors the index maps to them, the total size and
     * the parts of every split tensor.
     *
     * @throws FormatException naming the index or the shard at fault
     */
    public static ShardedSafeTensors readIndex(Path index) {
        FileKind.rejectSpecial(index);
        JsonNode root;
        try {
            root = JSON.readTree(Files.readString(index));
        } catch (NoSuchFileException e) {
            throw new FormatException(index + ": file not found", e);
        } catch (IOException e) {
            throw new FormatException(index + ": not valid JSON: " + e.getMessage(), e);
        }
        if (root == null || !root.isObject()) {
            throw new FormatException(index + ": expected a JSON object");
        }
        Json.requireOnly(root, List.of("metadata", "weight_map"), index, "");
        JsonNode meta = Json.requireObject(root, "metadata", index, "");
        Json.requireOnly(meta, List.of("total_size", "shards", "split_tensors"), index, "metadata");
        long totalSize = Json.requireLong(meta, "total_size", index, "metadata");
        Json.requireObject(meta, "shards", index, "metadata");
        Map<String, String> digests = Json.optionalStringMap(meta, "shards", index, "metadata");
        Json.requireObject(root, "weight_map", index, "");
        Map<String, String> weightMap = Json.optionalStringMap(root, "weight_map", index, "");
        Path dir = index.toAbsolutePath().getParent();
        Map<String, SafeTensors> shards = new LinkedHashMap<>();
        for (String file : new LinkedHashSet<>(weightMap.values())) {
            Path p = dir.resolve(file).normalize();
            if (!p.getParent().equals(dir.normalize()) || file.contains("/") || file.contains("\\")) {
                throw FormatException.of(index, "weight_map", "shard '" + file + "' must be a file name in the"
                        + " index's folder");
            }
            String recorded = digests.get(file);
            if (recorded == null) {
                throw FormatException.of(index, "metadata.shards", "no SHA-256 for shard " + file);
            }
            SafeTensors shard = SafeTensors.read(p);
            String actual = Digests.sha256(p);
            if (!actual.equals(recorded)) {
                throw FormatException.of(p, "sha256", "the shard's SHA-256 is " + actual + " but " + index.getFileName()
                        + " records " + recorded + " (damaged, or not written together with it)");
            }
            shards.put(file, shard);
        }
        for (String file : digests.keySet()) {
            if (!shards.containsKey(file)) {
                throw FormatException.of(index, "metadata.shards", "shard " + file + " holds no tensor of weight_map");
            }
        }
        long total = 0;
        for (Map.Entry<String, SafeTensors> s : shards.entrySet()) {
            for (String name : s.getValue().names()) {
                String mapped = weightMap.get(name);
                if (!s.getKey().equals(mapped)) {
                    throw FormatException.of(s.getValue().file(), "tensor '" + name + "'", mapped == null
                            ? "not in the weight_map of " + index.getFileName()
                            : "the weight_map of " + index.getFileName() + " places it in " + mapped);
                }
                total += s.getValue().get(name).data().remaining();
            }
        }
        for (Map.Entry<String, String> e : weightMap.entrySet()) {
            shards.get(e.getValue()).get(e.getKey());
        }
        if (total != totalSize) {
            throw FormatException.of(index, "metadata.total_size", totalSize + " but the shards hold " + total
                    + " data bytes");
        }
        Map<String, List<String>> split = splitTensors(index, meta);
        Map<String, String> partOf = new LinkedHashMap<>();
        split.forEach((name, parts) -> parts.forEach(p -> {
            if (partOf.put(p, name) != null || !weightMap.containsKey(p)) {
                throw FormatException.of(index, "metadata.split_tensors." + name, "part '" + p + "' is "
                        + (weightMap.containsKey(p) ? "listed twice" : "not in the weight_map"));
            }
        }));
        Map<String, List<Stored>> tensors = new LinkedHashMap<>();
        for (Map.Entry<String, String> e : weightMap.entrySet()) {
            String whole = partOf.get(e.getKey());
            if (whole == null) {
                if (tensors.containsKey(e.getKey())) {
                    throw FormatException.of(index, "weight_map", "'" + e.getKey() + "' is also a split tensor");
                }
                tensors.put(e.getKey(), List.of(new Stored(e.getKey(), shards.get(e.getValue()))));
            } else if (!tensors.containsKey(whole)) {
                List<Stored> parts = new ArrayList<>();
                for (String p : split.get(whole)) {
                    parts.add(new Stored(p, shards.get(weightMap.get(p))));
                }
                checkParts(index, whole, parts);
                tensors.put(whole, List.copyOf(parts));
            }
        }
        return new ShardedSafeTensors(index, tensors);
    }

    private static Map<String, List<String>> splitTensors(Path index, JsonNode meta) {
        Map<String, List<String>> out = new LinkedHashMap<>();
        if (!meta.has("split_tensors")) {
            return out;
        }
        JsonNode node = Json.requireObject(meta, "split_tensors", index, "metadata");
        for (Iterator<Map.Entry<String, JsonNode>> it = node.fields(); it.hasNext();) {
            Map.Entry<String, JsonNode> f = it.next();
            List<String> parts = new ArrayList<>();
            if (!f.getValue().isArray() || f.getValue().isEmpty()) {
                throw FormatException.of(index, "metadata.split_tensors." + f.getKey(), "expected a non-empty list"
                        + " of part names, found " + f.getValue());
            }
            f.getValue().forEach(p -> {
                if (!p.isTextual()) {
                    throw FormatException.of(index, "metadata.split_tensors." + f.getKey(), "part " + p
                            + " is not a name");
                }
                parts.add(p.asText());
            });
            out.put(f.getKey(), parts);
        }
        return out;
    }

    /** The parts of a split tensor share the dtype and every axis but the first. */
    private static void checkParts(Path index, String name, List<Stored> parts) {
        SafeTensors.Entry first = parts.get(0).entry();
        for (Stored p : parts) {
            SafeTensors.Entry e = p.entry();
            long[] a = Arrays.copyOfRange(first.shape(), 1, first.shape().length);
            long[] b = e.shape().length == 0 ? null : Arrays.copyOfRange(e.shape(), 1, e.shape().length);
            if (e.dtype() != first.dtype() || b == null || first.shape().length == 0 || !Arrays.equals(a, b)) {
                throw FormatException.of(p.shard().file(), "tensor '" + p.name() + "'", e.dtype().label() + " "
                        + Shapes.format(e.shape()) + " does not continue " + first.dtype().label() + " "
                        + Shapes.format(first.shape()) + " along axis 0 as a part of '" + name + "' ("
                        + index.getFileName() + ")");
            }
        }
    }

    @Override
    public Path file() {
        return index;
    }

    @Override
    public List<String> names() {
        return new ArrayList<>(tensors.keySet());
    }

    private List<Stored> stored(String name) {
        List<Stored> s = tensors.get(name);
        if (s == null) {
            throw new FormatException(index + ": tensor '" + name + "' is missing (the shards hold " + names() + ")");
        }
        return s;
    }

    private DType dtype(String name) {
        return stored(name).get(0).entry().dtype();
    }

    private long[] shape(String name) {
        List<Stored> parts = stored(name);
        long[] shape = parts.get(0).entry().shape().clone();
        for (int i = 1; i < parts.size(); i++) {
            shape[0] += parts.get(i).entry().shape()[0];
        }
        return shape;
    }

    @Override
    public ShardedSafeTensors require(String name) {
        stored(name);
        return this;
    }

    @Override
    public ShardedSafeTensors require(String name, DType dtype, long... shape) {
        requireType(name, dtype, shape);
        return this;
    }

    @Override
    public SafeTensors.Entry get(String name) {
        List<Stored> parts = stored(name);
        if (parts.size() == 1) {
            SafeTensors.Entry e = parts.get(0).entry();
            return new SafeTensors.Entry(name, e.dtype(), e.shape(), e.data());
        }
        long bytes = 0;
        for (Stored p : parts) {
            bytes += p.entry().data().remaining();
        }
        if (bytes > Integer.MAX_VALUE) {
            throw new FormatException(index + ": tensor '" + name + "' holds " + bytes + " bytes in " + parts.size()
                    + " parts, more than one entry's 2 GiB; read it as a tensor");
        }
        ByteBuffer all = ByteBuffer.allocate((int) bytes).order(ByteOrder.LITTLE_ENDIAN);
        parts.forEach(p -> all.put(p.entry().data().duplicate()));
        all.rewind();
        return new SafeTensors.Entry(name, dtype(name), shape(name), all);
    }

    @Override
    public SafeTensors.Entry get(String name, DType dtype, long... shape) {
        requireType(name, dtype, shape);
        return get(name);
    }

    private void requireType(String name, DType dtype, long[] shape) {
        DType d = dtype(name);
        long[] s = shape(name);
        if (d != dtype || !Arrays.equals(s, shape)) {
            throw new FormatException(index + ": tensor '" + name + "' has " + d.label() + " " + Shapes.format(s)
                    + ", expected " + dtype.label() + " " + Shapes.format(shape));
        }
    }

    /**
     * {@inheritDoc} A FLOAT32 tensor split into parts is concatenated on the host into one array of
     * up to 2^31 - 1 values; other split tensors must fit in one entry.
     */
    @Override
    public Tensor toTensor(String name, DType dtype, long[] shape, Backend backend) {
        requireType(name, dtype, shape);
        List<Stored> parts = stored(name);
        if (parts.size() == 1 || dtype != DType.FLOAT32) {
            return get(name).toTensor(backend);
        }
        long size = Shapes.size(shape);
        if (size > Integer.MAX_VALUE - 8) {
            throw new FormatException(index + ": tensor '" + name + "' " + Shapes.format(shape) + " holds more values"
                    + " than one Java array");
        }
        float[] all = new float[(int) size];
        int at = 0;
        for (Stored p : parts) {
            float[] v = p.entry().toFloats();
            System.arraycopy(v, 0, all, at, v.length);
            at += v.length;
        }
        return backend.of(all, shape);
    }

    @Override
    public ShardedSafeTensors requireFinite(String name, boolean logProbabilities) {
        for (Stored p : stored(name)) {
            p.shard().requireFinite(p.name(), logProbabilities);
        }
        return this;
    }
}
