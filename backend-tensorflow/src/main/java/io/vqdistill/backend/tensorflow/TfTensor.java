package io.vqdistill.backend.tensorflow;

import io.vqdistill.api.BinaryOp;
import io.vqdistill.api.CompareOp;
import io.vqdistill.api.DType;
import io.vqdistill.api.ReduceOp;
import io.vqdistill.api.Tensor;
import io.vqdistill.api.TopK;
import io.vqdistill.api.UnaryOp;
import io.vqdistill.api.spi.AbstractTensor;
import io.vqdistill.backend.tensorflow.TfEngine.Kernel;
import io.vqdistill.backend.tensorflow.TfEngine.KernelBuilder;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.function.Consumer;
import org.tensorflow.Operation;
import org.tensorflow.Output;
import org.tensorflow.proto.DataType;
import org.tensorflow.types.family.TType;

/**
 * A vqdistill tensor backed by one TensorFlow host tensor ({@code TF_Tensor}), which it owns and
 * frees in {@link #release()}. Every operation feeds the operands to a cached graph kernel of the
 * backend's {@link TfEngine} and wraps the fresh output tensors; {@link AbstractTensor} has already
 * validated the arguments and checks the shape and dtype of what comes back.
 */
final class TfTensor extends AbstractTensor {
    private final TfBackend tf;
    private final TType value;

    private TfTensor(TfBackend backend, TType value) {
        super(backend, TfTypes.shape(value), TfTypes.dtype(value.dataType()));
        this.tf = backend;
        this.value = value;
    }

    /** Wraps a host tensor, taking ownership of it (it is closed if wrapping fails). */
    static TfTensor wrap(TfBackend backend, TType value) {
        try {
            return new TfTensor(backend, value);
        } catch (RuntimeException | Error e) {
            value.close();
            throw e;
        }
    }

    /** The host tensor, still owned by this tensor. */
    TType value() {
        checkOpen("tensorflow");
        return value;
    }

    @Override
    protected void release() {
        value.close();
    }

    @Override
    protected Object readData() {
        return TfTypes.toArray(value);
    }

    // ---- conversion and shape ---------------------------------------------------------------

    @Override
    protected Tensor doToType(DType type) {
        DataType dst = TfTypes.dataType(type);
        Kernel k = kernel(b -> b.output(b.op("Cast", o -> o.setAttr("DstT", dst), b.input(tfType()))),
                "cast", dtype(), type);
        return run1(k, new Feeds().add(this));
    }

    @Override
    protected Tensor doReshape(long[] newShape) {
        Kernel k = kernel(b -> b.output(b.op("Reshape", b.input(tfType()), b.input(DataType.DT_INT64))),
                "reshape", dtype());
        return run1(k, new Feeds().add(this).own(TfTypes.longs(newShape)));
    }

    @Override
    protected Tensor doTranspose(int[] axes) {
        Kernel k = kernel(b -> b.output(b.op("Transpose", b.input(tfType()), b.input(DataType.DT_INT32))),
                "transpose", dtype());
        return run1(k, new Feeds().add(this).own(TfTypes.ints(axes)));
    }

    @Override
    protected Tensor doSlice(int axis, long start, long end) {
        long[] begin = new long[rank()];
        long[] size = new long[rank()];
        Arrays.fill(size, -1);
        begin[axis] = start;
        size[axis] = end - start;
        Kernel k = kernel(b -> b.output(b.op("Slice", b.input(tfType()), b.input(DataType.DT_INT64),
                b.input(DataType.DT_INT64))), "slice", dtype());
        return run1(k, new Feeds().add(this).own(TfTypes.longs(begin)).own(TfTypes.longs(size)));
    }

    // ---- elementwise ------------------------------------------------------------------------

    @Override
    protected Tensor doUnary(UnaryOp op) {
        String name = switch (op) {
            case EXP -> "Exp";
            case LOG -> "Log";
            case LOG1P -> "Log1p";
            case SQRT -> "Sqrt";
            case SQUARE -> "Square";
            case NEG -> "Neg";
            case ABS -> "Abs";
        };
        Kernel k = kernel(b -> b.output(b.op(name, b.input(tfType()))), "unary", name, dtype());
        return run1(k, new Feeds().add(this));
    }

    @Override
    protected Tensor doBinary(BinaryOp op, Tensor other, long[] resultShape) {
        String name = switch (op) {
            case ADD -> "AddV2";
            case SUB -> "Sub";
            case MUL -> "Mul";
            // RealDiv for floats; TruncateDiv rounds integer quotients toward zero, as documented
            case DIV -> dtype().isFloating() ? "RealDiv" : "TruncateDiv";
            case MAXIMUM -> "Maximum";
            case MINIMUM -> "Minimum";
        };
        Kernel k = kernel(b -> b.output(b.op(name, b.input(tfType()), b.input(tfType()))), "binary", name,
                dtype());
        return run1(k, new Feeds().add(this).add(other));
    }

