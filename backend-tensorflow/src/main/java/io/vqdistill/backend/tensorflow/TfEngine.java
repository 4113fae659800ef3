package io.vqdistill.backend.tensorflow;

import io.vqdistill.api.TensorException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Consumer;
import java.util.function.UnaryOperator;
import org.tensorflow.Graph;
import org.tensorflow.Operation;
import org.tensorflow.OperationBuilder;
import org.tensorflow.Output;
import org.tensorflow.Result;
import org.tensorflow.Session;
import org.tensorflow.Tensor;
import org.tensorflow.op.Scope;
import org.tensorflow.proto.ConfigProto;
import org.tensorflow.proto.DataType;
import org.tensorflow.types.TInt32;
import org.tensorflow.types.family.TType;

/**
 * Runs TensorFlow operations on host tensors through one {@link Graph} and one {@link Session}.
 *
 * <p>Why a graph and not an {@code EagerSession}: in TensorFlow Java 1.1.0 every eager operation
 * and each of its output handles is attached to the eager session's {@code WeakPointerScope} and
 * freed only when the Java object is garbage collected or the whole session closes; there is no
 * public way to free one result early. A {@code Session.run} instead returns fresh {@code TF_Tensor}
 * host tensors that this backend owns and frees the moment a vqdistill tensor is closed.
 *
 * <p>Each operation the backend needs is a small <em>kernel</em>: a subgraph built once from
 * shape-agnostic placeholders, cached by a key made of the operation, the dtypes and the few static
 * attributes (never of data-dependent values such as offsets or shapes, which are fed as small
 * tensors), so the graph stays bounded. TensorFlow itself caches one executor per distinct
 * feed/fetch signature.
 */
final class TfEngine implements AutoCloseable {
    private final Graph graph;
    private final Session session;
    private final Scope scope;
    private final String device;
    private final Map<String, Kernel> kernels = new ConcurrentHashMap<>();
    private final Object buildLock = new Object();
    private volatile boolean closed;

    /**
     * @param config the session configuration (threads, placement, GPU memory)
     * @param device the TensorFlow device every operation is pinned to, e.g. {@code /device:GPU:0},
     *               or null to leave placement to TensorFlow (the CPU when there is no GPU)
     */
    TfEngine(ConfigProto config, String device) {
        this.graph = new Graph();
        try {
            this.session = new Session(graph, config);
        } catch (RuntimeException | Error e) {
            graph.close();
            throw e;
        }
        this.scope = graph.baseScope();
        this.device = device;
    }

    /** The kernel cached under {@code key}, built by {@code definition} the first time. */
    Kernel kernel(String key, Consumer<KernelBuilder> definition) {
        Kernel k = kernels.get(key);
        if (k != null) {
            return k;
        }
        synchronized (buildLock) {
            checkOpen();
            k = kernels.get(key);
            if (k == null) {
                KernelBuilder b = new KernelBuilder();
                definition.accept(b);
                k = b.build(key);
                kernels.put(key, k);
            }
            return k;
        }
    }

    /**
     * Runs a kernel on host tensors, one per placeholder in order, and returns its outputs, which
     * the caller owns and must close. The inputs stay owned by the caller.
     */
    List<TType> run(Kernel kernel, List<? extends Tensor> feeds) {
        checkOpen();
        if (feeds.size() != kernel.inputs.length) {
            throw new AssertionError("kernel " + kernel.key + " takes " + kernel.inputs.length
                    + " inputs, given " + feeds.size());
        }
        Session.Runner runner = session.runner();
        for (int i = 0; i < feeds.size(); i++) {
            runner.feed(kernel.inputs[i], feeds.get(i));
        }
        for (Output<?> o : kernel.outputs) {
            runner.fetch(o);
        }
        // the Result holds nothing but the output tensors, whose ownership passes to the caller
        Result result = runner.run();
        List<TType> out = new ArrayList<>(result.size());
        for (int i = 0; i < result.size(); i++) {
            out.add((TType) result.get(i));
        }
        return out;
    }

    /** Number of kernels built so far (diagnostics). */
    int kernelCount() {
        return kernels.size();
    }

    /** Closes the session and the graph; host tensors already returned stay valid until closed. */
    @Override
    public void close() {
        synchronized (buildLock) {
            if (closed) {
                return;
            }
            closed = true;
        }
        try {
            session.close();
        } finally {
            graph.close();
        }
    }

    private void checkOpen() {
        if (closed) {
            throw new TensorException("the TensorFlow backend was closed; its tensors can no longer be used");
        }
    }

    /** A built subgraph: its placeholders, in feed order, and its outputs, in result order. */
    static final class Kernel {
        private final String key;
        private final Output<?>[] inputs;
        private final Output<?>[] outputs;

        private Kernel(String key, Output<?>[] inputs, Output<?>[] outputs) {
            this.key = key;
            this.inputs = inputs;
            this.outputs = outputs;
        }

        @Override
        public String toString() {
            return "Kernel[" + key + "]";
        }
    }

    /** Builds one kernel from raw TensorFlow operations; used only under the engine's build lock. */
    final class KernelBuilder {
        private final List<Output<?>> inputs = new ArrayList<>();
        private final List<Output<?>> outputs = new ArrayList<>();

        private KernelBuilder() {
        }

        /** A new placeholder of unknown shape: the next input of the kernel. */
        Output<?> input(DataType type) {
            Output<?> p = op("Placeholder", b -> b.setAttr("dtype", type));
            inputs.add(p);
            return p;
        }

        /** Marks the next output of the kernel. */
        void output(Output<?> o) {
            outputs.add(o);
        }

        /** The first output of a new operation without attributes beyond those TF infers from inputs. */
        Output<?> op(String type, Output<?>... in) {
            return operation(type, UnaryOperator.identity(), in).output(0);
        }

        /** The first output of a new operation whose extra attributes {@code attrs} sets. */
        Output<?> op(String type, UnaryOperator<OperationBuilder> attrs, Output<?>... in) {
            return operation(type, attrs, in).output(0);
        }

        /** A new operation, for those with several outputs. */
        Operation operation(String type, UnaryOperator<OperationBuilder> attrs, Output<?>... in) {
            OperationBuilder b = scope.opBuilder(type, type);
            for (Output<?> o : in) {
                b.addInput(o);
            }
            if (device != null) {
                b.setDevice(device);
            }
            return attrs.apply(b).build();
        }

        /** A new operation whose first input is a list (ConcatV2), followed by {@code in}. */
        Output<?> listOp(String type, Output<?>[] list, Output<?>... in) {
            OperationBuilder b = scope.opBuilder(type, type).addInputList(list);
            for (Output<?> o : in) {
                b.addInput(o);
            }
            if (device != null) {
                b.setDevice(device);
            }
            return b.build().output(0);
        }

        /** An INT32 scalar constant. */
        Output<?> constant(int value) {
            try (TInt32 v = TInt32.scalarOf(value)) {
                return op("Const", b -> b.setAttr("dtype", DataType.DT_INT32).setAttr("value", v));
            }
        }

        /** A rank-1 INT32 constant, e.g. a permutation. */
        Output<?> constant(int[] values) {
            try (TInt32 v = TInt32.vectorOf(values)) {
                return op("Const", b -> b.setAttr("dtype", DataType.DT_INT32).setAttr("value", v));
            }
        }

        private Kernel build(String key) {
            if (outputs.isEmpty()) {
                throw new AssertionError("kernel " + key + " has no output");
            }
            return new Kernel(key, inputs.toArray(new Output<?>[0]), outputs.toArray(new Output<?>[0]));
        }
    }
}
