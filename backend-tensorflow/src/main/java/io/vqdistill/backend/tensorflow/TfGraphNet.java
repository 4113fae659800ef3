package io.vqdistill.backend.tensorflow;

import io.vqdistill.api.BackendException;
import io.vqdistill.api.DType;
import io.vqdistill.api.FormatException;
import io.vqdistill.formats.SafeTensors;
import io.vqdistill.models.layout.BatchNormLayer;
import io.vqdistill.models.layout.ConvLayer;
import io.vqdistill.models.layout.ConvTransposeLayer;
import io.vqdistill.models.layout.LinearLayer;
import io.vqdistill.models.layout.NetworkLayout;
import io.vqdistill.models.layout.Parameter;
import io.vqdistill.models.layout.ResidualLayer;
import io.vqdistill.models.train.AdamUpdate;
import io.vqdistill.models.train.EpochRunner;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;
import java.util.function.Predicate;
import java.util.function.Supplier;
import org.tensorflow.DeviceSpec;
import org.tensorflow.Graph;
import org.tensorflow.Operand;
import org.tensorflow.Output;
import org.tensorflow.Result;
import org.tensorflow.Session;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.op.Op;
import org.tensorflow.op.Ops;
import org.tensorflow.op.core.Placeholder;
import org.tensorflow.op.core.ReduceSum;
import org.tensorflow.op.core.VarHandleOp;
import org.tensorflow.op.linalg.MatMul;
import org.tensorflow.proto.ConfigProto;
import org.tensorflow.types.TFloat32;
import org.tensorflow.types.TInt32;
import org.tensorflow.types.family.TType;

/**
 * A network trained as one TensorFlow graph with a session of its own: the tensors a subclass
 * registers, each in a resource variable in PyTorch's name and layout (so checkpoints need no
 * conversion), their gradients ({@link Graph#addGradients}) and one {@code ResourceApplyAdam} per
 * trainable tensor. It is the {@link EpochRunner.Engine} of one training run; not thread-safe.
 *
 * <p>The tensors are those of the network's {@link NetworkLayout}, one variable each, created in
 * the layout's order. Each variable has its own {@code shared_name}: without one, all of a graph's
 * variables are one resource. Counters (BatchNorm's {@code num_batches_tracked}) are kept on the
 * Java side. A new run starts from the layout's initial values, as on every engine.
 *
 * <p>The optimiser is the {@link AdamUpdate} in its fused form: {@code ResourceApplyAdam} computes
 * var -= lr_t m / (sqrt(v) + eps'), and each step feeds the powers of beta and the folded eps'.
 *
 * <p>Convolutional building blocks work on NHWC activations, which TensorFlow's CPU convolutions
 * want; padding is a {@code Pad} (or, for transposed convolutions, a crop) around {@code VALID}
 * convolutions, since the C++ gradients of TF 2.18 drop the {@code EXPLICIT} padding attribute.
 * BatchNorm in training mode normalises by the batch's statistics and queues the updates of the
 * running ones (PyTorch's momentum 0.1 and unbiased batch variance), which every {@link #step}
 * runs; in inference mode it uses the running statistics.
 *
 * <p>A subclass builds its graph on the variables in its constructor, then calls
 * {@link #optimise} once; on a failure there it calls {@link #release()} before rethrowing.
 */
abstract class TfGraphNet implements EpochRunner.Engine {
    /** From OIHW to TensorFlow's HWIO filter layout. */
    private static final int[] TO_FILTER = {2, 3, 1, 0};
    /** From NCHW to NHWC. */
    protected static final int[] TO_NHWC = {0, 2, 3, 1};
    /** From NHWC to NCHW. */
    protected static final int[] TO_NCHW = {0, 3, 1, 2};
    private static final float BN_MOMENTUM = (float) BatchNormLayer.MOMENTUM;
    private static final float BN_KEEP = (float) (1 - BatchNormLayer.MOMENTUM);
    private static final float BN_EPS = (float) BatchNormLayer.EPS;

    /** A resource variable with a placeholder and an assignment to set it, and an operation reading it. */
    record Var(Operand<? extends TType> handle, Operand<TFloat32> read, Placeholder<TFloat32> feed, Op assign) {
    }

    /** One tensor of the layout; counters have no variable. */
    static final class Slot {
        final String name;
        final long[] shape;
        final Parameter.Role kind;
        Var value;
        Var first;
        Var second;
        long count;

