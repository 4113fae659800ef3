package io.vqdistill.backend.djl;

import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.SparseFormat;
import ai.djl.pytorch.engine.PtNDManager;
import ai.djl.pytorch.jni.JniUtils;
import io.vqdistill.api.Capability;
import io.vqdistill.api.DType;
import io.vqdistill.api.Device;
import io.vqdistill.api.Tensor;
import io.vqdistill.api.TensorException;
import io.vqdistill.api.spi.AbstractBackend;
import io.vqdistill.backend.djl.nn.DjlCmTrainer;
import io.vqdistill.backend.djl.nn.DjlDecoderTuner;
import io.vqdistill.backend.djl.nn.DjlModelTrainer;
import io.vqdistill.models.nn.PortableModels;
import java.util.List;

/**
 * The vqdistill backend on Deep Java Library's PyTorch engine, created by
 * {@link DjlBackendProvider}. All its tensors live on one device and are attached to one root
 * {@code NDManager}; each tensor owns its own array and frees it when closed, and closing the
 * backend frees whatever is still open. It declares training
 * ({@link io.vqdistill.models.train.ModelTrainer}) of the VQ-VAE and the prior and of continuous
 * mixtures ({@link io.vqdistill.models.train.CmTrainer}), the network
 * operations ({@link io.vqdistill.models.nn.NetworkOps}, by {@link DjlNetworkOps}) and, on them,
 * checkpoint loading ({@link PortableModels}).
 *
 * <p>Safe to use from several threads as long as each tensor is closed by one thread only.
 */
public final class DjlBackend extends AbstractBackend {
    private final String name;
    private final String version;
    private final Device device;
    private final List<Device> devices;
    private final NDManager manager;
    private final List<Capability> capabilities;
    private volatile boolean closed;

    DjlBackend(String name, String version, Device device, List<Device> devices, NDManager manager) {
        this.name = name;
        this.version = version;
        this.device = device;
        this.devices = List.copyOf(devices);
        this.manager = manager;
        DjlNetworkOps ops = new DjlNetworkOps(this);
        this.capabilities = List.of(new DjlModelTrainer(this), new DjlCmTrainer(this), ops,
                new PortableModels(this, ops), new DjlDecoderTuner(this));
    }

    @Override
    public String name() {
        return name;
    }

    /** {@code DJL <version> / PyTorch <version>}, as reported by the loaded engine. */
    @Override
    public String version() {
        return version;
    }

    @Override
    public Device device() {
        return device;
    }

    /** The CPU, then every GPU the PyTorch engine reports. */
    @Override
    public List<Device> devices() {
        return devices;
    }

    /**
     * Training and loading of the networks ({@code train}, {@code train-cm}, {@code load-models}), the
     * network operations, and decoder tuning ({@code tune-decoder}).
     */
    @Override
    public List<Capability> capabilities() {
        return capabilities;
    }

    @Override
    protected Tensor create(Object data, DType dtype, long[] shape) {
        checkOpen();
        return DjlTensor.wrap(this, DjlTypes.create(manager, data, dtype, shape));
    }

    @Override
    protected Tensor doFull(DType dtype, double value, long[] shape) {
        checkOpen();
        // NDManager.full takes a float, which would turn 1e-300 into 0 and round large integers;
        // the engine's own fill takes a double.
        return DjlTensor.wrap(this, JniUtils.full((PtNDManager) manager, DjlTypes.shape(shape), value,
                DjlTypes.toDjl(dtype), manager.getDevice(), SparseFormat.DENSE));
    }

    @Override
    protected Tensor doConcat(List<Tensor> tensors, int axis, long[] resultShape) {
        checkOpen();
        NDList list = new NDList(tensors.size());
        for (Tensor t : tensors) {
            list.add(((DjlTensor) t).array());
        }
        return DjlTensor.wrap(this, NDArrays.concat(list, axis));
    }

    /** Frees every array still open; tensors of this backend must not be used afterwards. Idempotent. */
    @Override
    public synchronized void close() {
        if (!closed) {
            closed = true;
            manager.close();
        }
    }

    /** The root manager every tensor's array is attached to. */
    NDManager manager() {
        return manager;
    }

    /** Throws if the backend was closed. */
    void checkOpen() {
        if (closed) {
            throw new TensorException("backend " + name + " was closed; its tensors can no longer be used");
        }
    }
}
