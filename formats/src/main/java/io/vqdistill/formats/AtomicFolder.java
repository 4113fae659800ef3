package io.vqdistill.formats;

import io.vqdistill.api.FormatException;
import io.vqdistill.api.InvalidArgumentException;
import io.vqdistill.api.VqdistillException;
import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.charset.StandardCharsets;
import java.nio.file.AccessDeniedException;
import java.nio.file.DirectoryStream;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.FileTime;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Function;
import java.util.stream.Stream;

/**
 * Writes a folder of several files as one atomic unit: a reader sees the whole previous version or
 * the whole new one, never a mix, and a writer killed at any instant leaves the previous version
 * intact and readable.
 *
 * <h2>Protocol</h2>
 * For a folder {@code P/N}, everything happens in its parent {@code P}:
 * <ol>
 *   <li><b>Lock.</b> The writer takes an advisory lock ({@link FileChannel#tryLock()}) on
 *       {@code P/.N.lock}, records its pid there, and holds it until {@link Writer#close()}. A second
 *       writer, in this process or another, fails at once with a {@link VqdistillException} naming
 *       the folder and the holder's pid. The writer deletes the lock file before releasing it; a
 *       process that locked the deleted file notices that the path now names another file (or
 *       none) and tries again, so no two writers ever hold the same folder.</li>
 *   <li><b>Recover.</b> A folder left missing by a commit killed between its two renames is
 *       restored from {@code P/.N.old-*}, and the temporaries of killed writers
 *       ({@code P/.N.tmp-*}, {@code P/.N.old-*}) are deleted.</li>
 *   <li><b>Stage.</b> Each version is written into a fresh hidden sibling {@code P/.N.tmp-<unique>}
 *       (empty, or for {@link Writer#update} starting as a copy of the current version: hard links
 *       where the file system allows, else copies); every file and folder is forced to disk.</li>
 *   <li><b>Commit.</b> {@code N -> .N.old-<unique>} (when {@code N} exists), then
 *       {@code .N.tmp-<unique> -> N}, the parent is forced to disk, then the old version is
 *       deleted.</li>
 * </ol>
 *
 * <h2>After a kill</h2>
 * Killed while staging, or before the first rename: {@code N} is the previous version; the stale
 * temporary is deleted by the next writer. Killed between the renames: {@code N} is missing (or,
 * if someone made it since, an empty folder) and {@code .N.old-*} holds the previous version whole;
 * the next reader ({@link #read}) or writer renames it back (a reader that cannot lock, in a read-only folder or while a writer is active,
 * reads the old copy where it lies). Killed after the second rename: {@code N} is the new version and
 * the leftover old one is deleted by the next writer. Readers ignore every hidden sibling while
 * {@code N} exists.
 *
 * <h2>Readers</h2>
 * {@link #read} runs a reader on the folder's current version and checks that the folder was not
 * replaced while it read (its file key, i.e. device and inode, is unchanged); if it was, the result
 * is discarded (closed when {@link AutoCloseable}) and the read repeated, so a reader never returns
 * a mix of two versions. Files inside a committed version are never modified in place: a writer
 * that updates a version stages a new one.
 *
 * <h2>Fault injection</h2>
 * A {@link FaultHook} installed on the current thread ({@link #installFaultHook}) is called at every
 * rename boundary and may wrap the stream of every staged file. A hook that throws at a boundary
 * simulates a kill there: the writer stops at once and cleans nothing up, releasing only its lock
 * as the operating system would. A wrapped stream that throws an {@link IOException} simulates an
 * ordinary failure such as a full disk: the writer deletes its temporary and the previous version
 * stays.
 */
public final class AtomicFolder {
    private static final ThreadLocal<FaultHook> HOOK = new ThreadLocal<>();
    private static final AtomicLong COUNTER = new AtomicLong();
    private static final Map<Path, String> HELD = new ConcurrentHashMap<>();
    private static final int READ_ATTEMPTS = 8;

