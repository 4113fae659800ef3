package io.vqdistill.backend.djl;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import io.vqdistill.api.DType;
import io.vqdistill.api.TensorException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * The boundary between vqdistill types and DJL types: dtypes, shapes, and copies of Java arrays
 * into and out of {@link NDArray}s. Nothing outside this package sees a DJL type.
 */
final class DjlTypes {
    private DjlTypes() {
    }

    /** The DJL data type of a vqdistill dtype. */
    static DataType toDjl(DType type) {
        return switch (type) {
            case FLOAT32 -> DataType.FLOAT32;
            case FLOAT64 -> DataType.FLOAT64;
            case INT32 -> DataType.INT32;
            case INT64 -> DataType.INT64;
            case BOOL -> DataType.BOOLEAN;
        };
    }

    /** The vqdistill dtype of a DJL data type; types vqdistill does not have are an error. */
    static DType fromDjl(DataType type) {
        return switch (type) {
            case FLOAT32 -> DType.FLOAT32;
            case FLOAT64 -> DType.FLOAT64;
            case INT32 -> DType.INT32;
            case INT64 -> DType.INT64;
            case BOOLEAN -> DType.BOOL;
            default -> throw new TensorException("the PyTorch engine returned data type " + type
                    + ", which vqdistill does not support");
        };
    }

    /** A DJL shape; an empty array is the scalar shape. */
    static Shape shape(long[] shape) {
        return new Shape(shape);
    }

    /**
     * Copies a primitive array of {@code dtype} into a new array of {@code manager}. The engine owns the
     * result's memory (it is not a view of a Java buffer), so closing it frees the memory at once.
     */
    static NDArray create(NDManager manager, Object data, DType dtype, long[] shape) {
        Shape s = shape(shape);
        DataType type = toDjl(dtype);
        int n = Math.toIntExact(s.size());
        if (n == 0) {
            return manager.zeros(s, type);
        }
        ByteBuffer buf = ByteBuffer.allocateDirect(Math.multiplyExact(n, dtype.bytes())).order(ByteOrder.nativeOrder());
        switch (dtype) {
            case FLOAT32 -> buf.asFloatBuffer().put((float[]) data);
            case FLOAT64 -> buf.asDoubleBuffer().put((double[]) data);
            case INT32 -> buf.asIntBuffer().put((int[]) data);
            case INT64 -> buf.asLongBuffer().put((long[]) data);
            case BOOL -> {
                boolean[] b = (boolean[]) data;
                for (int i = 0; i < n; i++) {
                    buf.put(i, b[i] ? (byte) 1 : (byte) 0);
                }
            }
        }
        // On the CPU the engine wraps the direct buffer without copying; a clone moves the data into
        // memory the engine owns, which closing the array frees deterministically (the direct buffer
        // is left to the garbage collector). On a GPU the engine has already copied.
        NDArray wrapped = manager.create(buf, s, type);
        if (wrapped.getDevice().isGpu()) {
            return wrapped;
        }
        try (wrapped) {
            return wrapped.duplicate();
        }
    }

    /** The elements of {@code array} as the primitive array of {@code dtype}, in row-major order. */
    static Object read(NDArray array, DType dtype) {
        if (array.getDevice().isGpu()) {
            try (NDArray host = array.toDevice(Device.cpu(), true)) {
                return read(host, dtype);
            }
        }
        // toByteBuffer(false) copies into a Java array; the direct variant would leave a contiguous
        // copy of a non-contiguous view attached to the manager until the manager closes.
        ByteBuffer bb = array.toByteBuffer(false).order(ByteOrder.nativeOrder());
        int n = Math.toIntExact(array.size());
        switch (dtype) {
            case FLOAT32 -> {
                float[] out = new float[n];
                bb.asFloatBuffer().get(out);
                return out;
            }
            case FLOAT64 -> {
                double[] out = new double[n];
                bb.asDoubleBuffer().get(out);
                return out;
            }
            case INT32 -> {
                int[] out = new int[n];
                bb.asIntBuffer().get(out);
                return out;
            }
            case INT64 -> {
                long[] out = new long[n];
                bb.asLongBuffer().get(out);
                return out;
            }
            case BOOL -> {
                boolean[] out = new boolean[n];
                for (int i = 0; i < n; i++) {
                    out[i] = bb.get(i) != 0;
                }
                return out;
            }
            default -> throw new AssertionError("unreachable: " + dtype);
        }
    }
}
