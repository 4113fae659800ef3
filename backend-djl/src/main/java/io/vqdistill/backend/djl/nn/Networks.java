package io.vqdistill.backend.djl.nn;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDManager;
import io.vqdistill.api.Backend;
import io.vqdistill.api.BackendException;
import io.vqdistill.api.Device;

/** The DJL side shared by the trainer and the loader: the PyTorch engine's manager on the backend's device. */
final class Networks {
    /** DJL's name of its PyTorch engine. */
    static final String ENGINE = "PyTorch";

    private Networks() {
    }

    /** A new root manager on the device of {@code backend}. */
    static NDManager rootManager(Backend backend) {
        Device d = backend.device();
        ai.djl.Device device = d.type() == Device.Type.GPU ? ai.djl.Device.gpu(d.index()) : ai.djl.Device.cpu();
        try {
            return Engine.getEngine(ENGINE).newBaseManager(device);
        } catch (RuntimeException e) {
            throw new BackendException("cannot create a DJL " + ENGINE + " manager on " + d + ": " + e.getMessage(), e);
        }
    }
}