    private AtomicFolder() {
    }

    /** The points of a commit at which a {@link FaultHook} is called. */
    public enum Boundary {
        /** The new version is staged and on disk; nothing is renamed yet. */
        STAGED,
        /** The previous version was renamed to {@code .N.old-*}; the folder is missing. */
        MOVED_ASIDE,
        /** The new version was renamed to {@code N}; the previous version is not yet deleted. */
        COMMITTED,
        /** The previous version is deleted; the commit is complete. */
        CLEANED
    }

    /**
     * Fault injection for tests, installed on one thread with {@link #installFaultHook}. Not for
     * production use.
     */
    public interface FaultHook {
        /**
         * Called at {@code boundary} of a commit of {@code folder}. Throwing simulates a kill at that
         * instant: nothing is cleaned up, only the lock is released.
         */
        default void at(Boundary boundary, Path folder) {
        }

        /**
         * Wraps the stream that writes the staged file {@code file}; a stream that throws an
         * {@link IOException} simulates a failing disk (the writer then cleans up as after any I/O
         * error).
         */
        default OutputStream wrap(Path file, OutputStream out) {
            return out;
        }
    }

    /**
     * Installs {@code hook} on the calling thread until the returned handle is closed (which
     * restores the previous hook).
     */
    public static AutoCloseable installFaultHook(FaultHook hook) {
        FaultHook previous = HOOK.get();
        HOOK.set(Objects.requireNonNull(hook, "hook"));
        return new AutoCloseable() {
            @Override
            public void close() {
                if (previous == null) {
                    HOOK.remove();
                } else {
                    HOOK.set(previous);
                }
            }
        };
    }

    /** What stages a version: writes its files through {@code staging}. */
    @FunctionalInterface
    public interface Content {
        /** Writes the version's files; an {@link IOException} aborts the commit. */
        void write(Staging staging) throws IOException;
    }

    /**
     * The staging folder of one version. Names are relative paths inside the folder, such as
     * {@code config.json} or {@code resume/state.json}; missing subfolders are created.
     */
    public static final class Staging {
        private final Path root;

        private Staging(Path root) {
            this.root = root;
        }

        /** The staging folder itself (a hidden sibling of the target, renamed onto it on commit). */
        public Path folder() {
            return root;
        }

        /** The path of {@code name} in the staging folder; a name that leaves the folder is an error. */
        public Path resolve(String name) {
            Path p = root.resolve(name).normalize();
            if (!p.startsWith(root) || p.equals(root)) {
                throw new InvalidArgumentException("staged file name '" + name + "' must name a file inside the folder");
            }
            return p;
        }

        /** True when the version holds {@code name} (written, or carried over from the previous one). */
        public boolean exists(String name) {
            return Files.exists(resolve(name), LinkOption.NOFOLLOW_LINKS);
        }

        /**
         * Writes the file {@code name}, replacing a carried-over one (which is unlinked first, never
         * modified, since it may be a hard link to the committed version), and forces it to disk.
         */
        public Path write(String name, AtomicFiles.Writer writer) throws IOException {
            Path file = resolve(name);
            Files.createDirectories(file.getParent());
            if (Files.isDirectory(file, LinkOption.NOFOLLOW_LINKS)) {
                deleteTree(file);
            } else {
                Files.deleteIfExists(file);
            }
            FaultHook hook = HOOK.get();
            OutputStream raw = Files.newOutputStream(file, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE);
            if (hook != null) {
                raw = hook.wrap(file, raw);
            }
            try (OutputStream out = new BufferedOutputStream(raw, 1 << 16)) {
                writer.write(out);
            }
            force(file);
            return file;
        }

        /** Writes {@code content} as UTF-8 to the file {@code name}, as {@link #write}. */
        public Path writeString(String name, String content) throws IOException {
            return write(name, out -> out.write(content.getBytes(StandardCharsets.UTF_8)));
        }

