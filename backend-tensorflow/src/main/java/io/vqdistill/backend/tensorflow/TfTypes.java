package io.vqdistill.backend.tensorflow;

import io.vqdistill.api.DType;
import io.vqdistill.api.TensorException;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.ndarray.buffer.DataBuffers;
import org.tensorflow.proto.DataType;
import org.tensorflow.types.TBool;
import org.tensorflow.types.TFloat32;
import org.tensorflow.types.TFloat64;
import org.tensorflow.types.TInt32;
import org.tensorflow.types.TInt64;
import org.tensorflow.types.family.TType;

/**
 * The converter at the engine boundary: vqdistill dtypes and shapes to TensorFlow's, Java arrays
 * into host tensors ({@link TType}, backed by a native {@code TF_Tensor}) and back. Every tensor
 * returned here is owned by the caller, who must close it.
 */
final class TfTypes {
    private TfTypes() {
    }

    /** The TensorFlow data type of a vqdistill dtype. */
    static DataType dataType(DType dtype) {
        return switch (dtype) {
            case FLOAT32 -> DataType.DT_FLOAT;
            case FLOAT64 -> DataType.DT_DOUBLE;
            case INT32 -> DataType.DT_INT32;
            case INT64 -> DataType.DT_INT64;
            case BOOL -> DataType.DT_BOOL;
        };
    }

    /** The vqdistill dtype of a TensorFlow data type; the five supported ones only. */
    static DType dtype(DataType type) {
        return switch (type) {
            case DT_FLOAT -> DType.FLOAT32;
            case DT_DOUBLE -> DType.FLOAT64;
            case DT_INT32 -> DType.INT32;
            case DT_INT64 -> DType.INT64;
            case DT_BOOL -> DType.BOOL;
            default -> throw new TensorException("TensorFlow data type " + type
                    + " has no vqdistill dtype (float32, float64, int32, int64, bool)");
        };
    }

    /** The shape of a host tensor as a long array; empty for a scalar. */
    static long[] shape(TType tensor) {
        return tensor.shape().asArray();
    }

    /**
     * A new host tensor holding a copy of {@code data} (float[], double[], int[], long[] or
     * boolean[] as {@code dtype} says, its length the size of {@code shape}).
     */
    static TType fromArray(Object data, DType dtype, long[] shape) {
        Shape s = Shape.of(shape);
        return switch (dtype) {
            case FLOAT32 -> TFloat32.tensorOf(s, DataBuffers.of((float[]) data, true, false));
            case FLOAT64 -> TFloat64.tensorOf(s, DataBuffers.of((double[]) data, true, false));
            case INT32 -> TInt32.tensorOf(s, DataBuffers.of((int[]) data, true, false));
            case INT64 -> TInt64.tensorOf(s, DataBuffers.of((long[]) data, true, false));
            case BOOL -> TBool.tensorOf(s, DataBuffers.of((boolean[]) data, true, false));
        };
    }

    /** A new rank-0 host tensor holding {@code value} converted to {@code dtype} (bool: non-zero). */
    static TType scalar(DType dtype, double value) {
        return switch (dtype) {
            case FLOAT32 -> TFloat32.scalarOf((float) value);
            case FLOAT64 -> TFloat64.scalarOf(value);
            case INT32 -> TInt32.scalarOf((int) value);
            case INT64 -> TInt64.scalarOf((long) value);
            case BOOL -> TBool.scalarOf(value != 0);
        };
    }

    /** A new host tensor of {@code shape}, which must have no elements. */
    static TType empty(DType dtype, long[] shape) {
        Shape s = Shape.of(shape);
        if (s.size() != 0) {
            throw new AssertionError("shape " + s + " is not empty");
        }
        return switch (dtype) {
            case FLOAT32 -> TFloat32.tensorOf(s);
            case FLOAT64 -> TFloat64.tensorOf(s);
            case INT32 -> TInt32.tensorOf(s);
            case INT64 -> TInt64.tensorOf(s);
            case BOOL -> TBool.tensorOf(s);
        };
    }

    /** A rank-1 INT64 host tensor, for shapes, offsets and sizes fed to a kernel. */
    static TInt64 longs(long... values) {
        return TInt64.vectorOf(values);
    }

    /** A rank-1 INT32 host tensor, for permutations fed to a kernel. */
    static TInt32 ints(int... values) {
        return TInt32.vectorOf(values);
    }

    /** A rank-0 INT32 host tensor, for axes and counts fed to a kernel. */
    static TInt32 int32(int value) {
        return TInt32.scalarOf(value);
    }

    /** The elements of a host tensor in row-major order, as the primitive array of its dtype. */
    static Object toArray(TType tensor) {
        int n = Math.toIntExact(tensor.shape().size());
        if (tensor instanceof TFloat32 t) {
            float[] out = new float[n];
            t.copyTo(DataBuffers.of(out, false, false));
            return out;
        }
        if (tensor instanceof TFloat64 t) {
            double[] out = new double[n];
            t.copyTo(DataBuffers.of(out, false, false));
            return out;
        }
        if (tensor instanceof TInt32 t) {
            int[] out = new int[n];
            t.copyTo(DataBuffers.of(out, false, false));
            return out;
        }
        if (tensor instanceof TInt64 t) {
            long[] out = new long[n];
            t.copyTo(DataBuffers.of(out, false, false));
            return out;
        }
        if (tensor instanceof TBool t) {
            boolean[] out = new boolean[n];
            t.copyTo(DataBuffers.of(out, false, false));
            return out;
        }
        throw new TensorException("TensorFlow tensor of type " + tensor.dataType()
                + " has no vqdistill dtype");
    }
}
