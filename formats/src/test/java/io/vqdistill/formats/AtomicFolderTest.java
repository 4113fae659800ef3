package io.vqdistill.formats;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.vqdistill.api.InvalidArgumentException;
import io.vqdistill.api.VqdistillException;
import java.io.BufferedReader;
import java.io.FilterOutputStream;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Whole-folder atomicity: a kill at every rename boundary (simulated in this JVM and real, in a
 * second process), a full disk, a failing writer, two writers at once (threads and processes), and
 * readers racing a commit. After each, the folder holds one whole version and the next write works.
 */
class AtomicFolderTest {
    @TempDir
    Path tmp;

    /** Thrown by a fault hook: a kill at a boundary. */
    static final class Killed extends RuntimeException {
        private static final long serialVersionUID = 1L;

        Killed(AtomicFolder.Boundary at) {
            super("killed at " + at);
        }
    }

    static AutoCloseable killAt(AtomicFolder.Boundary at) {
        return AtomicFolder.installFaultHook(new AtomicFolder.FaultHook() {
            @Override
            public void at(AtomicFolder.Boundary boundary, Path folder) {
                if (boundary == at) {
                    throw new Killed(at);
                }
            }
        });
    }

    /** A fault hook whose staged files fail with "No space left on device" after {@code bytes} bytes. */
    static AutoCloseable diskFullAfter(long bytes) {
        return AtomicFolder.installFaultHook(new AtomicFolder.FaultHook() {
            @Override
            public OutputStream wrap(Path file, OutputStream out) {
                return new FilterOutputStream(out) {
                    private long written;

                    @Override
                    public void write(int b) throws IOException {
                        if (++written > bytes) {
                            throw new IOException("No space left on device");
                        }
                        out.write(b);
                    }

                    @Override
                    public void write(byte[] b, int off, int len) throws IOException {
                        for (int i = 0; i < len; i++) {
                            write(b[off + i]);
                        }
                    }
                };
            }
        });
    }

    static void writeVersion(Path dir, String version) {
        AtomicFolder.write(dir, s -> {
            s.writeString("a.txt", version);
            s.writeString("sub/b.txt", version);
        });
    }