        /** Removes the file or folder {@code name} from the version, if present. */
        public void delete(String name) throws IOException {
            Path p = resolve(name);
            if (Files.isDirectory(p, LinkOption.NOFOLLOW_LINKS)) {
                deleteTree(p);
            } else {
                Files.deleteIfExists(p);
            }
        }
    }

    // ---- one-shot writes ----------------------------------------------------------------------

    /**
     * Replaces folder {@code dir} by a version holding only what {@code content} writes: locks,
     * recovers, stages, commits, unlocks.
     *
     * @throws VqdistillException when another writer holds the folder or an I/O error stops the
     *                            write; the previous version is then intact
     */
    public static void write(Path dir, Content content) {
        try (Writer w = open(dir)) {
            w.replace(content);
        }
    }

    /**
     * Replaces folder {@code dir} by a version that starts as a copy of the current one (other
     * files are kept) and holds what {@code content} writes or deletes, as {@link #write}.
     */
    public static void update(Path dir, Content content) {
        try (Writer w = open(dir)) {
            w.update(content);
        }
    }

    /**
     * Takes the writer's lock on {@code dir} (creating its parent folder if missing), recovers an
     * interrupted commit and deletes the temporaries of killed writers. The caller commits any
     * number of versions and closes the writer.
     *
     * @throws VqdistillException naming the folder and the holder's pid when another writer holds
     *                            it
     */
    public static Writer open(Path dir) {
        return new Writer(target(dir));
    }

    /** The lock file of folder {@code dir}: {@code .<name>.lock} in its parent. */
    public static Path lockFile(Path dir) {
        Path t = target(dir);
        return t.getParent().resolve("." + t.getFileName() + ".lock");
    }

    /**
     * The writer of one folder: holds its lock from {@link AtomicFolder#open} until {@link #close()}
     * and commits versions one after another. Not thread-safe.
     */
    public static final class Writer implements AutoCloseable {
        private final Path dir;
        private final Path parent;
        private final String name;
        private Lock lock;
        private boolean crashed;

        private Writer(Path dir) {
            this.dir = dir;
            this.parent = dir.getParent();
            this.name = dir.getFileName().toString();
            try {
                Files.createDirectories(parent);
            } catch (IOException e) {
                throw new VqdistillException("cannot write " + dir + ": cannot create " + parent + ": " + e, e);
            }
            Lock l = Lock.tryAcquire(dir);
            if (l.lock == null) {
                throw new VqdistillException(dir + " is being written by another writer (" + l.holder
                        + "; lock " + l.file + "): wait for it to finish or choose another folder");
            }
            lock = l;
            try {
                if (Files.exists(dir) && !Files.isDirectory(dir)) {
                    throw new InvalidArgumentException(dir + " is a file, not a folder");
                }
                recoverLocked(dir);
                for (Path p : siblings(dir, ".tmp-")) {
                    deleteTree(p);
                }
                if (Files.isDirectory(dir)) {
                    for (Path p : siblings(dir, ".old-")) {
                        deleteTree(p);
                    }
                }
            } catch (IOException | RuntimeException e) {
                release();
                if (e instanceof VqdistillException v) {
                    throw v;
                }
                throw new VqdistillException("cannot write " + dir + ": recovering an interrupted write failed: "
                        + e, e);
            }
        }

        /** The folder written. */
        public Path folder() {
            return dir;
        }

        /** Commits a version holding only what {@code content} writes. */
        public void replace(Content content) {
            commit(false, content);
        }

        /**
         * Commits a version that starts as a copy of the current one: files {@code content} does not
         * write or delete are kept.
         */
        public void update(Content content) {
            commit(true, content);
        }

