package io.vqdistill.backend.tensorflow;

import io.vqdistill.api.BackendException;
import io.vqdistill.api.Capability;
import io.vqdistill.api.DType;
import io.vqdistill.api.Device;
import io.vqdistill.api.Tensor;
import io.vqdistill.api.spi.AbstractBackend;
import io.vqdistill.api.spi.BackendOptions;
import io.vqdistill.backend.tensorflow.TfEngine.Kernel;
import io.vqdistill.backend.tensorflow.TfTensor.Feeds;
import io.vqdistill.models.nn.PortableModels;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.tensorflow.Output;
import org.tensorflow.TensorFlow;
import org.tensorflow.proto.ConfigProto;
import org.tensorflow.proto.DataType;
import org.tensorflow.proto.GPUOptions;
import org.tensorflow.proto.GraphOptions;
import org.tensorflow.proto.RewriterConfig;

/**
 * The TensorFlow Java backend: tensors live in host memory as TensorFlow tensors, freed as soon as
 * they are closed, and every operation runs as a small cached graph in one TensorFlow session (see
 * {@link TfEngine} for why not eager execution). Created by {@link TfBackendProvider}.
 *
 * <p>Threads: {@code threads} sets TensorFlow's intra-op pool, which parallelises the work inside
 * one operation; operations themselves run in the calling thread (inter-op parallelism -1), so Java
 * threads may call in parallel. TensorFlow sizes the intra-op pool once per process, from the first
 * session: a later backend asking for a different count shares the first pool (a warning says so).
 *
 * <p>Devices: with a GPU device, operations are pinned to that GPU (with soft placement for
 * operations that have no GPU kernel) but their results come back to host memory after each
 * operation, so the GPU pays a copy per operation; the CPU is the tested configuration.
 *
 * <p>Memory: the native tensors are not counted by the JVM heap, but JavaCPP, which TensorFlow
 * Java uses, refuses new native objects once the process's resident memory exceeds
 * {@code org.bytedeco.javacpp.maxPhysicalBytes} (by default {@code maxBytes} plus three times the
 * maximum heap): with a small {@code -Xmx} and large tensors, raise or disable (0) that limit.
 *
 * <p>Capabilities: {@link io.vqdistill.models.nn.NetworkOps} ({@link TfNetworkOps}), the convolutions
 * and activations that run portable networks, checkpoint loading on them ({@link PortableModels}),
 * and training of both networks ({@link io.vqdistill.models.train.ModelTrainer}: {@link TfModelTrainer},
 * a graph and session of its own per run), training of continuous mixtures
 * ({@link io.vqdistill.models.train.CmTrainer}: {@link TfCmTrainer}) and decoder tuning
 * ({@link io.vqdistill.models.train.DecoderTuner}: {@link TfDecoderTuner}).
 */
public final class TfBackend extends AbstractBackend {
    private static final Logger LOG = LoggerFactory.getLogger(TfBackend.class);
    private static final AtomicBoolean LOG_HINT_GIVEN = new AtomicBoolean();
    /** The threads option of the first backend started in this JVM, which sized TF's intra-op pool. */
    private static final AtomicReference<Integer> FIRST_THREADS = new AtomicReference<>();
    /** ConcatV2 is built for at most this many inputs; longer lists are joined as a tree. */
    private static final int CONCAT_FAN_IN = 16;

    private final TfEngine engine;
    private final ConfigProto config;
    private final String pinnedDevice;
    private final String version;
    private final Device device;
    private final List<Device> devices;
    private final List<Capability> capabilities;
    private final AtomicBoolean closed = new AtomicBoolean();

    private TfBackend(TfEngine engine, ConfigProto config, String pinnedDevice, String version, Device device,
            List<Device> devices) {
        this.engine = engine;
        this.config = config;
        this.pinnedDevice = pinnedDevice;
        this.version = version;
        this.device = device;
        this.devices = List.copyOf(devices);
        TfNetworkOps ops = new TfNetworkOps(this);
        this.capabilities = List.of(ops, new PortableModels(this, ops), new TfModelTrainer(this),
                new TfCmTrainer(this), new TfDecoderTuner(this));
    }

