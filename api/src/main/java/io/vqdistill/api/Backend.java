package io.vqdistill.api;

import java.util.List;
import java.util.Optional;
import java.util.random.RandomGenerator;

/**
 * One compute engine, created by its {@link io.vqdistill.api.spi.BackendProvider}: a factory of
 * {@link Tensor}s on one device, plus the capabilities the engine declares. {@code circuits} and
 * {@code distill} only ever talk to this interface; they ask for capabilities, never for a name.
 *
 * <p>Random tensors are drawn on the host from the caller's {@link RandomGenerator} and then copied
 * to the device, so the same seeded generator yields the same numbers on every backend.
 *
 * <p>Closing a backend releases its engine resources; tensors it created must not be used after.
 */
public interface Backend extends AutoCloseable {

    /** The provider name this backend was selected by, e.g. {@code djl}. */
    String name();

    /** Engine and version, e.g. {@code DJL 0.36.0 / PyTorch 2.7.1}. */
    String version();

    /** The device every tensor of this backend is created on. */
    Device device();

    /** Every device the engine reports, the CPU first. */
    List<Device> devices();

    /** The capabilities this backend declares beyond the core tensor operations. */
    List<Capability> capabilities();

    /** Releases the engine's resources; tensors of this backend must not be used afterwards. */
    @Override
    void close();

    /** The capability of the given type, if the backend declares one. */
    default <T extends Capability> Optional<T> capability(Class<T> type) {
        return capabilities().stream().filter(type::isInstance).map(type::cast).findFirst();
    }

    // ---- creation ---------------------------------------------------------------------------

    /** A FLOAT32 tensor holding {@code data} in row-major order; {@code data.length} must equal the size. */
    Tensor of(float[] data, long... shape);

    /** A FLOAT64 tensor holding {@code data} in row-major order. */
    Tensor of(double[] data, long... shape);

    /** An INT32 tensor holding {@code data} in row-major order. */
    Tensor of(int[] data, long... shape);

    /** An INT64 tensor holding {@code data} in row-major order. */
    Tensor of(long[] data, long... shape);

    /** A BOOL tensor holding {@code data} in row-major order. */
    Tensor of(boolean[] data, long... shape);

    /** A tensor of {@code shape} filled with {@code value} (a scalar when {@code shape} is empty). */
    Tensor full(DType dtype, double value, long... shape);

    /**
     * Joins tensors of one dtype along {@code axis}; all other lengths must agree.
     * The list must not be empty.
     */
    Tensor concat(List<? extends Tensor> tensors, int axis);

    /** Zeros of {@code shape}. */
    default Tensor zeros(DType dtype, long... shape) {
        return full(dtype, 0, shape);
    }

    /** 0, 1, ..., n-1 as INT64. */
    default Tensor arange(long n) {
        if (n < 0) {
            throw new TensorException("arange: length must be >= 0, found " + n);
        }
        long[] data = new long[Math.toIntExact(n)];
        for (int i = 0; i < data.length; i++) {
            data[i] = i;
        }
        return of(data, n);
    }

    /** Tensors of equal shape joined along a new axis. */
    default Tensor stack(List<? extends Tensor> tensors, int axis) {
        if (tensors.isEmpty()) {
            throw new TensorException("stack: no tensors given");
        }
        try (TensorScope scope = TensorScope.open()) {
            List<Tensor> expanded = tensors.stream().map(t -> t.expandDims(axis)).toList();
            return scope.keep(concat(expanded, axis));
        }
    }

    // ---- randomness -------------------------------------------------------------------------

    /** Uniform floats in [0, 1) drawn from {@code rng}. */
    default Tensor uniform(RandomGenerator rng, DType dtype, long... shape) {
        int n = Math.toIntExact(Shapes.size(Shapes.checkShape(shape, "uniform")));
        if (dtype == DType.FLOAT64) {
            double[] d = new double[n];
            for (int i = 0; i < n; i++) {
                d[i] = rng.nextDouble();
            }
            return of(d, shape);
        }
        if (dtype != DType.FLOAT32) {
            throw new TensorException("uniform: dtype must be float32 or float64, found " + dtype.label());
        }
        float[] f = new float[n];
        for (int i = 0; i < n; i++) {
            f[i] = rng.nextFloat();
        }
        return of(f, shape);
    }

    /** Standard normal floats drawn from {@code rng}. */
    default Tensor normal(RandomGenerator rng, DType dtype, long... shape) {
        if (!dtype.isFloating()) {
            throw new TensorException("normal: dtype must be float32 or float64, found " + dtype.label());
        }
        int n = Math.toIntExact(Shapes.size(Shapes.checkShape(shape, "normal")));
        double[] d = new double[n];
        for (int i = 0; i < n; i++) {
            d[i] = rng.nextGaussian();
        }
        if (dtype == DType.FLOAT64) {
            return of(d, shape);
        }
        float[] f = new float[n];
        for (int i = 0; i < n; i++) {
            f[i] = (float) d[i];
        }
        return of(f, shape);
    }

    /**
     * One draw per row from the categorical distributions given by unnormalised log-probabilities
     * along the last axis of {@code logits} (shape [..., K]); the result has shape [...] and dtype
     * INT64. Entries of -inf are never drawn; a row with no finite entry is an error. Uses the
     * Gumbel-max trick with noise from {@code rng}.
     */
    default Tensor sampleCategorical(Tensor logits, RandomGenerator rng) {
        if (!logits.dtype().isFloating() || logits.rank() < 1) {
            throw new TensorException("sampleCategorical: logits must be floating with rank >= 1, found "
                    + logits.dtype().label() + " " + Shapes.format(logits.shape()));
        }
        try (TensorScope scope = TensorScope.open()) {
            for (double rowMax : logits.reduce(ReduceOp.MAX, -1, false).toDoubleArray()) {
                if (!(rowMax > Double.NEGATIVE_INFINITY)) {
                    throw new TensorException("sampleCategorical: a row of logits has no finite entry (max " + rowMax
                            + ")");
                }
            }
            Tensor u = uniform(rng, logits.dtype(), logits.shape());
            Tensor tiny = full(logits.dtype(), logits.dtype() == DType.FLOAT32 ? 1e-30 : 1e-300);
            Tensor gumbel = u.maximum(tiny).log().neg().log().neg();
            return scope.keep(logits.add(gumbel).argMax(-1));
        }
    }
}