    @Override
    protected Tensor doCompare(CompareOp op, Tensor other, long[] resultShape) {
        String name = switch (op) {
            case EQ -> "Equal";
            case NE -> "NotEqual";
            case LT -> "Less";
            case LE -> "LessEqual";
            case GT -> "Greater";
            case GE -> "GreaterEqual";
        };
        // the api passes bool operands with EQ and NE only, which TensorFlow supports for bool
        Kernel k = kernel(b -> b.output(b.op(name, b.input(tfType()), b.input(tfType()))), "compare", name,
                dtype());
        return run1(k, new Feeds().add(this).add(other));
    }

    @Override
    protected Tensor doWhere(Tensor ifTrue, Tensor ifFalse, long[] resultShape) {
        DataType branch = TfTypes.dataType(ifTrue.dtype());
        Kernel k = kernel(b -> b.output(b.op("SelectV2", b.input(DataType.DT_BOOL), b.input(branch),
                b.input(branch))), "where", ifTrue.dtype());
        return run1(k, new Feeds().add(this).add(ifTrue).add(ifFalse));
    }

    @Override
    protected Tensor doClamp(double min, double max) {
        double lo = min;
        double hi = max;
        if (dtype().isInteger()) {
            // the integers within [min, max], the bounds saturated to the dtype's range
            double typeMin = dtype() == DType.INT32 ? Integer.MIN_VALUE : Long.MIN_VALUE;
            double typeMax = dtype() == DType.INT32 ? Integer.MAX_VALUE : Long.MAX_VALUE;
            lo = Math.min(Math.max(Math.ceil(min), typeMin), typeMax);
            hi = Math.max(Math.min(Math.floor(max), typeMax), typeMin);
        }
        // Maximum and Minimum propagate NaN, so NaN stays NaN
        Kernel k = kernel(b -> b.output(b.op("Minimum", b.op("Maximum", b.input(tfType()), b.input(tfType())),
                b.input(tfType()))), "clamp", dtype());
        return run1(k, new Feeds().add(this).own(TfTypes.scalar(dtype(), lo)).own(TfTypes.scalar(dtype(), hi)));
    }

    // ---- linear algebra, reductions, indexing -----------------------------------------------

    @Override
    protected Tensor doMatmul(Tensor other, long[] resultShape) {
        // BatchMatMulV2 broadcasts the batch axes
        Kernel k = kernel(b -> b.output(b.op("BatchMatMulV2", b.input(tfType()), b.input(tfType()))), "matmul",
                dtype());
        return run1(k, new Feeds().add(this).add(other));
    }

    @Override
    protected Tensor doReduce(ReduceOp op, int axis, boolean keepDims) {
        Kernel k = kernel(b -> {
            Output<?> x = b.input(tfType());
            Output<?> a = b.input(DataType.DT_INT32);
            b.output(switch (op) {
                case SUM -> reduce(b, "Sum", x, a, keepDims);
                case MAX -> reduce(b, "Max", x, a, keepDims);
                case MIN -> reduce(b, "Min", x, a, keepDims);
                case LOG_SUM_EXP -> logSumExp(b, x, a, keepDims);
            });
        }, "reduce", op, dtype(), keepDims);
        return run1(k, new Feeds().add(this).own(TfTypes.int32(axis)));
    }

    private static Output<?> reduce(KernelBuilder b, String name, Output<?> x, Output<?> axis,
            boolean keepDims) {
        return b.op(name, o -> o.setAttr("keep_dims", keepDims), x, axis);
    }

    /**
     * m + log(sum(exp(x - m))) with m the maximum along the axis, replaced by 0 where it is not
     * finite: an all -inf axis then gives log(0) + 0 = -inf (not NaN), a +inf entry gives +inf and
     * a NaN gives NaN.
     */
    private static Output<?> logSumExp(KernelBuilder b, Output<?> x, Output<?> axis, boolean keepDims) {
        Output<?> m = reduce(b, "Max", x, axis, true);
        Output<?> shift = b.op("SelectV2", b.op("IsFinite", m), m, b.op("ZerosLike", m));
        Output<?> sum = reduce(b, "Sum", b.op("Exp", b.op("Sub", x, shift)), axis, keepDims);
        return b.op("AddV2", b.op("Log", sum), b.op("Reshape", shift, b.op("Shape", sum)));
    }

    @Override
    protected Tensor doArgMax(int axis) {
        // TensorFlow's CPU ArgMax keeps the lowest index among equal maxima
        Kernel k = kernel(b -> b.output(b.op("ArgMax", o -> o.setAttr("output_type", DataType.DT_INT64),
                b.input(tfType()), b.input(DataType.DT_INT32))), "argmax", dtype());
        return run1(k, new Feeds().add(this).own(TfTypes.int32(axis)));
    }

