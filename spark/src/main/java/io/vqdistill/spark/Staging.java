package io.vqdistill.spark;

import io.vqdistill.api.InvalidArgumentException;
import java.io.IOException;
import java.io.Serializable;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.stream.Stream;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileSystem;

/**
 * Brings checkpoint folders, circuit folders and data folders from any Hadoop-compatible location
 * (HDFS, S3A, GCS, ABFS, a plain local path ...) to a local temporary folder of the process, through
 * the Hadoop {@link FileSystem} API, because the networks, circuits and IDX files are read with
 * {@code java.nio}. Each location is copied once per JVM (driver or executor) and the copies are
 * deleted when the JVM exits. The Hadoop configuration travels to the executors as its key-value pairs.
 */
final class Staging implements Serializable {
    private static final long serialVersionUID = 1L;
    private static final Map<String, Path> STAGED = new ConcurrentHashMap<>();
    private static Path root;

    private final Map<String, String> hadoop;

    private Staging(Map<String, String> hadoop) {
        this.hadoop = hadoop;
    }

    /** Staging with the pairs of {@code configuration} (e.g. the Spark context's Hadoop configuration). */
    static Staging of(Configuration configuration) {
        Map<String, String> pairs = new HashMap<>();
        configuration.forEach(e -> pairs.put(e.getKey(), e.getValue()));
        return new Staging(pairs);
    }

    /**
     * The local copy of {@code location} (a folder or a file), copied on the first call in this JVM.
     *
     * @param flag the option that named it, for messages
     * @throws InvalidArgumentException when the location does not exist or cannot be read, naming the
     *                                  flag, the location and the reason
     */
    Path local(String flag, String location) {
        return STAGED.computeIfAbsent(location, l -> copy(flag, l));
    }

    private Path copy(String flag, String location) {
        Configuration conf = new Configuration(false);
        hadoop.forEach(conf::set);
        org.apache.hadoop.fs.Path source = new org.apache.hadoop.fs.Path(location);
        try {
            FileSystem fs = source.getFileSystem(conf);
            if (!fs.exists(source)) {
                throw new InvalidArgumentException(flag + " " + location + ": no such file or folder");
            }
            Path target = Files.createTempDirectory(root(), "staged").resolve(source.getName().isEmpty() ? "root"
                    : source.getName());
            fs.copyToLocalFile(false, source, new org.apache.hadoop.fs.Path(target.toUri()), true);
            return target;
        } catch (IOException e) {
            throw new InvalidArgumentException(flag + " " + location + ": cannot be read (" + e.getMessage() + ")", e);
        }
    }

    private static synchronized Path root() throws IOException {
        if (root == null) {
            Path dir = Files.createTempDirectory("vqdistill-spark");
            Runtime.getRuntime().addShutdownHook(new Thread(() -> delete(dir), "vqdistill-staging-cleanup"));
            root = dir;
        }
        return root;
    }

    private static void delete(Path dir) {
        try (Stream<Path> all = Files.walk(dir)) {
            all.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