        Slot(Parameter p) {
            this.name = p.name();
            this.shape = p.shape();
            this.kind = p.role();
        }

        int size() {
            return Math.toIntExact(Shape.of(shape).size());
        }

        /** The variable's value in the graph. */
        Operand<TFloat32> read() {
            return value.read();
        }
    }

    /** The tensors of a convolution: weight (out, in, kH, kW), bias (out), an optional constant mask on the weight. */
    record Conv(Slot weight, Slot bias, int stride, int padH, int padW, Operand<TFloat32> mask) {
    }

    /** The tensors of a BatchNorm layer. */
    record Norm(Slot gamma, Slot beta, Slot mean, Slot var, Slot batches) {
    }

    /** The tensors of a transposed convolution, its stride, padding, output height, width and channels. */
    record ConvT(Slot weight, Slot bias, int stride, int pad, int height, int width, int out) {
    }

    /** x + BN(conv1x1(ReLU(BN(conv3x3(ReLU(x)))))). */
    record Residual(Conv conv1, Norm bn1, Conv conv2, Norm bn2) {
    }

    /** The graph. */
    protected final Graph graph;
    /** Builds operations in {@link #graph}, on the pinned device if any. */
    protected final Ops tf;
    private final Supplier<Map<String, float[]>> initialValues;
    private final Map<String, Slot> slots = new LinkedHashMap<>();
    private final List<Op> trainTargets = new ArrayList<>();
    /** The BatchNorm layers applied in training mode: each step counts a batch for them. */
    private final List<Norm> norms = new ArrayList<>();
    private final List<Op> statisticsUpdates = new ArrayList<>();
    private Placeholder<TFloat32> learningRate;
    private Placeholder<TFloat32> beta1Power;
    private Placeholder<TFloat32> beta2Power;
    private Placeholder<TFloat32> epsilon;
    private Operand<TFloat32> trainLoss;
    private Predicate<String> tuned = name -> true;
    private Session session;
    private long steps;

    /**
     * Creates the variables of every tensor of {@code layout}.
     *
     * @param layout        the network's tensors
     * @param initialValues the values a new run starts from (the layout's, for the run's seed)
     * @param device        the device to pin every operation to, e.g. {@code /device:GPU:1}, or null
     */
    protected TfGraphNet(NetworkLayout layout, Supplier<Map<String, float[]>> initialValues, String device) {
        this.initialValues = initialValues;
        this.graph = new Graph();
        try {
            Ops ops = Ops.create(graph);
            this.tf = device == null ? ops : ops.withDevice(deviceSpec(device));
            for (Parameter p : layout.parameters()) {
                register(p);
            }
        } catch (RuntimeException | Error e) {
            graph.close();
            throw e;
        }
    }

    private static DeviceSpec deviceSpec(String device) {
        String[] parts = device.split(":");
        return DeviceSpec.newBuilder().deviceType(DeviceSpec.DeviceType.valueOf(parts[1]))
                .deviceIndex(Integer.parseInt(parts[2])).build();
    }

    // ---- registration -------------------------------------------------------------------------

    private void register(Parameter p) {
        Slot s = new Slot(p);
        slots.put(p.name(), s);
        if (p.role() != Parameter.Role.COUNTER) {
            s.value = variable(p.name(), s.shape);
        }
        if (p.trainable()) {
            s.first = variable(AdamUpdate.firstMomentName(p.name()), s.shape);
            s.second = variable(AdamUpdate.secondMomentName(p.name()), s.shape);
        }
    }

    private Var variable(String name, long[] shape) {
        Operand<? extends TType> handle = tf.varHandleOp(TFloat32.class, Shape.of(shape),
                VarHandleOp.sharedName(name));
        Placeholder<TFloat32> feed = tf.placeholder(TFloat32.class, Placeholder.shape(Shape.of(shape)));
        return new Var(handle, tf.readVariableOp(handle, TFloat32.class), feed, tf.assignVariableOp(handle, feed));
    }

    /** The slot of {@code p}, a tensor of this network's layout. */
    protected final Slot slot(Parameter p) {
        Slot s = slots.get(p.name());
        if (s == null) {
            throw new AssertionError("tensor '" + p.name() + "' is not part of this layout");
        }
        return s;
    }

