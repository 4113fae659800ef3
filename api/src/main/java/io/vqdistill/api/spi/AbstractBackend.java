package io.vqdistill.api.spi;

import io.vqdistill.api.Backend;
import io.vqdistill.api.DType;
import io.vqdistill.api.Shapes;
import io.vqdistill.api.Tensor;
import io.vqdistill.api.TensorException;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Supplier;

/**
 * The base of every backend: validates creation arguments and concatenation before the engine sees
 * them, wraps engine failures once, and checks what the engine returns. A backend implements
 * {@link #create(Object, DType, long[])}, {@link #doFull(DType, double, long[])} and
 * {@link #doConcat(List, int, long[])}.
 */
public abstract class AbstractBackend implements Backend {

    /**
     * Copies a primitive array (float[], double[], int[], long[] or boolean[], matching
     * {@code dtype}, length = size of {@code shape}) into a new engine tensor.
     */
    protected abstract Tensor create(Object data, DType dtype, long[] shape);

    /** A tensor of a valid shape filled with {@code value}. */
    protected abstract Tensor doFull(DType dtype, double value, long[] shape);

    /** Concatenation of at least one same-dtype, same-rank tensor of this backend with agreeing lengths. */
    protected abstract Tensor doConcat(List<Tensor> tensors, int axis, long[] resultShape);

    @Override
    public final Tensor of(float[] data, long... shape) {
        return fromArray(data, data.length, DType.FLOAT32, shape);
    }

    @Override
    public final Tensor of(double[] data, long... shape) {
        return fromArray(data, data.length, DType.FLOAT64, shape);
    }

    @Override
    public final Tensor of(int[] data, long... shape) {
        return fromArray(data, data.length, DType.INT32, shape);
    }

    @Override
    public final Tensor of(long[] data, long... shape) {
        return fromArray(data, data.length, DType.INT64, shape);
    }

    @Override
    public final Tensor of(boolean[] data, long... shape) {
        return fromArray(data, data.length, DType.BOOL, shape);
    }

    private Tensor fromArray(Object data, int length, DType dtype, long[] shape) {
        long[] s = Shapes.checkShape(shape, "of");
        if (Shapes.size(s) != length) {
            throw new TensorException("of (backend " + name() + "): " + length + " values do not fill shape "
                    + Shapes.format(s) + " (" + Shapes.size(s) + " elements)");
        }
        return checked("of", () -> create(data, dtype, s), s, dtype);
    }

    @Override
    public final Tensor full(DType dtype, double value, long... shape) {
        long[] s = Shapes.checkShape(shape, "full");
        boolean fits = switch (dtype) {
            case FLOAT32, FLOAT64 -> true;
            case INT32 -> value == Math.rint(value) && value >= Integer.MIN_VALUE && value <= Integer.MAX_VALUE;
            case INT64 -> value == Math.rint(value) && value >= -0x1p63 && value < 0x1p63;
            case BOOL -> value == 0 || value == 1;
        };
        if (!fits) {
            throw new TensorException("full (backend " + name() + "): value " + value + " is not a " + dtype.label());
        }
        return checked("full", () -> doFull(dtype, value, s), s, dtype);
    }

    @Override
    public final Tensor concat(List<? extends Tensor> tensors, int axis) {
        if (tensors == null || tensors.isEmpty()) {
            throw new TensorException("concat (backend " + name() + "): no tensors given");
        }
        Tensor first = tensors.get(0);
        long[] s0 = first.shape();
        int a = Shapes.axis(axis, s0.length, "concat");
        long total = 0;
        List<Tensor> nonEmpty = new ArrayList<>();
        for (Tensor t : tensors) {
            if (t.backend() != this) {
                throw new TensorException("concat (backend " + name() + "): a tensor belongs to another backend instance ("
                        + AbstractTensor.instance(t.backend()) + ", expected " + AbstractTensor.instance(this) + ")");
            }
            if (t.isClosed()) {
                throw new TensorException("concat (backend " + name() + "): a tensor was used after close");
            }
            if (t.dtype() != first.dtype()) {
                throw new TensorException("concat (backend " + name() + "): dtypes differ: "
                        + first.dtype().label() + " and " + t.dtype().label());
            }
            long[] s = t.shape();
            boolean fits = s.length == s0.length;
            for (int i = 0; fits && i < s.length; i++) {
                fits = i == a || s[i] == s0[i];
            }
            if (!fits) {
                throw new TensorException("concat (backend " + name() + "): shapes " + Shapes.format(s0) + " and "
                        + Shapes.format(s) + " do not agree except on axis " + axis);
            }
            total += s[a];
            if (Shapes.size(s) > 0) {
                nonEmpty.add(t);
            }
        }
        long[] out = s0.clone();
        out[a] = total;
        if (nonEmpty.isEmpty()) {
            return full(first.dtype(), 0, out);
        }
        return checked("concat", () -> doConcat(nonEmpty, a, out), out, first.dtype());
    }

    private Tensor checked(String op, Supplier<Tensor> body, long[] shape, DType dtype) {
        Tensor t = EngineCalls.run(op, name(), dtype.label() + " " + Shapes.format(shape), body);
        return EngineCalls.expect(op, name(), t, shape, dtype);
    }

    @Override
    public String toString() {
        return name() + " (" + version() + ", " + device() + ")";
    }
}