        private void commit(boolean carryOver, Content content) {
            if (lock == null) {
                throw new VqdistillException("cannot write " + dir + ": its writer is closed");
            }
            Path tmp = parent.resolve("." + name + ".tmp-" + unique());
            Path old = null;
            boolean movedAside = false;
            try {
                Files.createDirectory(tmp);
                if (carryOver && Files.isDirectory(dir)) {
                    copyTree(dir, tmp);
                }
                content.write(new Staging(tmp));
                forceTree(tmp);
                boundary(Boundary.STAGED);
                if (Files.exists(dir, LinkOption.NOFOLLOW_LINKS)) {
                    old = parent.resolve("." + name + ".old-" + unique());
                    Files.move(dir, old, StandardCopyOption.ATOMIC_MOVE);
                    movedAside = true;
                    boundary(Boundary.MOVED_ASIDE);
                }
                Files.move(tmp, dir, StandardCopyOption.ATOMIC_MOVE);
                movedAside = false;
                tmp = null;
                force(parent);
                boundary(Boundary.COMMITTED);
                if (old != null) {
                    try {
                        deleteTree(old);
                        force(parent);
                    } catch (IOException e) {
                        // the new version is committed; the next writer deletes what is left of the old one
                    }
                }
                boundary(Boundary.CLEANED);
            } catch (IOException | RuntimeException | Error e) {
                if (crashed) {
                    // a simulated kill: leave everything as it is, as a killed process would
                    release();
                    throw sneaky(e);
                }
                try {
                    if (movedAside && !Files.exists(dir, LinkOption.NOFOLLOW_LINKS)) {
                        Files.move(old, dir, StandardCopyOption.ATOMIC_MOVE);
                    }
                    if (tmp != null) {
                        deleteTree(tmp);
                    }
                } catch (IOException | RuntimeException cleanup) {
                    e.addSuppressed(cleanup);
                }
                if (e instanceof VqdistillException v) {
                    throw v;
                }
                if (e instanceof IOException io) {
                    throw new VqdistillException("cannot write " + dir + ": " + io + "; the previous version is"
                            + " intact", io);
                }
                throw sneaky(e);
            }
        }

        private void boundary(Boundary b) {
            FaultHook hook = HOOK.get();
            if (hook != null) {
                try {
                    hook.at(b, dir);
                } catch (RuntimeException | Error e) {
                    crashed = true;
                    throw e;
                }
            }
        }

        /** Deletes the lock file and releases the lock. */
        @Override
        public void close() {
            release();
        }

        private void release() {
            if (lock != null) {
                lock.release();
                lock = null;
            }
        }
    }

    // ---- reading ------------------------------------------------------------------------------

    /**
     * Runs {@code reader} on the current version of folder {@code dir} and returns its result. When
     * {@code dir} is missing because a commit was killed between its renames, the previous version
     * is restored (or, when the folder cannot be locked, read where it lies). When the folder is
     * replaced while {@code reader} runs, the result is discarded (closed if it is
     * {@link AutoCloseable}) and the read repeated. A missing folder without a recoverable version
     * is passed to {@code reader} as is, which reports it.
     */
    public static <T> T read(Path dir, Function<Path, T> reader) {
        Path d = target(dir);
        RuntimeException last = null;
        for (int attempt = 0; attempt < READ_ATTEMPTS; attempt++) {
            Source s = resolve(d);
            T result;
            try {
                result = reader.apply(s.path);
            } catch (RuntimeException e) {
                if (unchanged(s, d)) {
                    throw e;
                }
                last = e;
                continue;
            }
            if (unchanged(s, d)) {
                return result;
            }
            if (result instanceof AutoCloseable c) {
                try {
                    c.close();
                } catch (Exception ignored) {
                    // a discarded result of a read that raced a writer
                }
            }
        }
        throw new FormatException(d + ": the folder was replaced during each of " + READ_ATTEMPTS
                + " reads (a writer is committing repeatedly); try again", last);
    }

    /**
     * Completes the recovery of an interrupted commit of {@code dir}, when one is pending and the
     * folder can be locked, and returns the path of its current version ({@code dir} itself, or the
     * kept previous version when it cannot be restored now); {@code dir} when nothing is stored.
     */
    public static Path recover(Path dir) {
        return resolve(target(dir)).path;
    }