    /** The fully connected layer {@code l} of a [B, in] matrix: x W^T + b. */
    protected final Operand<TFloat32> linear(LinearLayer l, Operand<TFloat32> in) {
        return tf.nn.biasAdd(tf.linalg.matMul(in, slot(l.weight()).read(), MatMul.transposeB(true)),
                slot(l.bias()).read());
    }

    /** The convolution {@code c}: its slots, stride and padding, and its mask as a constant [1, 1, kH, kW]. */
    protected final Conv conv(ConvLayer c) {
        float[] m = c.mask();
        Operand<TFloat32> mask = m == null ? null
                : tf.reshape(tf.constant(m), tf.constant(new int[] {1, 1, c.kernelHeight(), c.kernelWidth()}));
        return new Conv(slot(c.weight()), slot(c.bias()), c.stride(), c.paddingHeight(), c.paddingWidth(), mask);
    }

    /** The convolution {@code c} of NHWC {@code h}, zero-padded by its padding on every side. */
    protected final Operand<TFloat32> apply(Conv c, Operand<TFloat32> h) {
        int ph = c.padH();
        int pw = c.padW();
        Operand<TFloat32> padded = ph == 0 && pw == 0 ? h
                : tf.pad(h, tf.constant(new int[][] {{0, 0}, {ph, ph}, {pw, pw}, {0, 0}}), tf.constant(0f));
        Operand<TFloat32> w = c.mask() == null ? c.weight().read() : tf.math.mul(c.weight().read(), c.mask());
        Operand<TFloat32> y = tf.nn.conv2d(padded, filter(w), List.of(1L, (long) c.stride(), (long) c.stride(), 1L),
                "VALID");
        return tf.nn.biasAdd(y, c.bias().read());
    }

    /**
     * The BatchNorm {@code layer}; every training step counts a batch for it once the graph applies
     * it in training mode (a graph that only runs it on its running statistics leaves the count).
     */
    protected final Norm norm(BatchNormLayer layer) {
        return new Norm(slot(layer.weight()), slot(layer.bias()), slot(layer.runningMean()),
                slot(layer.runningVar()), slot(layer.batchesSeen()));
    }

    /** The residual block {@code r}. */
    protected final Residual residual(ResidualLayer r) {
        return new Residual(conv(r.conv1()), norm(r.norm1()), conv(r.conv2()), norm(r.norm2()));
    }

    /** The transposed convolution {@code t} with its output of {@code height} x {@code width}. */
    protected final ConvT convTranspose(ConvTransposeLayer t, int height, int width) {
        return new ConvT(slot(t.weight()), slot(t.bias()), t.stride(), t.padding(), height, width, t.out());
    }

    /**
     * PyTorch's ConvTranspose2d of NHWC {@code h}: the unpadded transposed convolution, cropped by
     * the padding on each side.
     */
    protected final Operand<TFloat32> apply(ConvT c, Operand<TFloat32> h) {
        int p = c.pad();
        Operand<TInt32> batch = tf.slice(tf.shape(h), tf.constant(new int[] {0}), tf.constant(new int[] {1}));
        Operand<TInt32> sizes = tf.concat(List.of(batch, tf.constant(new int[] {c.height() + 2 * p, c.width() + 2 * p,
                c.out()})), tf.constant(0));
        Operand<TFloat32> y = tf.nn.conv2dBackpropInput(sizes, filter(c.weight().read()), h,
                List.of(1L, (long) c.stride(), (long) c.stride(), 1L), "VALID");
        Operand<TFloat32> cropped = tf.slice(y, tf.constant(new int[] {0, p, p, 0}),
                tf.constant(new int[] {-1, c.height(), c.width(), -1}));
        return tf.nn.biasAdd(cropped, c.bias().read());
    }

    /** BatchNorm over the last axis of NHWC {@code h}; in training also queues the running-statistics updates. */
    protected final Operand<TFloat32> apply(Norm n, Operand<TFloat32> h, boolean training) {
        Operand<TInt32> axes = tf.constant(new int[] {0, 1, 2});
        Operand<TFloat32> mean;
        Operand<TFloat32> var;
        Operand<TFloat32> centred;
        if (training) {
            mean = tf.math.mean(h, axes);
            centred = tf.math.sub(h, mean);
            var = tf.math.mean(tf.math.square(centred), axes);
            Operand<TFloat32> count = tf.dtypes.cast(tf.math.div(tf.size(h), tf.size(mean)), TFloat32.class);
            Operand<TFloat32> unbiased = tf.math.div(tf.math.mul(tf.stopGradient(var), count),
                    tf.math.sub(count, tf.constant(1f)));
            statisticsUpdates.add(momentum(n.mean(), tf.stopGradient(mean)));
            statisticsUpdates.add(momentum(n.var(), unbiased));
            if (!norms.contains(n)) {
                norms.add(n);
            }
        } else {
            mean = n.mean().read();
            var = n.var().read();
            centred = tf.math.sub(h, mean);
        }
        Operand<TFloat32> scale = tf.math.mul(tf.math.rsqrt(tf.math.add(var, tf.constant(BN_EPS))),
                n.gamma().read());
        return tf.math.add(tf.math.mul(centred, scale), n.beta().read());
    }

