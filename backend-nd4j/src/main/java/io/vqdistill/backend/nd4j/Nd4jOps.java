package io.vqdistill.backend.nd4j;

import io.vqdistill.api.Shapes;
import io.vqdistill.api.TensorException;
import java.util.Arrays;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.api.ops.DynamicCustomOp;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;

/**
 * Compositions of ND4J ops that the tensor operations share: explicit broadcasting, selection,
 * NaN masks, gathers along the last axis and a stable descending sort. Every method runs ND4J ops
 * only (no Java loops over the data) and registers the arrays it creates with a {@link Scratch},
 * except the one it returns, which the caller owns (and usually registers itself). Rank-0 int64
 * scalars as second operands of the bitwise ops rely on libnd4j's broadcasting of scalars, which
 * those ops support.
 */
final class Nd4jOps {
    /** Up to this many elements, libnd4j's {@code select} is used; above, the bitwise blend. */
    static final long NATIVE_SELECT_MAX = 1024;

    /** Low 32 bits of an int64. */
    private static final long LOW_32 = 0xFFFF_FFFFL;

    private Nd4jOps() {
    }

    /**
     * A new, uninitialised row-major array. The shape is copied: {@code INDArray.shape()} returns the
     * array's own shape array (changing it corrupts the array), so shape arrays are never shared.
     */
    static INDArray alloc(DataType type, long... shape) {
        return Nd4j.create(type, shape.clone(), 'c');
    }

    /**
     * {@code a} seen in row-major {@code shape}: a view sharing its buffer, never to be closed. (Calling
     * {@code reshape('c', a, b)} directly would pick ND4J's {@code reshape(long rows, long columns)}
     * overload with 'c' = 99 rows.)
     */
    static INDArray view(INDArray a, long... shape) {
        return a.reshape('c', shape.clone());
    }

    /** Runs the libnd4j custom op {@code name} on {@code inputs}, writing into the preallocated {@code out}. */
    static INDArray exec(String name, INDArray out, INDArray... inputs) {
        Nd4j.exec(DynamicCustomOp.builder(name).addInputs(inputs).addOutputs(out).build());
        return out;
    }

    /** As {@link #exec(String, INDArray, INDArray...)}, with integer arguments. */
    static INDArray exec(String name, INDArray out, int[] intArgs, INDArray... inputs) {
        Nd4j.exec(DynamicCustomOp.builder(name).addInputs(inputs).addOutputs(out).addIntegerArguments(intArgs)
                .build());
        return out;
    }

    /** A rank-0 int64 scalar, exact for every long (ND4J's scalar ops go through double). */
    static INDArray longScalar(long value, Scratch s) {
        return s.add(Nd4j.scalar(DataType.INT64, value));
    }

    /**
     * {@code x} broadcast to {@code shape} (NumPy rules, which the caller has checked): {@code x}
     * itself when the shapes are equal, else a new array registered with {@code s}. ND4J's
     * {@code INDArray.broadcast} fails when a rank has to be added in front of a length-1 axis
     * ([1, 3] to [4, 2, 3]); the {@code broadcast_to} op does not, but copies element by element
     * (about 1.5 ms for 32k), so it is kept for small arrays and matmul batch axes: the pairwise
     * and bitwise ops broadcast by themselves.
     */
    static INDArray broadcastTo(INDArray x, long[] shape, Scratch s) {
        if (Arrays.equals(x.shape(), shape)) {
            return x;
        }
        INDArray target = s.add(Nd4j.createFromArray(shape));
        INDArray out = s.add(alloc(x.dataType(), shape));
        return exec("broadcast_to", out, x, target);
    }

    /** Elementwise {@code cond ? a : b} of three arrays of one shape; the result is new. */
    static INDArray select(INDArray cond, INDArray a, INDArray b) {
        return select(cond, a, b, a.shape());
    }