    /** True when folder {@code dir} holds a version, counting one a killed commit left to restore. */
    public static boolean exists(Path dir) {
        return Files.isDirectory(recover(dir));
    }

    private record Source(Path path, Object key) {
    }

    private static Source resolve(Path dir) {
        if (!vacant(dir)) {
            return new Source(dir, key(dir));
        }
        Path old;
        try {
            old = newest(siblings(dir, ".old-"));
        } catch (IOException e) {
            old = null;
        }
        if (old == null) {
            return new Source(dir, key(dir));
        }
        Lock l = Lock.tryAcquireQuietly(dir);
        if (l != null && l.lock != null) {
            try {
                recoverLocked(dir);
            } catch (IOException e) {
                // leave it for the next writer; read the kept version meanwhile
            } finally {
                l.release();
            }
            if (Files.isDirectory(dir)) {
                return new Source(dir, key(dir));
            }
        }
        return new Source(old, key(old));
    }

    /** True when {@code dir} is missing or an empty folder. */
    private static boolean vacant(Path dir) {
        if (!Files.exists(dir, LinkOption.NOFOLLOW_LINKS)) {
            return true;
        }
        if (!Files.isDirectory(dir, LinkOption.NOFOLLOW_LINKS)) {
            return false;
        }
        try (DirectoryStream<Path> s = Files.newDirectoryStream(dir)) {
            return !s.iterator().hasNext();
        } catch (IOException e) {
            return false;
        }
    }

    private static boolean unchanged(Source s, Path dir) {
        if (s.path.equals(dir)) {
            return Objects.equals(s.key, key(dir));
        }
        // a kept previous version is never modified: a read that completed from it is whole
        return Files.isDirectory(s.path);
    }

    private static Object key(Path p) {
        try {
            BasicFileAttributes a = Files.readAttributes(p, BasicFileAttributes.class);
            Object k = a.fileKey();
            return k != null ? k : List.of(a.creationTime(), a.lastModifiedTime());
        } catch (IOException e) {
            return null;
        }
    }

    /**
     * With the lock held: restores {@code dir} from the newest kept old version when it is missing
     * or an empty folder (one made by {@code mkdir -p} after the kill holds less than the version
     * the kill left aside).
     */
    private static void recoverLocked(Path dir) throws IOException {
        if (!vacant(dir)) {
            return;
        }
        Path old = newest(siblings(dir, ".old-"));
        if (old != null) {
            if (Files.isDirectory(dir, LinkOption.NOFOLLOW_LINKS)) {
                Files.delete(dir);
            }
            try {
                Files.move(old, dir, StandardCopyOption.ATOMIC_MOVE);
            } catch (FileAlreadyExistsException e) {
                return;
            }
            force(dir.getParent());
        }
    }

    // ---- the lock -----------------------------------------------------------------------------

    /**
     * The writer's lock. POSIX record locks belong to the process, and closing any channel on the
     * lock file releases them all, so this process never opens a lock file it holds: the files it
     * holds are kept in {@link #HELD}, with the holder's description for the message.
     */
    private static final class Lock {
        final Path file;
        final FileChannel channel;
        final FileLock lock;
        final String holder;

        private Lock(Path file, FileChannel channel, FileLock lock, String holder) {
            this.file = file;
            this.channel = channel;
            this.lock = lock;
            this.holder = holder;
        }

        static Lock tryAcquire(Path dir) {
            Path file = lockFile(dir);
            String me = "pid " + ProcessHandle.current().pid() + " since " + Instant.now();
            String here = HELD.putIfAbsent(file, me + ", thread " + Thread.currentThread().getName());
            if (here != null) {
                return new Lock(file, null, null, here + ", another writer in this process");
            }
            try {
                for (int attempt = 0; ; attempt++) {
                    Lock l = attempt(file, me);
                    if (l != null) {
                        if (l.lock == null) {
                            HELD.remove(file);
                        }
                        return l;
                    }
                    if (attempt == 100) {
                        throw new IOException("the lock file keeps being replaced");
                    }
                }
            } catch (IOException | RuntimeException e) {
                HELD.remove(file);
                throw new VqdistillException("cannot write " + dir + ": cannot lock " + file + ": " + e, e);
            }
        }