    private Op momentum(Slot running, Operand<TFloat32> batch) {
        Operand<TFloat32> kept = tf.math.mul(tf.readVariableOp(running.value.handle(), TFloat32.class),
                tf.constant(BN_KEEP));
        return tf.assignVariableOp(running.value.handle(), tf.math.add(kept, tf.math.mul(batch,
                tf.constant(BN_MOMENTUM))));
    }

    /** The residual block {@code r} of NHWC {@code h}. */
    protected final Operand<TFloat32> apply(Residual r, Operand<TFloat32> h, boolean training) {
        Operand<TFloat32> a = apply(r.bn1(), apply(r.conv1(), tf.nn.relu(h)), training);
        return tf.math.add(h, apply(r.bn2(), apply(r.conv2(), tf.nn.relu(a)), training));
    }

    /** A weight in OIHW, or PyTorch's transposed (in, out, kH, kW), in TensorFlow's filter layout. */
    protected final Operand<TFloat32> filter(Operand<TFloat32> weight) {
        return tf.linalg.transpose(weight, tf.constant(TO_FILTER));
    }

    /**
     * Log-softmax over the last axis of {@code t}, returned in {@code shape} (-1 for the batch).
     * Computed on a [-1, last] reshape: the C++ gradient of {@code LogSoftmax} in TF 2.18 sums over
     * axis 1, which is the class axis of a matrix only.
     */
    protected final Operand<TFloat32> logSoftmax(Operand<TFloat32> t, int... shape) {
        Operand<TFloat32> rows = tf.reshape(t, tf.constant(new int[] {-1, shape[shape.length - 1]}));
        return tf.reshape(tf.nn.logSoftmax(rows), tf.constant(shape));
    }

    /** The sum of {@code t} over {@code axes}. */
    protected final Operand<TFloat32> sum(Operand<TFloat32> t, int... axes) {
        return tf.reduceSum(t, tf.constant(axes), ReduceSum.keepDims(false));
    }

    private List<Slot> trainable() {
        return slots.values().stream().filter(s -> s.kind == Parameter.Role.TRAINABLE && tuned.test(s.name)).toList();
    }

    @SuppressWarnings("unchecked")
    private static Operand<TFloat32> floats(Output<?> o) {
        return (Output<TFloat32>) o;
    }

    /**
     * Adds the gradients of {@code loss} with respect to every trainable tensor and their Adam
     * updates, which {@link #step} runs with {@code extraTargets} and the BatchNorm statistics
     * updates queued so far, and starts the session.
     */
    protected final void optimise(Operand<TFloat32> loss, List<Op> extraTargets, ConfigProto config) {
        optimise(loss, extraTargets, config, name -> true);
    }

    /**
     * {@link #optimise(Operand, List, ConfigProto)} on the trainable tensors whose names {@code tuned}
     * accepts only: the others keep their values (and zero moments), and {@link #parameterCount()}
     * counts the tuned ones.
     */
    protected final void optimise(Operand<TFloat32> loss, List<Op> extraTargets, ConfigProto config,
            Predicate<String> tuned) {
        this.tuned = tuned;
        learningRate = tf.placeholder(TFloat32.class);
        beta1Power = tf.placeholder(TFloat32.class);
        beta2Power = tf.placeholder(TFloat32.class);
        epsilon = tf.placeholder(TFloat32.class);
        trainLoss = loss;
        List<Slot> trainable = trainable();
        Output<?>[] reads = new Output<?>[trainable.size()];
        for (int i = 0; i < reads.length; i++) {
            reads[i] = trainable.get(i).read().asOutput();
        }
        Output<?>[] grads = graph.addGradients(loss.asOutput(), reads);
        for (int i = 0; i < grads.length; i++) {
            Slot s = trainable.get(i);
            if (grads[i] == null) {
                throw new AssertionError("no gradient reaches " + s.name);
            }
            trainTargets.add(tf.train.resourceApplyAdam(s.value.handle(), s.first.handle(), s.second.handle(),
                    beta1Power, beta2Power, learningRate, tf.constant((float) AdamUpdate.BETA1),
                    tf.constant((float) AdamUpdate.BETA2), epsilon, floats(grads[i])));
        }
        trainTargets.addAll(extraTargets);
        trainTargets.addAll(statisticsUpdates);
        session = new Session(graph, config);
    }