    /**
     * Loads the native library, lists TensorFlow's devices, picks the one {@code options} asks for
     * and starts a session with the requested threads.
     *
     * @throws BackendException when the native library does not load, the device is absent or the
     *                          session does not start
     */
    static TfBackend start(BackendOptions options) {
        String tfVersion;
        try {
            tfVersion = TensorFlow.version();
        } catch (LinkageError | RuntimeException e) {
            throw new BackendException("Failed to load TensorFlow native library (tensorflow-core-native "
                    + TfBackendProvider.javaApiVersion() + ", " + TfBackendProvider.PLATFORM + "): " + e, e);
        }
        if (System.getenv("TF_CPP_MIN_LOG_LEVEL") == null && LOG_HINT_GIVEN.compareAndSet(false, true)) {
            LOG.info("TF_CPP_MIN_LOG_LEVEL is not set, so TensorFlow's native INFO and WARNING lines go to stderr;"
                    + " set it (e.g. to 2) in the environment before the JVM starts: TensorFlow reads it from the"
                    + " process environment, which Java cannot change");
        }
        Integer poolThreads = FIRST_THREADS.compareAndExchange(null, options.threads());
        if (poolThreads != null && poolThreads != options.threads()) {
            LOG.warn("threads={} ignored: TensorFlow sizes its intra-op thread pool once per process, and the first"
                    + " TensorFlow backend of this JVM asked for threads={}", options.threads(), poolThreads);
        }
        ConfigProto config = config(options);
        List<Device> found;
        try {
            found = TfDevices.list(config);
        } catch (RuntimeException | LinkageError e) {
            throw new BackendException("TensorFlow could not list its devices: " + e, e);
        }
        Device chosen = choose(options, found);
        String pinned = chosen.type() == Device.Type.GPU ? "/device:GPU:" + chosen.index() : null;
        TfEngine engine;
        try {
            engine = new TfEngine(config, pinned);
        } catch (RuntimeException | LinkageError e) {
            throw new BackendException("Failed to start a TensorFlow session on " + chosen + ": " + e, e);
        }
        String version = "TensorFlow Java " + TfBackendProvider.javaApiVersion() + " (TF " + tfVersion + ")";
        LOG.debug("started {} on {} (devices {}, threads {})", version, chosen, found,
                options.threads() == 0 ? "default" : options.threads());
        return new TfBackend(engine, config, pinned, version, chosen, found);
    }

    private static ConfigProto config(BackendOptions options) {
        ConfigProto.Builder c = ConfigProto.newBuilder()
                .setAllowSoftPlacement(true)
                // take GPU memory as needed instead of nearly all of it up front
                .setGpuOptions(GPUOptions.newBuilder().setAllowGrowth(true))
                // a negative inter-op count runs each kernel in the calling thread: no thread hop per
                // operation, and Java threads calling in parallel run their kernels in parallel
                .setInterOpParallelismThreads(-1)
                // each kernel is one or a few operations written as intended: Grappler would only add
                // latency to the first run of every kernel
                .setGraphOptions(GraphOptions.newBuilder()
                        .setRewriteOptions(RewriterConfig.newBuilder().setDisableMetaOptimizer(true)));
        if (options.threads() > 0) {
            c.setIntraOpParallelismThreads(options.threads());
        }
        if (options.device().equals("cpu")) {
            c.putDeviceCount("GPU", 0);
        }
        return c.build();
    }

    private static Device choose(BackendOptions options, List<Device> found) {
        if (options.autoDevice()) {
            return found.contains(Device.gpu(0)) ? Device.gpu(0) : Device.CPU;
        }
        Device wanted = Device.parse(options.device());
        if (!found.contains(wanted)) {
            throw new BackendException("TensorFlow has no device " + wanted + "; it lists " + found
                    + (found.stream().anyMatch(d -> d.type() == Device.Type.GPU) ? ""
                    : " (a GPU needs tensorflow-core-native with classifier linux-x86_64-gpu and the host's"
                    + " CUDA libraries; the plain linux-x86_64 native jar is CPU-only)"));
        }
        return wanted;
    }