    /** The version in {@code dir}, read through {@link AtomicFolder#read}; both files must agree. */
    static String readVersion(Path dir) {
        return AtomicFolder.read(dir, d -> {
            try {
                String a = Files.readString(d.resolve("a.txt"));
                String b = Files.readString(d.resolve("sub/b.txt"));
                assertThat(b).as("sub/b.txt beside a.txt").isEqualTo(a);
                return a;
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        });
    }

    /** The hidden siblings of {@code dir}, including its lock file. */
    static List<String> leftovers(Path dir) throws IOException {
        try (Stream<Path> s = Files.list(dir.getParent())) {
            return s.map(p -> p.getFileName().toString())
                    .filter(n -> n.startsWith("." + dir.getFileName() + ".")).toList();
        }
    }

    @Test
    void writesReplacesAndUpdatesAWholeFolder() throws IOException {
        Path dir = tmp.resolve("runs").resolve("circuit");
        writeVersion(dir, "v1");
        assertThat(readVersion(dir)).isEqualTo("v1");
        AtomicFolder.write(dir, s -> s.writeString("a.txt", "only"));
        assertThat(dir.resolve("sub")).doesNotExist();
        assertThat(Files.readString(dir.resolve("a.txt"))).isEqualTo("only");

        writeVersion(dir, "v2");
        Files.writeString(dir.resolve("notes.md"), "the user's own file");
        AtomicFolder.update(dir, s -> {
            // the committed version is untouched while the next one is staged over hard links to it
            s.writeString("a.txt", "v3");
            s.writeString("sub/b.txt", "v3");
            assertThat(Files.readString(dir.resolve("a.txt"))).isEqualTo("v2");
            assertThat(s.exists("notes.md")).isTrue();
        });
        assertThat(readVersion(dir)).isEqualTo("v3");
        assertThat(Files.readString(dir.resolve("notes.md"))).isEqualTo("the user's own file");
        AtomicFolder.update(dir, s -> s.delete("sub"));
        assertThat(dir.resolve("sub")).doesNotExist();
        assertThat(leftovers(dir)).isEmpty();
        assertThat(AtomicFolder.lockFile(dir)).hasFileName(".circuit.lock").doesNotExist();
        // (only stat it: opening and closing a lock file this process holds would drop the lock)
        AtomicFolder.update(dir, s -> assertThat(Files.isRegularFile(AtomicFolder.lockFile(dir))).isTrue());
        assertThat(AtomicFolder.lockFile(dir)).doesNotExist();
    }

    /** In-process kill at each boundary: the previous (or, once renamed, the new) version is whole. */
    @ParameterizedTest
    @EnumSource(AtomicFolder.Boundary.class)
    void aKillAtEveryBoundaryLeavesOneWholeVersionAndTheNextWriteSucceeds(AtomicFolder.Boundary at)
            throws Exception {
        Path dir = tmp.resolve("out");
        writeVersion(dir, "v1");
        try (AutoCloseable hook = killAt(at)) {
            assertThatThrownBy(() -> writeVersion(dir, "v2")).isInstanceOf(Killed.class);
        }
        boolean renamed = at == AtomicFolder.Boundary.COMMITTED || at == AtomicFolder.Boundary.CLEANED;
        assertThat(Files.isDirectory(dir)).isEqualTo(at != AtomicFolder.Boundary.MOVED_ASIDE);
        assertThat(readVersion(dir)).isEqualTo(renamed ? "v2" : "v1");
        // the reader restored the version a kill between the renames left aside
        assertThat(Files.isDirectory(dir)).isTrue();
        writeVersion(dir, "v3");
        assertThat(readVersion(dir)).isEqualTo("v3");
        assertThat(leftovers(dir)).isEmpty();
    }

    /** A writer, not a reader, recovers too: it restores and then replaces the kept version. */
    @Test
    void theNextWriterRecoversAKillBetweenTheRenames() throws Exception {
        Path dir = tmp.resolve("out");
        writeVersion(dir, "v1");
        try (AutoCloseable hook = killAt(AtomicFolder.Boundary.MOVED_ASIDE)) {
            assertThatThrownBy(() -> writeVersion(dir, "v2")).isInstanceOf(Killed.class);
        }
        assertThat(dir).doesNotExist();
        assertThat(leftovers(dir)).hasSize(2).anyMatch(n -> n.startsWith(".out.old-"))
                .anyMatch(n -> n.startsWith(".out.tmp-"));
        assertThat(AtomicFolder.exists(dir)).isTrue();
        try (AutoCloseable hook = killAt(AtomicFolder.Boundary.MOVED_ASIDE)) {
            assertThatThrownBy(() -> writeVersion(dir, "v2")).isInstanceOf(Killed.class);
        }
        AtomicFolder.update(dir, s -> {
            assertThat(Files.readString(s.resolve("a.txt"))).isEqualTo("v1");
            s.writeString("a.txt", "v3");
            s.writeString("sub/b.txt", "v3");
        });
        assertThat(readVersion(dir)).isEqualTo("v3");
        assertThat(leftovers(dir)).isEmpty();
    }

    /** An empty folder made after a kill between the renames (mkdir -p) does not hide the kept version. */
    @Test
    void anEmptyFolderMadeAfterAKillDoesNotHideTheKeptVersion() throws Exception {
        Path dir = tmp.resolve("out");
        writeVersion(dir, "v1");
        try (AutoCloseable hook = killAt(AtomicFolder.Boundary.MOVED_ASIDE)) {
            assertThatThrownBy(() -> writeVersion(dir, "v2")).isInstanceOf(Killed.class);
        }
        Files.createDirectories(dir);
        assertThat(readVersion(dir)).isEqualTo("v1");
        try (AutoCloseable hook = killAt(AtomicFolder.Boundary.MOVED_ASIDE)) {
            assertThatThrownBy(() -> writeVersion(dir, "v2")).isInstanceOf(Killed.class);
        }
        Files.createDirectories(dir);
        AtomicFolder.update(dir, s -> assertThat(s.exists("sub/b.txt")).isTrue());
        assertThat(readVersion(dir)).isEqualTo("v1");
        assertThat(leftovers(dir)).isEmpty();
    }

    /** A reader during a commit sees the previous version whole, then the new one. */
    @Test
    void readersDuringACommitSeeOneWholeVersion() {
        Path dir = tmp.resolve("out");
        writeVersion(dir, "v1");
        List<String> seen = new ArrayList<>();
        try (AutoCloseable hook = AtomicFolder.installFaultHook(new AtomicFolder.FaultHook() {
            @Override
            public void at(AtomicFolder.Boundary boundary, Path folder) {
                // the writer holds the lock, so a reader between the renames reads the kept version in place
                seen.add(boundary + "=" + readVersion(dir));
            }
        })) {
            writeVersion(dir, "v2");
        } catch (Exception e) {
            throw new AssertionError(e);
        }
        assertThat(seen).containsExactly("STAGED=v1", "MOVED_ASIDE=v1", "COMMITTED=v2", "CLEANED=v2");
    }

    /** A folder replaced while a reader reads it is read again; the mixed result is discarded and closed. */
    @Test
    void aReadThatRacesACommitIsRepeatedAndNeverMixesVersions() {
        Path dir = tmp.resolve("out");
        writeVersion(dir, "v1");
        AtomicInteger calls = new AtomicInteger();
        List<String> closed = new ArrayList<>();
        record Pair(String a, String b, List<String> closed) implements AutoCloseable {
            @Override
            public void close() {
                closed.add(a + "/" + b);
            }
        }
        Pair p = AtomicFolder.read(dir, d -> {
            try {
                String a = Files.readString(d.resolve("a.txt"));
                if (calls.incrementAndGet() == 1) {
                    writeVersion(dir, "v2");
                }
                return new Pair(a, Files.readString(d.resolve("sub/b.txt")), closed);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        });
        assertThat(calls).hasValue(2);
        assertThat(closed).containsExactly("v1/v2");
        assertThat(p.a()).isEqualTo("v2");
        assertThat(p.b()).isEqualTo("v2");
    }

    @Test
    void aFullDiskKeepsThePreviousVersionAndLeavesNoTemporary() throws Exception {
        Path dir = tmp.resolve("out");
        writeVersion(dir, "v1");
        try (AutoCloseable hook = diskFullAfter(1)) {
            assertThatThrownBy(() -> writeVersion(dir, "v2")).isInstanceOf(VqdistillException.class)
                    .hasMessageContaining(dir.toString()).hasMessageContaining("No space left on device")
                    .hasMessageContaining("previous version is intact");
        }
        assertThat(readVersion(dir)).isEqualTo("v1");
        assertThat(leftovers(dir)).isEmpty();
        assertThatThrownBy(() -> AtomicFolder.write(dir, s -> {
            s.writeString("a.txt", "v2");
            throw new IllegalStateException("the writer failed");
        })).isInstanceOf(IllegalStateException.class).hasMessage("the writer failed");
        assertThat(readVersion(dir)).isEqualTo("v1");
        assertThat(leftovers(dir)).isEmpty();
        writeVersion(dir, "v2");
        assertThat(readVersion(dir)).isEqualTo("v2");
    }

    @Test
    void staleTemporariesOfKilledWritersAreDeletedByTheNextWriter() throws IOException {
        Path dir = tmp.resolve("out");
        writeVersion(dir, "v1");
        Files.createDirectories(tmp.resolve(".out.tmp-1-1-dead").resolve("sub"));
        Files.writeString(tmp.resolve(".out.tmp-1-1-dead").resolve("sub").resolve("b.txt"), "half");
        Files.createDirectories(tmp.resolve(".out.old-1-2-dead"));
        Files.createDirectories(tmp.resolve(".outside.tmp-1-1-other"));
        assertThat(readVersion(dir)).isEqualTo("v1");
        writeVersion(dir, "v2");
        assertThat(leftovers(dir)).isEmpty();
        assertThat(tmp.resolve(".outside.tmp-1-1-other")).as("another folder's temporary").exists();
    }

    @Test
    void namesWithGlobCharactersAndMissingParentsWork() {
        Path dir = tmp.resolve("a b").resolve("c[1]{x}*?");
        writeVersion(dir, "v1");
        writeVersion(dir, "v2");
        assertThat(readVersion(dir)).isEqualTo("v2");
    }

    @Test
    void aFileInPlaceOfTheFolderOrAnEscapingNameIsAnError() throws IOException {
        Path file = Files.writeString(tmp.resolve("file"), "x");
        assertThatThrownBy(() -> writeVersion(file, "v1")).isInstanceOf(InvalidArgumentException.class)
                .hasMessageContaining(file + " is a file, not a folder");
        Path dir = tmp.resolve("out");
        assertThatThrownBy(() -> AtomicFolder.write(dir, s -> s.writeString("../escape.txt", "x")))
                .isInstanceOf(InvalidArgumentException.class).hasMessageContaining("../escape.txt");
        assertThat(tmp.resolve("escape.txt")).doesNotExist();
    }

    // ---- one writer per folder ----------------------------------------------------------------

    @Test
    void aSecondWriterInThisProcessFailsAtOnceNamingTheFolderAndPid() throws Exception {
        Path dir = tmp.resolve("out");
        long pid = ProcessHandle.current().pid();
        try (AtomicFolder.Writer first = AtomicFolder.open(dir)) {
            assertThatThrownBy(() -> AtomicFolder.open(dir)).isInstanceOf(VqdistillException.class)
                    .hasMessageContaining(dir + " is being written by another writer")
                    .hasMessageContaining("pid " + pid).hasMessageContaining("this process");
            // from another thread, as the JVM's OverlappingFileLockException would say
            CompletableFuture<Throwable> other = CompletableFuture.supplyAsync(() -> {
                try {
                    writeVersion(dir, "v2");
                    return null;
                } catch (Throwable t) {
                    return t;
                }
            });
            assertThat(other.get(30, TimeUnit.SECONDS)).isInstanceOf(VqdistillException.class)
                    .hasMessageContaining("is being written by another writer");
            // failed attempts must not release the holder's lock: another process still sees it held
            Process probe = child("hold", dir.toString());
            assertThat(probe.waitFor(60, TimeUnit.SECONDS)).isTrue();
            String out = new String(probe.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            assertThat(out).contains("is being written by another writer").contains("pid " + pid);
            first.replace(s -> s.writeString("a.txt", "mine"));
        }
        writeVersion(dir, "v3");
        assertThat(readVersion(dir)).isEqualTo("v3");
    }

    @Test
    void aSecondWriterInAnotherProcessFailsAtOnceNamingItsPid() throws Exception {
        Path dir = tmp.resolve("out");
        writeVersion(dir, "v1");
        Process holder = child("hold", dir.toString());
        try {
            BufferedReader lines = new BufferedReader(new InputStreamReader(holder.getInputStream(),
                    StandardCharsets.UTF_8));
            assertThat(lines.readLine()).isEqualTo("locked");
            assertThatThrownBy(() -> writeVersion(dir, "v2")).isInstanceOf(VqdistillException.class)
                    .hasMessageContaining(dir + " is being written by another writer")
                    .hasMessageContaining("pid " + holder.pid())
                    .hasMessageContaining(AtomicFolder.lockFile(dir).toString());
            assertThat(readVersion(dir)).as("readers need no lock").isEqualTo("v1");
        } finally {
            holder.getOutputStream().close();
            assertThat(holder.waitFor(60, TimeUnit.SECONDS)).isTrue();
        }
        writeVersion(dir, "v2");
        assertThat(readVersion(dir)).isEqualTo("v2");
    }

    // ---- real kills ---------------------------------------------------------------------------

    /** A second JVM halted (no cleanup, as by SIGKILL) at each boundary of its commit. */
    @ParameterizedTest
    @EnumSource(AtomicFolder.Boundary.class)
    void aProcessKilledAtEveryBoundaryLeavesOneWholeVersion(AtomicFolder.Boundary at) throws Exception {
        Path dir = tmp.resolve("out");
        writeVersion(dir, "v1");
        Process p = child("halt", at.name(), dir.toString(), "v2");
        assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
        assertThat(p.exitValue()).as(new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8))
                .isEqualTo(AtomicFolderChild.HALTED);
        boolean renamed = at == AtomicFolder.Boundary.COMMITTED || at == AtomicFolder.Boundary.CLEANED;
        assertThat(readVersion(dir)).isEqualTo(renamed ? "v2" : "v1");
        writeVersion(dir, "v3");
        assertThat(readVersion(dir)).isEqualTo("v3");
        assertThat(leftovers(dir)).isEmpty();
    }

    /** Starts {@link AtomicFolderChild} with {@code args} on this test's class path. */
    static Process child(String... args) throws IOException {
        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-cp", System.getProperty("surefire.test.class.path", System.getProperty("java.class.path")),
                AtomicFolderChild.class.getName()));
        cmd.addAll(List.of(args));
        return new ProcessBuilder(cmd).redirectErrorStream(true).start();
    }

    @Test
    void aKilledWriterReleasesItsLock() throws Exception {
        Path dir = tmp.resolve("out");
        AtomicBoolean killed = new AtomicBoolean();
        try (AutoCloseable hook = killAt(AtomicFolder.Boundary.STAGED)) {
            assertThatThrownBy(() -> writeVersion(dir, "v1")).isInstanceOf(Killed.class);
            killed.set(true);
        }
        assertThat(killed).isTrue();
        assertThat(dir).doesNotExist();
        writeVersion(dir, "v1");
        assertThat(readVersion(dir)).isEqualTo("v1");
    }
}
