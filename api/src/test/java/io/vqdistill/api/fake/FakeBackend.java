package io.vqdistill.api.fake;

import io.vqdistill.api.Capability;
import io.vqdistill.api.DType;
import io.vqdistill.api.Device;
import io.vqdistill.api.Tensor;
import io.vqdistill.api.TensorException;
import io.vqdistill.api.spi.AbstractBackend;
import java.util.Arrays;
import java.util.List;
import java.util.function.Function;

/**
 * An in-memory reference backend in plain Java, for tests that need tensors but no native engine.
 * It keeps every element as a double rounded to its dtype (see {@link FakeTensor}), computes
 * naively and declares no capabilities unless given some. Int64 values must lie within +-2^53, the range a
 * double holds exactly; larger ones are rejected rather than silently rounded. Not thread-safe, not
 * fast.
 */
public final class FakeBackend extends AbstractBackend {
    /** The largest magnitude an int64 element may have here: 2^53. */
    public static final long MAX_EXACT_INT64 = 1L << 53;

    private final List<Capability> capabilities;
    private boolean closed;

    /** A new, independent fake backend on the CPU with tensors only. */
    public FakeBackend() {
        this(List.of());
    }

    /** A fake backend that declares {@code capabilities} (for selection tests). */
    public FakeBackend(List<Capability> capabilities) {
        this.capabilities = List.copyOf(capabilities);
    }

    private FakeBackend(Function<FakeBackend, List<Capability>> capabilities) {
        this.capabilities = List.copyOf(capabilities.apply(this));
    }

    /**
     * A new fake backend whose capabilities are built from the backend itself, for capabilities
     * that compute on it (network operations, model loaders).
     */
    public static FakeBackend withCapabilities(Function<FakeBackend, List<Capability>> capabilities) {
        return new FakeBackend(capabilities);
    }

    @Override
    public String name() {
        return FakeBackendProvider.NAME;
    }

    @Override
    public String version() {
        return "fake 1.0 (pure Java reference)";
    }

    @Override
    public Device device() {
        return Device.CPU;
    }

    @Override
    public List<Device> devices() {
        return List.of(Device.CPU);
    }

    @Override
    public List<Capability> capabilities() {
        return capabilities;
    }

    /** True once {@link #close()} was called; the fake keeps working afterwards. */
    public boolean isClosed() {
        return closed;
    }

    @Override
    public void close() {
        closed = true;
    }

    @Override
    protected Tensor create(Object data, DType dtype, long[] shape) {
        double[] values;
        if (data instanceof float[] f) {
            values = new double[f.length];
            Arrays.setAll(values, i -> f[i]);
        } else if (data instanceof double[] d) {
            values = d.clone();
        } else if (data instanceof int[] n) {
            values = new double[n.length];
            Arrays.setAll(values, i -> n[i]);
        } else if (data instanceof long[] n) {
            values = new double[n.length];
            for (int i = 0; i < n.length; i++) {
                if (Math.abs(n[i]) > MAX_EXACT_INT64 || n[i] == Long.MIN_VALUE) {
                    throw new TensorException("of (backend fake): int64 value " + n[i]
                            + " is beyond +-2^53, which the fake backend cannot hold exactly");
                }
                values[i] = n[i];
            }
        } else {
            boolean[] b = (boolean[]) data;
            values = new double[b.length];
            Arrays.setAll(values, i -> b[i] ? 1 : 0);
        }
        return new FakeTensor(this, shape, dtype, values);
    }

    @Override
    protected Tensor doFull(DType dtype, double value, long[] shape) {
        double[] values = new double[FakeTensor.span(shape, 0, shape.length)];
        Arrays.fill(values, value);
        return new FakeTensor(this, shape, dtype, values);
    }

    @Override
    protected Tensor doConcat(List<Tensor> tensors, int axis, long[] resultShape) {
        int outer = FakeTensor.span(resultShape, 0, axis);
        int inner = FakeTensor.span(resultShape, axis + 1, resultShape.length);
        int total = (int) resultShape[axis];
        double[] r = new double[outer * total * inner];
        int at = 0;
        for (Tensor t : tensors) {
            double[] d = t.toDoubleArray();
            int len = (int) t.shape()[axis];
            for (int o = 0; o < outer; o++) {
                System.arraycopy(d, o * len * inner, r, (o * total + at) * inner, len * inner);
            }
            at += len;
        }
        return new FakeTensor(this, resultShape, tensors.get(0).dtype(), r);
    }
}