    @Override
    protected TopK doTopK(int k, int axis) {
        // TopKV2 works on the last axis and lists equal values lower index first
        boolean last = axis == rank() - 1;
        Kernel kernel = kernel(b -> {
            Output<?> x = b.input(tfType());
            Output<?> count = b.input(DataType.DT_INT32);
            Output<?> perm = last ? null : b.input(DataType.DT_INT32);
            Output<?> moved = last ? x : b.op("Transpose", x, perm);
            Operation top = b.operation("TopKV2", o -> o.setAttr("sorted", true), moved, count);
            Output<?> values = top.output(0);
            Output<?> indices = b.op("Cast", o -> o.setAttr("DstT", DataType.DT_INT64), top.output(1));
            b.output(last ? values : b.op("Transpose", values, perm));
            b.output(last ? indices : b.op("Transpose", indices, perm));
        }, "topk", dtype(), last);
        Feeds feeds = new Feeds().add(this).own(TfTypes.int32(k));
        if (!last) {
            feeds.own(TfTypes.ints(swapWithLast(axis)));
        }
        List<Tensor> out = runAll(kernel, feeds);
        return new TopK(out.get(0), out.get(1));
    }

    @Override
    protected Tensor doGather(int axis, Tensor indices) {
        DataType idx = TfTypes.dataType(indices.dtype());
        Kernel k = kernel(b -> b.output(b.op("GatherV2", b.input(tfType()), b.input(idx),
                b.input(DataType.DT_INT32))), "gather", dtype(), indices.dtype());
        return run1(k, new Feeds().add(this).add(indices).own(TfTypes.int32(axis)));
    }

    @Override
    protected Tensor doTakeAlong(int axis, Tensor indices) {
        // move the axis last in both, then GatherV2 with every other axis a batch axis
        int r = rank();
        DataType idx = TfTypes.dataType(indices.dtype());
        Kernel k = kernel(b -> {
            Output<?> x = b.input(tfType());
            Output<?> i = b.input(idx);
            Output<?> perm = b.input(DataType.DT_INT32);
            Output<?> gathered = b.op("GatherV2", o -> o.setAttr("batch_dims", r - 1),
                    b.op("Transpose", x, perm), b.op("Transpose", i, perm), b.constant(r - 1));
            b.output(b.op("Transpose", gathered, perm));
        }, "takealong", dtype(), indices.dtype(), r);
        return run1(k, new Feeds().add(this).add(indices).own(TfTypes.ints(swapWithLast(axis))));
    }

    // ---- helpers ----------------------------------------------------------------------------

    private DataType tfType() {
        return TfTypes.dataType(dtype());
    }

    /** The permutation exchanging {@code axis} and the last axis (its own inverse). */
    private int[] swapWithLast(int axis) {
        int[] perm = new int[rank()];
        for (int i = 0; i < perm.length; i++) {
            perm[i] = i;
        }
        perm[axis] = perm.length - 1;
        perm[perm.length - 1] = axis;
        return perm;
    }

    private Kernel kernel(Consumer<KernelBuilder> definition, Object... keyParts) {
        return tf.engine().kernel(key(keyParts), definition);
    }

    static String key(Object... parts) {
        StringBuilder sb = new StringBuilder();
        for (Object p : parts) {
            if (sb.length() > 0) {
                sb.append('/');
            }
            sb.append(p instanceof DType d ? d.label() : String.valueOf(p));
        }
        return sb.toString();
    }

    private Tensor run1(Kernel kernel, Feeds feeds) {
        return run1(tf, kernel, feeds);
    }

    private List<Tensor> runAll(Kernel kernel, Feeds feeds) {
        return runAll(tf, kernel, feeds);
    }

    /** Runs a kernel with one output and wraps it. */
    static Tensor run1(TfBackend backend, Kernel kernel, Feeds feeds) {
        List<Tensor> out = runAll(backend, kernel, feeds);
        if (out.size() != 1) {
            out.forEach(Tensor::close);
            throw new AssertionError(kernel + " returned " + out.size() + " outputs, expected 1");
        }
        return out.get(0);
    }

    /** Runs a kernel, closes the temporary feeds and wraps every output. */
    static List<Tensor> runAll(TfBackend backend, Kernel kernel, Feeds feeds) {
        List<TType> raw;
        try (feeds) {
            raw = backend.engine().run(kernel, feeds.tensors);
        }
        List<Tensor> out = new ArrayList<>(raw.size());
        try {
            for (TType t : raw) {
                out.add(wrap(backend, t));
            }
        } catch (RuntimeException | Error e) {
            out.forEach(Tensor::close);
            raw.subList(out.size() + 1, raw.size()).forEach(TType::close);
            throw e;
        }
        return out;
    }

    /**
     * The host tensors fed to one kernel run, in placeholder order: operands borrowed from vqdistill
     * tensors, and temporaries (axes, shapes, bounds) owned here and closed after the run.
     */
    static final class Feeds implements AutoCloseable {
        private final List<org.tensorflow.Tensor> tensors = new ArrayList<>();
        private final List<org.tensorflow.Tensor> owned = new ArrayList<>();

        /** Feeds a tensor of this backend (validated by the caller), without taking ownership. */
        Feeds add(Tensor t) {
            tensors.add(((TfTensor) t).value());
            return this;
        }

        /** Feeds a temporary host tensor, closed when the run is over. */
        Feeds own(org.tensorflow.Tensor t) {
            owned.add(t);
            tensors.add(t);
            return this;
        }

        @Override
        public void close() {
            owned.forEach(org.tensorflow.Tensor::close);
        }
    }
}