    // ---- values -------------------------------------------------------------------------------

    @Override
    public void start(SafeTensors resume, long optimiserSteps) {
        if (resume == null) {
            initialise();
        } else {
            load(resume, true, optimiserSteps);
        }
    }

    @Override
    public void loadBest(SafeTensors best) {
        load(best, false, steps);
    }

    /** Sets every tensor to its initial value and zeroes Adam. */
    private void initialise() {
        Map<String, float[]> initial = initialValues.get();
        List<Var> vars = new ArrayList<>();
        List<float[]> values = new ArrayList<>();
        for (Slot s : slots.values()) {
            if (s.kind == Parameter.Role.COUNTER) {
                s.count = 0;
                continue;
            }
            float[] v = initial.get(s.name);
            vars.add(s.value);
            values.add(v);
            if (s.kind == Parameter.Role.TRAINABLE) {
                vars.add(s.first);
                values.add(new float[v.length]);
                vars.add(s.second);
                values.add(new float[v.length]);
            }
        }
        assign(vars, values);
        steps = 0;
    }

    /**
     * Sets every tensor from {@code file}, where each must be present with its shape; with
     * {@code optimiser} also Adam's moments of the tuned tensors, else the moments are zero; the step
     * count becomes {@code adamSteps}. A tensor the architecture lacks is an error naming it.
     */
    private void load(SafeTensors file, boolean optimiser, long adamSteps) {
        List<String> unexpected = new ArrayList<>();
        for (String n : file.names()) {
            if (!slots.containsKey(n) && !(optimiser && AdamUpdate.isMomentName(n))) {
                unexpected.add(n);
            }
        }
        if (!unexpected.isEmpty()) {
            throw new FormatException(file.file() + ": tensors " + unexpected + " are not part of this architecture");
        }
        List<Var> vars = new ArrayList<>();
        List<float[]> values = new ArrayList<>();
        for (Slot s : slots.values()) {
            if (s.kind == Parameter.Role.COUNTER) {
                s.count = file.get(s.name, DType.INT64).buffer().getLong(0);
                continue;
            }
            vars.add(s.value);
            values.add(file.get(s.name, DType.FLOAT32, s.shape).toFloats());
            if (s.kind == Parameter.Role.TRAINABLE) {
                boolean moments = optimiser && tuned.test(s.name);
                vars.add(s.first);
                values.add(moments ? file.get(AdamUpdate.firstMomentName(s.name), DType.FLOAT32, s.shape).toFloats()
                        : new float[s.size()]);
                vars.add(s.second);
                values.add(moments ? file.get(AdamUpdate.secondMomentName(s.name), DType.FLOAT32, s.shape).toFloats()
                        : new float[s.size()]);
            }
        }
        assign(vars, values);
        steps = adamSteps;
    }

    /** The value of {@code s}, a tensor (not a counter) of this network. */
    protected final float[] value(Slot s) {
        return read(List.of(s.value)).get(0);
    }

    /** Sets {@code s}, a tensor (not a counter) of this network, to {@code values}; Adam's moments stay. */
    protected final void assign(Slot s, float[] values) {
        assign(List.of(s.value), List.of(values));
    }

    private void assign(List<Var> vars, List<float[]> values) {
        List<TFloat32> tensors = new ArrayList<>();
        try {
            Session.Runner r = session.runner();
            for (int i = 0; i < vars.size(); i++) {
                Var v = vars.get(i);
                TFloat32 t = (TFloat32) TfTypes.fromArray(values.get(i), DType.FLOAT32, v.feed().shape().asArray());
                tensors.add(t);
                r.feed(v.feed(), t).addTarget(v.assign());
            }
            run(r).close();
        } finally {
            tensors.forEach(TFloat32::close);
        }
    }

