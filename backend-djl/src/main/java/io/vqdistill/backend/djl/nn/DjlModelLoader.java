package io.vqdistill.backend.djl.nn;

import ai.djl.ndarray.NDManager;
import io.vqdistill.api.Backend;
import io.vqdistill.api.checkpoint.Checkpoint;
import io.vqdistill.api.model.Decoder;
import io.vqdistill.api.model.Encoder;
import io.vqdistill.api.model.Prior;
import io.vqdistill.api.train.ModelLoader;
import io.vqdistill.api.train.PriorSpec;
import io.vqdistill.api.train.VqVaeSpec;
import java.nio.file.Path;
import java.util.function.BiFunction;

/**
 * Loads the networks of portable checkpoint folders onto DJL's PyTorch engine. Each loaded network
 * owns its weights until it is closed, or until {@code parent} closes; inputs and outputs are
 * tensors of the backend given here.
 */
public final class DjlModelLoader implements ModelLoader {
    private final Backend backend;
    private final NDManager parent;

    /**
     * A loader whose networks exchange tensors with {@code backend} and keep their weights in
     * children of {@code parent} (a PyTorch-engine manager on the backend's device).
     */
    public DjlModelLoader(Backend backend, NDManager parent) {
        this.backend = backend;
        this.parent = parent;
    }

    @Override
    public Encoder loadEncoder(Path dir) {
        return loadVqVae(dir, (p, net) -> new DjlEncoder(backend, parent, p, net));
    }

    @Override
    public Decoder loadDecoder(Path dir) {
        return loadVqVae(dir, (p, net) -> new DjlDecoder(backend, parent, p, net));
    }

    /** Reads a VQ-VAE checkpoint and wraps its network; the weights are released if that fails. */
    private <T> T loadVqVae(Path dir, BiFunction<Params, VqVaeNet, T> wrap) {
        Checkpoint c = Checkpoint.read(dir, Checkpoint.KIND_VQVAE);
        VqVaeSpec spec = VqVaeSpec.fromJson(c.architecture(), Checkpoint.configFile(dir));
        Params p = Params.fromFile(parent, Checkpoint.weights(dir));
        try {
            VqVaeNet net = new VqVaeNet(p, spec);
            p.checkNoUnexpected();
            return wrap.apply(p, net);
        } catch (RuntimeException e) {
            p.close();
            throw e;
        }
    }

    @Override
    public Prior loadPrior(Path dir) {
        Checkpoint c = Checkpoint.read(dir, Checkpoint.KIND_PRIOR);
        PriorSpec spec = PriorSpec.fromJson(c.architecture(), Checkpoint.configFile(dir));
        Params p = Params.fromFile(parent, Checkpoint.weights(dir));
        try {
            PixelCnnNet net = new PixelCnnNet(p, p.manager().newSubManager(), spec, new float[spec.numClasses()]);
            p.checkNoUnexpected();
            return new DjlPrior(backend, parent, p, net);
        } catch (RuntimeException e) {
            p.close();
            throw e;
        }
    }
}
