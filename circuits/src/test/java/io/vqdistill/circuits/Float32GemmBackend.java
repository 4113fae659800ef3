package io.vqdistill.circuits;

import io.vqdistill.api.Backend;
import io.vqdistill.api.BinaryOp;
import io.vqdistill.api.Capability;
import io.vqdistill.api.CompareOp;
import io.vqdistill.api.DType;
import io.vqdistill.api.Device;
import io.vqdistill.api.ReduceOp;
import io.vqdistill.api.Tensor;
import io.vqdistill.api.TopK;
import io.vqdistill.api.UnaryOp;
import io.vqdistill.api.spi.AbstractBackend;
import io.vqdistill.api.spi.AbstractTensor;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.function.Supplier;

/**
 * A test backend that behaves like an engine's float32 GEMM: it delegates every operation to another
 * backend, except that float32 matrix products accumulate in float32, one fused multiply-add after
 * the other (the least accurate order a BLAS could use). The reference fake backend accumulates in
 * double, which would hide the cancellation of the expanded Gaussian square; this one exposes it.
 *
 * <p>The delegate's tensors are created on a private thread, so that the caller's
 * {@link io.vqdistill.api.TensorScope} tracks only the wrappers.
 */
final class Float32GemmBackend extends AbstractBackend {
    private final Backend inner;
    private final ExecutorService thread = Executors.newSingleThreadExecutor(r -> {
        Thread t = new Thread(r, "float32-gemm-delegate");
        t.setDaemon(true);
        return t;
    });

    Float32GemmBackend(Backend inner) {
        this.inner = inner;
    }

    <T> T run(Supplier<T> op) {
        try {
            return thread.submit(op::get).get();
        } catch (ExecutionException e) {
            if (e.getCause() instanceof RuntimeException r) {
                throw r;
            }
            throw new IllegalStateException(e.getCause());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    Tensor wrap(Tensor t) {
        return new Wrapped(this, t);
    }

    static Tensor unwrap(Tensor t) {
        return ((Wrapped) t).inner;
    }

    @Override
    public String name() {
        return "fake-float32-gemm";
    }

    @Override
    public String version() {
        return inner.version() + " with float32 matmul accumulation";
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
        return List.of();
    }

    @Override
    protected Tensor create(Object data, DType dtype, long[] shape) {
        return wrap(run(() -> switch (dtype) {
            case FLOAT32 -> inner.of((float[]) data, shape);
            case FLOAT64 -> inner.of((double[]) data, shape);
            case INT32 -> inner.of((int[]) data, shape);
            case INT64 -> inner.of((long[]) data, shape);
            case BOOL -> inner.of((boolean[]) data, shape);
        }));
    }

    @Override
    protected Tensor doFull(DType dtype, double value, long[] shape) {
        return wrap(run(() -> inner.full(dtype, value, shape)));
    }

    @Override
    protected Tensor doConcat(List<Tensor> tensors, int axis, long[] resultShape) {
        List<Tensor> parts = tensors.stream().map(Float32GemmBackend::unwrap).toList();
        return wrap(run(() -> inner.concat(parts, axis)));
    }

    @Override
    public void close() {
        thread.shutdown();
        inner.close();
    }

    /** A tensor of this backend: a delegate tensor that only the private thread touches. */
    private static final class Wrapped extends AbstractTensor {
        private final Float32GemmBackend owner;
        private final Tensor inner;

        Wrapped(Float32GemmBackend owner, Tensor inner) {
            super(owner, inner.shape(), inner.dtype());
            this.owner = owner;
            this.inner = inner;
        }

        private Tensor on(Supplier<Tensor> op) {
            return owner.wrap(owner.run(op));
        }

        @Override
        protected void release() {
            owner.run(() -> {
                inner.close();
                return null;
            });
        }

        @Override
        protected Object readData() {
            return owner.run(() -> switch (dtype()) {
                case FLOAT32 -> inner.toFloatArray();
                case FLOAT64 -> inner.toDoubleArray();
                case INT32 -> inner.toIntArray();
                case INT64 -> inner.toLongArray();
                case BOOL -> inner.toBooleanArray();
            });
        }

        @Override
        protected Tensor doToType(DType type) {
            return on(() -> inner.toType(type));
        }

        @Override
        protected Tensor doReshape(long[] newShape) {
            return on(() -> inner.reshape(newShape));
        }

        @Override
        protected Tensor doTranspose(int[] axes) {
            return on(() -> inner.transpose(axes));
        }

        @Override
        protected Tensor doSlice(int axis, long start, long end) {
            return on(() -> inner.slice(axis, start, end));
        }

        @Override
        protected Tensor doUnary(UnaryOp op) {
            return on(() -> inner.unary(op));
        }

        @Override
        protected Tensor doBinary(BinaryOp op, Tensor other, long[] resultShape) {
            return on(() -> inner.binary(op, unwrap(other)));
        }

        @Override
        protected Tensor doCompare(CompareOp op, Tensor other, long[] resultShape) {
            return on(() -> inner.compare(op, unwrap(other)));
        }

        @Override
        protected Tensor doWhere(Tensor ifTrue, Tensor ifFalse, long[] resultShape) {
            return on(() -> inner.where(unwrap(ifTrue), unwrap(ifFalse)));
        }

        @Override
        protected Tensor doClamp(double min, double max) {
            return on(() -> inner.clamp(min, max));
        }

        @Override
        protected Tensor doMatmul(Tensor other, long[] resultShape) {
            Tensor b = unwrap(other);
            if (dtype() != DType.FLOAT32 || rank() != 2 || other.rank() != 2) {
                return on(() -> inner.matmul(b));
            }
            int m = (int) resultShape[0];
            int n = (int) resultShape[1];
            int k = (int) shape(1);
            return on(() -> {
                float[] x = inner.toFloatArray();
                float[] y = b.toFloatArray();
                float[] out = new float[m * n];
                for (int i = 0; i < m; i++) {
                    for (int j = 0; j < n; j++) {
                        float acc = 0;
                        for (int p = 0; p < k; p++) {
                            acc = Math.fma(x[i * k + p], y[p * n + j], acc);
                        }
                        out[i * n + j] = acc;
                    }
                }
                return inner.backend().of(out, m, n);
            });
        }

        @Override
        protected Tensor doReduce(ReduceOp op, int axis, boolean keepDims) {
            return on(() -> inner.reduce(op, axis, keepDims));
        }

        @Override
        protected Tensor doArgMax(int axis) {
            return on(() -> inner.argMax(axis));
        }

        @Override
        protected TopK doTopK(int k, int axis) {
            TopK t = owner.run(() -> inner.topK(k, axis));
            return new TopK(owner.wrap(t.values()), owner.wrap(t.indices()));
        }

        @Override
        protected Tensor doGather(int axis, Tensor indices) {
            return on(() -> inner.gather(axis, unwrap(indices)));
        }

        @Override
        protected Tensor doTakeAlong(int axis, Tensor indices) {
            return on(() -> inner.takeAlong(axis, unwrap(indices)));
        }
    }
}
