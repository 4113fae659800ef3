package io.vqdistill.api;

/** Element types of a {@link Tensor}. Every backend supports all of them on the CPU. */
public enum DType {
    /** 32-bit IEEE float, the storage type of parameters and data. */
    FLOAT32(4, true),
    /** 64-bit IEEE float, for sums over many terms. */
    FLOAT64(8, true),
    /** 32-bit signed integer. */
    INT32(4, false),
    /** 64-bit signed integer; indices returned by argMax, topK are of this type. */
    INT64(8, false),
    /** Boolean; the result of comparisons and the condition of {@code where}. */
    BOOL(1, false);

    private final int bytes;
    private final boolean floating;

    DType(int bytes, boolean floating) {
        this.bytes = bytes;
        this.floating = floating;
    }

    /** Size of one element in bytes. */
    public int bytes() {
        return bytes;
    }

    /** True for FLOAT32 and FLOAT64. */
    public boolean isFloating() {
        return floating;
    }

    /** True for every type but BOOL. */
    public boolean isNumeric() {
        return this != BOOL;
    }

    /** True for INT32 and INT64. */
    public boolean isInteger() {
        return this == INT32 || this == INT64;
    }

    /** The lower-case name used in files and messages, e.g. {@code float32}. */
    public String label() {
        return name().toLowerCase(java.util.Locale.ROOT);
    }
}