    /** The engine running this backend's operations. */
    TfEngine engine() {
        return engine;
    }

    @Override
    public String name() {
        return TfBackendProvider.NAME;
    }

    @Override
    public String version() {
        return version;
    }

    @Override
    public Device device() {
        return device;
    }

    @Override
    public List<Device> devices() {
        return devices;
    }

    /** The session configuration every session of this backend uses (threads, placement, GPU memory). */
    ConfigProto sessionConfig() {
        return config;
    }

    /** The TensorFlow device operations are pinned to, e.g. {@code /device:GPU:1}, or null for TF's choice. */
    String pinnedDevice() {
        return pinnedDevice;
    }

    @Override
    public List<Capability> capabilities() {
        return capabilities;
    }

    @Override
    protected Tensor create(Object data, DType dtype, long[] shape) {
        return TfTensor.wrap(this, TfTypes.fromArray(data, dtype, shape));
    }

    @Override
    protected Tensor doFull(DType dtype, double value, long[] shape) {
        long size = 1;
        for (long d : shape) {
            size *= d;
        }
        if (size == 0) {
            return TfTensor.wrap(this, TfTypes.empty(dtype, shape));
        }
        if (shape.length == 0) {
            return TfTensor.wrap(this, TfTypes.scalar(dtype, value));
        }
        DataType type = TfTypes.dataType(dtype);
        Kernel k = engine.kernel(TfTensor.key("fill", dtype),
                b -> b.output(b.op("Fill", b.input(DataType.DT_INT64), b.input(type))));
        return TfTensor.run1(this, k, new Feeds().own(TfTypes.longs(shape)).own(TfTypes.scalar(dtype, value)));
    }

    @Override
    protected Tensor doConcat(List<Tensor> tensors, int axis, long[] resultShape) {
        if (tensors.size() == 1) {
            DataType type = TfTypes.dataType(tensors.get(0).dtype());
            Kernel k = engine.kernel(TfTensor.key("identity", tensors.get(0).dtype()),
                    b -> b.output(b.op("Identity", b.input(type))));
            return TfTensor.run1(this, k, new Feeds().add(tensors.get(0)));
        }
        if (tensors.size() <= CONCAT_FAN_IN) {
            return concatFlat(tensors, axis);
        }
        // join groups of CONCAT_FAN_IN, then the groups' results, so the graph holds few ConcatV2 arities
        List<Tensor> level = new ArrayList<>();
        try {
            for (int from = 0; from < tensors.size(); from += CONCAT_FAN_IN) {
                List<Tensor> group = tensors.subList(from, Math.min(tensors.size(), from + CONCAT_FAN_IN));
                level.add(group.size() == 1 ? doConcat(group, axis, null) : concatFlat(group, axis));
            }
            return doConcat(level, axis, resultShape);
        } finally {
            level.forEach(Tensor::close);
        }
    }

    private Tensor concatFlat(List<Tensor> tensors, int axis) {
        int n = tensors.size();
        DType dtype = tensors.get(0).dtype();
        DataType type = TfTypes.dataType(dtype);
        Kernel k = engine.kernel(TfTensor.key("concat", dtype, n), b -> {
            Output<?>[] inputs = new Output<?>[n];
            for (int i = 0; i < n; i++) {
                inputs[i] = b.input(type);
            }
            b.output(b.listOp("ConcatV2", inputs, b.input(DataType.DT_INT32)));
        });
        Feeds feeds = new Feeds();
        for (Tensor t : tensors) {
            feeds.add(t);
        }
        return TfTensor.run1(this, k, feeds.own(TfTypes.int32(axis)));
    }

    /** Closes the TensorFlow session; tensors created by this backend must not be used afterwards. */
    @Override
    public void close() {
        if (closed.compareAndSet(false, true)) {
            engine.close();
        }
    }
}
