package io.vqdistill.models.data;

import java.util.Arrays;

/**
 * The content of one IDX file of unsigned bytes (type code 0x08): its dimensions and its elements
 * in row-major order, as read from disk.
 */
public final class IdxArray {
    private final int[] dims;
    private final byte[] data;
    private final String sha256;

    /**
     * @param dims   the dimensions, each >= 0, product = {@code data.length}
     * @param data   the elements in row-major order; read as unsigned 0..255
     * @param sha256 lower-case hex SHA-256 of the uncompressed file content
     */
    IdxArray(int[] dims, byte[] data, String sha256) {
        this.dims = dims.clone();
        this.data = data;
        this.sha256 = sha256;
    }

    /** A copy of the dimensions, e.g. {@code [60000, 28, 28]} for MNIST's training images. */
    public int[] dims() {
        return dims.clone();
    }

    /** Number of dimensions. */
    public int rank() {
        return dims.length;
    }

    /** Length of dimension {@code i}. */
    public int dim(int i) {
        return dims[i];
    }

    /** Number of elements, the product of the dimensions. */
    public int size() {
        return data.length;
    }

    /** Element {@code i} of the row-major data as an unsigned value 0..255. */
    public int unsigned(int i) {
        return data[i] & 0xFF;
    }

    /** A copy of the raw element bytes (unsigned values stored as Java bytes). */
    public byte[] bytes() {
        return data.clone();
    }

    /** The element bytes without a copy; callers inside this package must not modify them. */
    byte[] rawBytes() {
        return data;
    }

    /** Lower-case hex SHA-256 of the uncompressed file content (header and data). */
    public String sha256() {
        return sha256;
    }

    @Override
    public String toString() {
        return "IdxArray" + Arrays.toString(dims);
    }
}
