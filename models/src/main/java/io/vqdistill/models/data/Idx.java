package io.vqdistill.models.data;

import io.vqdistill.api.FormatException;
import io.vqdistill.formats.FileKind;
import java.io.BufferedInputStream;
import java.io.DataInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.security.DigestInputStream;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.zip.GZIPInputStream;
import java.util.zip.ZipException;

/**
 * Reads IDX files, the format of the MNIST distribution: a 4-byte magic number (two zero bytes, a
 * type code, the number of dimensions), one big-endian 32-bit length per dimension, then the
 * elements in row-major order. Only unsigned bytes (type code 0x08) are supported, which is what
 * every image and label file of MNIST holds. A file starting with the gzip signature is
 * decompressed on the fly, whatever its name.
 *
 * <p>Every defect is a {@link FormatException} naming the file, the field and the value: a wrong
 * magic number or type code, a negative or oversized dimension, a truncated file or trailing bytes.
 */
public final class Idx {
    /** The type code of unsigned bytes. */
    public static final int TYPE_UNSIGNED_BYTE = 0x08;

    private static final int MAX_ELEMENTS = Integer.MAX_VALUE - 8;

    private Idx() {
    }

    /** Reads a whole IDX file of unsigned bytes, raw or gzip-compressed. */
    public static IdxArray read(Path file) {
        FileKind.rejectSpecial(file);
        MessageDigest sha;
        try {
            sha = MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new AssertionError("every Java platform has SHA-256", e);
        }
        try (InputStream raw = new BufferedInputStream(Files.newInputStream(file), 1 << 16)) {
            raw.mark(2);
            int b0 = raw.read();
            int b1 = raw.read();
            raw.reset();
            boolean gzip = b0 == 0x1f && b1 == 0x8b;
            InputStream plain = gzip ? new BufferedInputStream(new GZIPInputStream(raw, 1 << 16), 1 << 16) : raw;
            try (DataInputStream in = new DataInputStream(new DigestInputStream(plain, sha))) {
                return read(file, in, sha);
            }
        } catch (NoSuchFileException e) {
            throw FormatException.of(file, "file", "not found");
        } catch (ZipException e) {
            throw FormatException.of(file, "gzip stream", "corrupt (" + e.getMessage() + ")");
        } catch (EOFException e) {
            throw FormatException.of(file, "gzip stream", "ends before the IDX data is complete (truncated file)");
        } catch (IOException e) {
            throw new FormatException(file + ": cannot read: " + e.getMessage(), e);
        }
    }

    private static IdxArray read(Path file, DataInputStream in, MessageDigest sha) throws IOException {
        byte[] magic = in.readNBytes(4);
        if (magic.length < 4) {
            throw FormatException.of(file, "magic number", "file has only " + magic.length
                    + " bytes, an IDX file starts with 4");
        }
        if (magic[0] != 0 || magic[1] != 0) {
            throw FormatException.of(file, "magic number", String.format("0x%02x%02x%02x%02x does not start with two"
                    + " zero bytes (not an IDX file)", magic[0], magic[1], magic[2], magic[3]));
        }
        int type = magic[2] & 0xFF;
        if (type != TYPE_UNSIGNED_BYTE) {
            throw FormatException.of(file, "magic number", String.format("type code 0x%02x is not supported, only"
                    + " 0x08 (unsigned byte)", type));
        }
        int rank = magic[3] & 0xFF;
        if (rank == 0) {
            throw FormatException.of(file, "magic number", "number of dimensions is 0");
        }
        byte[] header = in.readNBytes(4 * rank);
        if (header.length < 4 * rank) {
            throw FormatException.of(file, "dimensions", "file ends after " + (4 + header.length) + " bytes, the header"
                    + " of " + rank + " dimensions needs " + (4 + 4 * rank));
        }
        int[] dims = new int[rank];
        long size = 1;
        for (int i = 0; i < rank; i++) {
            dims[i] = ((header[4 * i] & 0xFF) << 24) | ((header[4 * i + 1] & 0xFF) << 16)
                    | ((header[4 * i + 2] & 0xFF) << 8) | (header[4 * i + 3] & 0xFF);
            if (dims[i] < 0) {
                throw FormatException.of(file, "dimension " + i, "length " + Integer.toUnsignedLong(dims[i])
                        + " is too large");
            }
            size *= dims[i];
            if (size > MAX_ELEMENTS) {
                throw FormatException.of(file, "dimension " + i, "the dimensions " + describe(dims, i + 1)
                        + " hold more than " + MAX_ELEMENTS + " elements");
            }
        }
        byte[] data = in.readNBytes((int) size);
        if (data.length < size) {
            throw FormatException.of(file, "data", "truncated: dimensions " + describe(dims, rank) + " need " + size
                    + " bytes after the header, found " + data.length);
        }
        long trailing = 0;
        while (in.read() >= 0) {
            trailing++;
            trailing += in.skip(Long.MAX_VALUE);
        }
        if (trailing > 0) {
            throw FormatException.of(file, "data", trailing + " bytes follow the " + size + " elements of dimensions "
                    + describe(dims, rank) + " (wrong dimensions or a corrupt file)");
        }
        return new IdxArray(dims, data, HexFormat.of().formatHex(sha.digest()));
    }

    private static String describe(int[] dims, int n) {
        StringBuilder s = new StringBuilder("[");
        for (int i = 0; i < n; i++) {
            s.append(i == 0 ? "" : ", ").append(dims[i]);
        }
        return s.append(']').toString();
    }
}