        /**
         * One try: the lock, a lock without {@code lock} naming the holder when it is held, or null
         * when the lock file was deleted or replaced meanwhile (by a holder finishing), to try again.
         * The file's identity (device and inode, by {@code stat}, which opens nothing) is the same
         * before the open and after the lock, so the lock is on the file the path names.
         */
        private static Lock attempt(Path file, String me) throws IOException {
            Object before = fileKey(file);
            if (before == null) {
                try {
                    Files.createFile(file);
                } catch (FileAlreadyExistsException e) {
                    // another process made it first
                }
                return null;
            }
            FileChannel ch = FileChannel.open(file, StandardOpenOption.READ, StandardOpenOption.WRITE);
            try {
                FileLock fl;
                try {
                    fl = ch.tryLock();
                } catch (OverlappingFileLockException e) {
                    fl = null;
                }
                if (fl == null) {
                    String holder = holder(ch);
                    ch.close();
                    return new Lock(file, null, null, holder);
                }
                if (!before.equals(fileKey(file))) {
                    ch.close();
                    return null;
                }
                ByteBuffer info = StandardCharsets.UTF_8.encode(me + "\n");
                ch.truncate(0);
                long at = 0;
                while (info.hasRemaining()) {
                    at += ch.write(info, at);
                }
                ch.force(true);
                return new Lock(file, ch, fl, null);
            } catch (IOException | RuntimeException e) {
                try {
                    ch.close();
                } catch (IOException suppressed) {
                    e.addSuppressed(suppressed);
                }
                throw e;
            }
        }

        private static Object fileKey(Path file) throws IOException {
            try {
                BasicFileAttributes a = Files.readAttributes(file, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
                return a.fileKey() != null ? a.fileKey() : file;
            } catch (NoSuchFileException e) {
                return null;
            }
        }

        /** The lock, or null when it cannot be had now (held, or the folder is read-only). */
        static Lock tryAcquireQuietly(Path dir) {
            try {
                Lock l = tryAcquire(dir);
                return l.lock != null ? l : null;
            } catch (VqdistillException e) {
                return null;
            }
        }

        private static String holder(FileChannel ch) throws IOException {
            ByteBuffer b = ByteBuffer.allocate(256);
            ch.read(b, 0);
            b.flip();
            String text = StandardCharsets.UTF_8.decode(b).toString().strip();
            return text.isEmpty() ? "holder unknown" : text;
        }

        /**
         * Deletes the lock file while still holding it, then releases it: a process that opened the
         * file before the deletion and locks it afterwards sees that the path no longer names it
         * and tries again.
         */
        void release() {
            try {
                if (lock != null) {
                    try {
                        Files.deleteIfExists(file);
                    } catch (IOException ignored) {
                        // a lock file that stays is harmless
                    }
                    lock.release();
                }
                if (channel != null) {
                    channel.close();
                }
            } catch (IOException ignored) {
                // closing releases the lock
            } finally {
                HELD.remove(file);
            }
        }
    }

    // ---- file helpers -------------------------------------------------------------------------

    private static Path target(Path dir) {
        Path t = dir.toAbsolutePath().normalize();
        if (t.getParent() == null || t.getFileName() == null) {
            throw new InvalidArgumentException("folder " + dir + " has no parent; choose a folder inside another");
        }
        if (Files.isSymbolicLink(t)) {
            try {
                t = t.toRealPath();
            } catch (IOException e) {
                // a dangling link: write it as given
            }
        }
        return t;
    }