    /**
     * Elementwise {@code cond ? a : b}, the three broadcasting to {@code shape} (checked by the
     * caller); the result is new. libnd4j's {@code select} needs equal shapes and reads and writes
     * element by element through virtual accessors (about 0.2 us per element, 6 ms for 32k), and
     * {@code broadcast_to} is as slow, so beyond {@value #NATIVE_SELECT_MAX} elements the operands are
     * blended bitwise instead, with the bitwise ops' own broadcasting: with m = -cond (all ones or
     * all zeros), {@code (a & m) | (b & ~m)} on the raw bits, exact for every value including NaN,
     * infinities and -0.0.
     */
    static INDArray select(INDArray cond, INDArray a, INDArray b, long[] shape) {
        DataType type = a.dataType();
        try (Scratch s = new Scratch()) {
            if (Shapes.size(shape) <= NATIVE_SELECT_MAX) {
                return exec("select", alloc(type, shape), broadcastTo(cond, shape, s), broadcastTo(a, shape, s),
                        broadcastTo(b, shape, s));
            }
            DataType bitsType = type == DataType.DOUBLE || type == DataType.INT64 ? DataType.INT64 : DataType.INT32;
            INDArray aBits = type == bitsType ? a : s.add(asBits(a, bitsType));
            INDArray bBits = type == bitsType ? b : s.add(asBits(b, bitsType));
            INDArray mask = s.add(s.add(cond.castTo(bitsType)).neg());
            INDArray minusOne = s.add(Nd4j.scalar(bitsType, -1));
            INDArray notMask = s.add(exec("bitwise_xor", alloc(bitsType, cond.shape()), mask, minusOne));
            INDArray fromA = s.add(exec("bitwise_and",
                    alloc(bitsType, Shapes.broadcast(a.shape(), cond.shape(), "where")), aBits, mask));
            INDArray fromB = s.add(exec("bitwise_and",
                    alloc(bitsType, Shapes.broadcast(b.shape(), cond.shape(), "where")), bBits, notMask));
            INDArray blended = s.add(exec("bitwise_or", alloc(bitsType, shape), fromA, fromB));
            if (type == DataType.BOOL) {
                return blended.castTo(DataType.BOOL);
            }
            if (type == bitsType) {
                return s.keep(blended);
            }
            return exec("bitcast", alloc(type, shape), new int[] {type.toInt()}, blended);
        }
    }

    /** {@code x} (float or BOOL) as integers of {@code bitsType}: its IEEE bits, or 0/1 for BOOL; new. */
    private static INDArray asBits(INDArray x, DataType bitsType) {
        if (x.dataType() == DataType.BOOL) {
            return x.castTo(bitsType);
        }
        return exec("bitcast", alloc(bitsType, x.shape()), new int[] {bitsType.toInt()}, x);
    }

    /** A BOOL array that is true where {@code x} is NaN (x != x); new. */
    static INDArray isNaN(INDArray x) {
        return exec("not_equals", alloc(DataType.BOOL, x.shape()), x, x);
    }

    /** 0, 1, ..., n-1 as a rank-1 int64 array; new. */
    static INDArray iota(long n, Scratch s) {
        INDArray ints = s.add(exec("range", alloc(DataType.INT32, n), new int[] {0, Math.toIntExact(n), 1}));
        return ints.castTo(DataType.INT64);
    }

    /**
     * {@code out[r, j] = x[r, idx[r, j]]} for a row-major {@code x} of shape [R, n] and int64
     * {@code idx} of shape [R, m]; new. Computed as one flat gather at the linear positions
     * {@code r * n + idx[r, j]}. BOOL data goes through int32, since libnd4j's gathers reject BOOL.
     */
    static INDArray takeAlongLast(INDArray x, INDArray idx, Scratch s) {
        long rows = x.size(0);
        long n = x.size(1);
        long m = idx.size(1);
        INDArray rowIndex = s.add(iota(rows, s));
        INDArray rowStart = view(s.add(rowIndex.mul(n)), rows, 1);
        INDArray linear = s.add(exec("add", alloc(DataType.INT64, rows, m), idx, rowStart));
        boolean bool = x.dataType() == DataType.BOOL;
        INDArray source = bool ? s.add(x.castTo(DataType.INT32)) : x;
        INDArray picked = s.add(alloc(source.dataType(), rows * m));
        // gather_nd with [M, 1] indices picks scalars; gather along axis 0 of a vector copies one
        // sub-array per index and is some 30 times slower
        exec("gather_nd", picked, view(source, rows * n), view(linear, rows * m, 1));
        INDArray shaped = view(picked, rows, m);
        return bool ? shaped.castTo(DataType.BOOL) : shaped.dup('c');
    }

