package io.vqdistill.formats;

import io.vqdistill.api.FormatException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;

/** Digests of files, which circuit folders and shard indexes record to detect damaged or replaced files. */
public final class Digests {
    private Digests() {
    }

    /**
     * The SHA-256 of {@code file}'s bytes, as 64 lower-case hexadecimal digits.
     *
     * @throws FormatException naming the file when it is missing, special or unreadable
     */
    public static String sha256(Path file) {
        FileKind.rejectSpecial(file);
        try (InputStream in = Files.newInputStream(file)) {
            MessageDigest md = MessageDigest.getInstance("SHA-256");
            byte[] buf = new byte[1 << 16];
            for (int n = in.read(buf); n >= 0; n = in.read(buf)) {
                md.update(buf, 0, n);
            }
            return HexFormat.of().formatHex(md.digest());
        } catch (NoSuchFileException e) {
            throw new FormatException(file + ": file not found", e);
        } catch (IOException e) {
            throw new FormatException(file + ": cannot read: " + e.getMessage(), e);
        } catch (NoSuchAlgorithmException e) {
            throw new AssertionError("every JVM provides SHA-256", e);
        }
    }
}
