package io.vqdistill.backend.nd4j;

import io.vqdistill.api.DType;
import io.vqdistill.api.Shapes;
import io.vqdistill.api.TensorException;
import org.nd4j.linalg.api.buffer.DataBuffer;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * The engine boundary: vqdistill dtypes and Java arrays in, ND4J data types and arrays out, and back.
 * Every array made here is row-major ('c'), owns its buffer and starts at offset 0.
 */
final class Nd4jConverter {
    private Nd4jConverter() {
    }

    /** The ND4J data type holding {@code dtype}. */
    static DataType toNd4j(DType dtype) {
        return switch (dtype) {
            case FLOAT32 -> DataType.FLOAT;
            case FLOAT64 -> DataType.DOUBLE;
            case INT32 -> DataType.INT32;
            case INT64 -> DataType.INT64;
            case BOOL -> DataType.BOOL;
        };
    }

    /** The vqdistill dtype of an ND4J data type; types vqdistill does not use are an error. */
    static DType fromNd4j(DataType type) {
        if (type == DataType.FLOAT) {
            return DType.FLOAT32;
        }
        if (type == DataType.DOUBLE) {
            return DType.FLOAT64;
        }
        if (type == DataType.INT32) {
            return DType.INT32;
        }
        if (type == DataType.INT64) {
            return DType.INT64;
        }
        if (type == DataType.BOOL) {
            return DType.BOOL;
        }
        throw new TensorException("backend nd4j: the engine produced an array of type " + type
                + ", which has no vqdistill dtype");
    }

    /** A new array of {@code shape} holding a copy of {@code data}, a primitive array matching {@code dtype}. */
    static INDArray create(Object data, DType dtype, long[] requested) {
        DataType type = toNd4j(dtype);
        long[] shape = requested.clone();
        if (Shapes.size(shape) == 0) {
            return Nd4j.create(type, shape, 'c');
        }
        return switch (dtype) {
            case FLOAT32 -> Nd4j.create((float[]) data, shape, type);
            case FLOAT64 -> Nd4j.create((double[]) data, shape, type);
            case INT32 -> Nd4j.create((int[]) data, shape, type);
            case INT64 -> Nd4j.create((long[]) data, shape, type);
            case BOOL -> Nd4j.create((boolean[]) data, shape, type);
        };
    }

    /** A new array of {@code shape} filled with {@code value} (non-zero is true for BOOL). */
    static INDArray full(DType dtype, double value, long[] requested) {
        DataType type = toNd4j(dtype);
        long[] shape = requested.clone();
        if (Shapes.size(shape) == 0) {
            return Nd4j.create(type, shape, 'c');
        }
        if (dtype == DType.INT64) {
            return Nd4j.valueArrayOf(shape, (long) value, type);
        }
        double v = dtype == DType.BOOL ? (value != 0 ? 1 : 0) : value;
        return Nd4j.valueArrayOf(shape, v, type);
    }

    /**
     * The elements of a non-empty array in row-major order as the primitive array of {@code dtype}
     * (float[], double[], int[], long[] or boolean[]).
     */
    static Object read(INDArray array, DType dtype) {
        boolean compact = !array.isView() && array.ordering() == 'c' && array.offset() == 0
                && array.data().length() == array.length();
        INDArray a = compact ? array : array.dup('c');
        try {
            DataBuffer buffer = a.data();
            return switch (dtype) {
                case FLOAT32 -> buffer.asFloat();
                case FLOAT64 -> buffer.asDouble();
                case INT32 -> buffer.asInt();
                case INT64 -> buffer.asLong();
                case BOOL -> toBooleans(buffer.asInt());
            };
        } finally {
            if (a != array) {
                a.close();
            }
        }
    }

    private static boolean[] toBooleans(int[] values) {
        boolean[] out = new boolean[values.length];
        for (int i = 0; i < values.length; i++) {
            out[i] = values[i] != 0;
        }
        return out;
    }
}
