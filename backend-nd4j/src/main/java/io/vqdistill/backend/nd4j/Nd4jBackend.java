package io.vqdistill.backend.nd4j;

import io.vqdistill.api.Capability;
import io.vqdistill.api.DType;
import io.vqdistill.api.Device;
import io.vqdistill.api.Tensor;
import io.vqdistill.api.TensorException;
import io.vqdistill.api.spi.AbstractBackend;
import io.vqdistill.models.nn.PortableModels;
import java.util.List;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * The ND4J backend: tensors are ND4J arrays in host memory, computed by nd4j-native (libnd4j with
 * OpenBLAS) on the CPU, the only device of this build. Created by {@link Nd4jBackendProvider}.
 *
 * <p>ND4J's native library and thread settings belong to the process, so several instances share
 * them; closing an instance ends its use (creating tensors on it then fails) but cannot unload the
 * library. Beyond the core tensor operations it declares network inference
 * ({@link io.vqdistill.models.nn.NetworkOps}: convolutions, transposed convolutions and activations on
 * libnd4j's native ops) and, on it, checkpoint loading ({@link PortableModels}). It does not train.
 */
public final class Nd4jBackend extends AbstractBackend {
    /** The provider name. */
    public static final String NAME = "nd4j";

    private final String version;
    private final int threads;
    private final List<Capability> capabilities;
    private volatile boolean closed;

    Nd4jBackend(String version, int threads) {
        this.version = version;
        this.threads = threads;
        Nd4jNetworkOps ops = new Nd4jNetworkOps(this);
        this.capabilities = List.of(ops, new PortableModels(this, ops));
    }

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public String version() {
        return version;
    }

    @Override
    public Device device() {
        return Device.CPU;
    }

    @Override
    public List<Device> devices() {
        return List.of(Device.CPU);
    }

    /** Network inference ({@code nn-inference}) and checkpoint loading ({@code load-models}). */
    @Override
    public List<Capability> capabilities() {
        return capabilities;
    }

    /**
     * The intra-op CPU threads ND4J was set to when this backend was created. The setting is
     * process-wide: a later backend created with another count changes it for this one too.
     */
    public int threads() {
        return threads;
    }

    @Override
    protected Tensor create(Object data, DType dtype, long[] shape) {
        checkOpen("of");
        return Nd4jTensor.wrap(this, Nd4jConverter.create(data, dtype, shape));
    }

    @Override
    protected Tensor doFull(DType dtype, double value, long[] shape) {
        checkOpen("full");
        return Nd4jTensor.wrap(this, Nd4jConverter.full(dtype, value, shape));
    }

    @Override
    protected Tensor doConcat(List<Tensor> tensors, int axis, long[] resultShape) {
        checkOpen("concat");
        INDArray[] arrays = tensors.stream().map(t -> ((Nd4jTensor) t).array()).toArray(INDArray[]::new);
        return Nd4jTensor.wrap(this, Nd4j.concat(axis, arrays), arrays);
    }

    /** Throws if this backend was closed; {@code op} names the operation in the message. */
    void checkOpen(String op) {
        if (closed) {
            throw new TensorException(op + " (backend " + NAME + "): the backend was closed");
        }
    }

    /** Marks this backend closed; ND4J's native library stays loaded for the rest of the process. */
    @Override
    public void close() {
        closed = true;
    }
}