    /**
     * The positions of the {@code k} largest entries of every row of a row-major [R, n] array, in
     * descending order of value and ascending position among equal values, as int64 [R, k]; new.
     *
     * <p>libnd4j's {@code top_k} returns the right values but repeats one index for tied values,
     * and its only exposed sort sorts values without a payload. So each entry becomes a unique
     * int64 key that carries its position: the value mapped to an order-preserving integer (IEEE
     * bits with the sign handled, complemented so that ascending keys mean descending values) in the
     * high 32 bits, the position in the low 32 bits. Float32 and int32 values fit in 32 bits and
     * need one sort; float64 and int64 values need 64, so the sort runs twice, least significant
     * half first, the second pass carrying the position reached in the first (a radix sort whose
     * passes are stable because every key is unique). NaN sorts before +inf, -0.0 equals 0.0.
     */
    static INDArray topKPositions(INDArray x, int k, Scratch s) {
        long rows = x.size(0);
        long n = x.size(1);
        if (n > Integer.MAX_VALUE) {
            throw new TensorException("topK (backend nd4j): axis length " + n + " exceeds " + Integer.MAX_VALUE);
        }
        long[] shape = {rows, n};
        // [1, n]: the add in sortByKey broadcasts it over the rows
        INDArray positions = view(s.add(iota(n, s)), 1, n);
        INDArray descending = s.add(descendingKey(x, s));
        INDArray perm;
        if (x.dataType() == DataType.FLOAT || x.dataType() == DataType.INT32) {
            perm = sortByKey(descending, positions, s);
        } else {
            INDArray high = s.add(exec("rshift_bits", alloc(DataType.INT64, shape), descending, longScalar(32, s)));
            INDArray lowBits = s.add(exec("bitwise_and", alloc(DataType.INT64, shape), descending,
                    longScalar(LOW_32, s)));
            // unsigned [0, 2^32) to signed [-2^31, 2^31), order kept
            INDArray low = s.add(lowBits.sub(1L << 31));
            INDArray firstPass = s.add(sortByKey(low, positions, s));
            INDArray highInFirstPassOrder = s.add(takeAlongLast(high, firstPass, s));
            INDArray secondPass = s.add(sortByKey(highInFirstPassOrder, positions, s));
            perm = takeAlongLast(firstPass, secondPass, s);
        }
        if (k == n) {
            return perm;
        }
        s.add(perm);
        return perm.get(NDArrayIndex.all(), NDArrayIndex.interval(0, k)).dup('c');
    }

    /**
     * Sorts every row by {@code key} (int64, each value in [-2^31, 2^31)) and returns the
     * {@code payload} (int64 in [0, 2^32)) in that order; ties in the key keep payload order.
     */
    private static INDArray sortByKey(INDArray key, INDArray payload, Scratch s) {
        long[] shape = key.shape();
        INDArray high = s.add(exec("shift_bits", alloc(DataType.INT64, shape), key, longScalar(32, s)));
        INDArray packed = s.add(exec("add", alloc(DataType.INT64, shape), high, payload));
        // libnd4j's sortTad: ascending along axis 1, in place, for every row
        Nd4j.sort(packed, 1, true);
        return exec("bitwise_and", alloc(DataType.INT64, shape), packed, longScalar(LOW_32, s));
    }

    /**
     * An int64 key per entry whose ascending order is the descending order of the values: for
     * float32 and int32 within [-2^31, 2^31), for float64 and int64 over the whole int64 range.
     */
    private static INDArray descendingKey(INDArray x, Scratch s) {
        DataType type = x.dataType();
        long[] shape = x.shape();
        if (type == DataType.INT32 || type == DataType.INT64) {
            // ~v reverses the signed order without overflow
            INDArray wide = type == DataType.INT64 ? x : s.add(x.castTo(DataType.INT64));
            return exec("bitwise_xor", alloc(DataType.INT64, shape), wide, longScalar(-1, s));
        }
        // IEEE bits as a signed integer order non-negative values correctly and negative ones in reverse;
        // adding 0 turns -0.0 into 0.0 first
        INDArray canonical = s.add(x.add(0.0));
        DataType bitsType = type == DataType.FLOAT ? DataType.INT32 : DataType.INT64;
        INDArray bits = s.add(exec("bitcast", alloc(bitsType, shape), new int[] {bitsType.toInt()}, canonical));
        INDArray wide = type == DataType.FLOAT ? s.add(bits.castTo(DataType.INT64)) : bits;
        // sign = -1 for negative bit patterns, else 0; mask = negative ? the sign bit(s) : all ones, so that
        // negative values keep their magnitude in [0, 2^31) (resp. [0, 2^63)) and the rest become ~bits < 0
        long signBits = type == DataType.FLOAT ? -(1L << 31) : Long.MIN_VALUE;
        INDArray sign = s.add(exec("rshift_bits", alloc(DataType.INT64, shape), wide, longScalar(63, s)));
        INDArray notSign = s.add(exec("bitwise_xor", alloc(DataType.INT64, shape), sign, longScalar(-1, s)));
        INDArray mask = s.add(exec("bitwise_or", alloc(DataType.INT64, shape), notSign, longScalar(signBits, s)));
        return exec("bitwise_xor", alloc(DataType.INT64, shape), wide, mask);
    }
}