    @Override
    public long parameterCount() {
        return trainable().stream().mapToLong(Slot::size).sum();
    }

    @Override
    public long optimiserSteps() {
        return steps;
    }

    @Override
    public List<SafeTensors.Entry> weights() {
        List<Slot> held = slots.values().stream().filter(s -> s.kind != Parameter.Role.COUNTER).toList();
        List<float[]> values = read(held.stream().map(s -> s.value).toList());
        List<SafeTensors.Entry> out = new ArrayList<>();
        int i = 0;
        for (Slot s : slots.values()) {
            if (s.kind == Parameter.Role.COUNTER) {
                out.add(SafeTensors.Entry.of(s.name, new long[] {s.count}, s.shape));
            } else {
                out.add(SafeTensors.Entry.of(s.name, values.get(i++), s.shape));
            }
        }
        return out;
    }

    /** Adam's moments, named by {@link AdamUpdate#firstMomentName} and {@link AdamUpdate#secondMomentName}. */
    @Override
    public List<SafeTensors.Entry> optimiserState() {
        List<Slot> trainable = trainable();
        List<Var> vars = new ArrayList<>();
        for (Slot s : trainable) {
            vars.add(s.first);
            vars.add(s.second);
        }
        List<float[]> values = read(vars);
        List<SafeTensors.Entry> out = new ArrayList<>();
        for (int i = 0; i < trainable.size(); i++) {
            Slot s = trainable.get(i);
            out.add(SafeTensors.Entry.of(AdamUpdate.firstMomentName(s.name), values.get(2 * i), s.shape));
            out.add(SafeTensors.Entry.of(AdamUpdate.secondMomentName(s.name), values.get(2 * i + 1), s.shape));
        }
        return out;
    }

    private List<float[]> read(List<Var> vars) {
        Session.Runner r = session.runner();
        for (Var v : vars) {
            r.fetch(v.read());
        }
        List<float[]> out = new ArrayList<>();
        try (Result result = run(r)) {
            for (int i = 0; i < vars.size(); i++) {
                out.add((float[]) TfTypes.toArray((TType) result.get(i)));
            }
        }
        return out;
    }

    // ---- running ------------------------------------------------------------------------------

    /** A runner of the session, to feed a batch into. */
    protected final Session.Runner runner() {
        return session.runner();
    }

    /**
     * One Adam step with learning rate {@code lr} on the batch {@code r} feeds; {@code feeds}
     * collects the tensors to close. Returns the loss.
     */
    protected final double step(Session.Runner r, double lr, List<TType> feeds) {
        return step(r, lr, feeds, List.of(), result -> { });
    }

    /**
     * {@link #step(Session.Runner, double, List)} that also fetches {@code fetches}, computed in the
     * same run (before the update), and hands them to {@code read} at result indices 1, 2, ...
     */
    protected final double step(Session.Runner r, double lr, List<TType> feeds, List<Operand<?>> fetches,
            Consumer<Result> read) {
        steps++;
        r.feed(learningRate, own(feeds, TFloat32.scalarOf((float) lr)))
                .feed(beta1Power, own(feeds, TFloat32.scalarOf((float) AdamUpdate.beta1Power(steps))))
                .feed(beta2Power, own(feeds, TFloat32.scalarOf((float) AdamUpdate.beta2Power(steps))))
                .feed(epsilon, own(feeds, TFloat32.scalarOf((float) AdamUpdate.foldedEpsilon(steps))))
                .fetch(trainLoss);
        fetches.forEach(r::fetch);
        trainTargets.forEach(r::addTarget);
        try (Result result = run(r)) {
            for (Norm n : norms) {
                n.batches().count++;
            }
            read.accept(result);
            return ((TFloat32) result.get(0)).getFloat();
        }
    }

    /** Adds {@code t} to {@code feeds} and returns it. */
    protected static <T extends TType> T own(List<TType> feeds, T t) {
        feeds.add(t);
        return t;
    }

    /** Runs {@code r}; an engine failure becomes a {@link BackendException}. */
    protected static Result run(Session.Runner r) {
        try {
            return r.run();
        } catch (RuntimeException e) {
            throw new BackendException("TensorFlow training graph failed: " + e, e);
        }
    }

    /** Closes the session and the graph. */
    @Override
    public void release() {
        try {
            if (session != null) {
                session.close();
            }
        } finally {
            graph.close();
        }
    }
}