    private static String unique() {
        return ProcessHandle.current().pid() + "-" + COUNTER.incrementAndGet() + "-"
                + Long.toHexString(ThreadLocalRandom.current().nextLong() & 0xffffffffL);
    }

    /** The hidden siblings {@code .N<kind>*} of {@code dir}. */
    private static List<Path> siblings(Path dir, String kind) throws IOException {
        String prefix = "." + dir.getFileName() + kind;
        List<Path> out = new ArrayList<>();
        try (DirectoryStream<Path> s = Files.newDirectoryStream(dir.getParent())) {
            for (Path p : s) {
                if (p.getFileName().toString().startsWith(prefix)) {
                    out.add(p);
                }
            }
        } catch (NoSuchFileException e) {
            return out;
        }
        return out;
    }

    private static Path newest(List<Path> paths) {
        return paths.stream().filter(Files::isDirectory).max(Comparator.comparing(AtomicFolder::modified))
                .orElse(null);
    }

    private static FileTime modified(Path p) {
        try {
            return Files.getLastModifiedTime(p);
        } catch (IOException e) {
            return FileTime.fromMillis(0);
        }
    }

    /** Recreates {@code from}'s tree under {@code to}: folders made, files hard-linked (or copied). */
    private static void copyTree(Path from, Path to) throws IOException {
        try (Stream<Path> s = Files.walk(from)) {
            for (Path p : (Iterable<Path>) s::iterator) {
                if (p.equals(from)) {
                    continue;
                }
                Path q = to.resolve(from.relativize(p).toString());
                if (Files.isSymbolicLink(p)) {
                    Files.copy(p, q, LinkOption.NOFOLLOW_LINKS);
                } else if (Files.isDirectory(p)) {
                    Files.createDirectories(q);
                } else {
                    try {
                        Files.createLink(q, p);
                    } catch (UnsupportedOperationException | FileSystemException e) {
                        Files.copy(p, q, StandardCopyOption.COPY_ATTRIBUTES);
                    }
                }
            }
        }
    }

    /** Deletes {@code root} and everything under it; a missing one is no error. */
    static void deleteTree(Path root) throws IOException {
        if (!Files.exists(root, LinkOption.NOFOLLOW_LINKS)) {
            return;
        }
        List<Path> all;
        try (Stream<Path> s = Files.walk(root)) {
            all = s.sorted(Comparator.reverseOrder()).toList();
        } catch (UncheckedIOException e) {
            throw e.getCause();
        }
        for (Path p : all) {
            Files.deleteIfExists(p);
        }
    }

    private static void forceTree(Path root) throws IOException {
        List<Path> dirs = new ArrayList<>();
        try (Stream<Path> s = Files.walk(root)) {
            for (Path p : (Iterable<Path>) s::iterator) {
                if (Files.isSymbolicLink(p)) {
                    continue;
                }
                if (Files.isDirectory(p)) {
                    dirs.add(p);
                } else {
                    force(p);
                }
            }
        }
        dirs.sort(Comparator.reverseOrder());
        for (Path d : dirs) {
            force(d);
        }
    }

    /** Forces a file or folder to disk; folders where the platform cannot open them are skipped. */
    private static void force(Path p) throws IOException {
        boolean dir = Files.isDirectory(p);
        try (FileChannel ch = FileChannel.open(p, dir ? StandardOpenOption.READ : StandardOpenOption.WRITE)) {
            ch.force(true);
        } catch (AccessDeniedException e) {
            if (!dir) {
                try (FileChannel ch = FileChannel.open(p, StandardOpenOption.READ)) {
                    ch.force(true);
                }
            }
        } catch (IOException e) {
            if (!dir) {
                throw e;
            }
            // some platforms cannot open or force a folder; the renames are then as durable as they allow
        }
    }

    @SuppressWarnings("unchecked")
    private static <E extends Throwable> RuntimeException sneaky(Throwable e) throws E {
        throw (E) e;
    }
}
