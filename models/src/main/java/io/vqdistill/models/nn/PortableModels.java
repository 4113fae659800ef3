package io.vqdistill.models.nn;

import io.vqdistill.api.Backend;
import io.vqdistill.api.FormatException;
import io.vqdistill.api.model.Classifier;
import io.vqdistill.api.model.Decoder;
import io.vqdistill.api.model.Encoder;
import io.vqdistill.api.model.Prior;
import io.vqdistill.formats.SafeTensors;
import io.vqdistill.models.ModelLoader;
import io.vqdistill.models.checkpoint.Checkpoint;
import io.vqdistill.models.layout.ClassifierLayout;
import io.vqdistill.models.layout.PixelCnnLayout;
import io.vqdistill.models.layout.VqVaeLayout;
import io.vqdistill.models.train.ClassifierSpec;
import io.vqdistill.models.train.PriorSpec;
import io.vqdistill.models.train.VqVaeSpec;
import java.nio.file.Path;
import java.util.Objects;
import java.util.function.Function;
import java.util.function.Supplier;

/**
 * Runs the networks of portable checkpoints on any backend that declares {@link NetworkOps}: the
 * VQ-VAE's encoder and decoder (Gaussian and categorical heads), the gated PixelCNN prior and the
 * image classifier, in
 * inference mode. Weights are read from {@code weights.safetensors} in PyTorch's layout and handed
 * to the backend's {@link NetworkOps} once, which converts them to its own layout. A backend
 * declares it as a capability next to its {@link NetworkOps}:
 *
 * <pre>{@code
 * NetworkOps ops = new MyNetworkOps(this);
 * capabilities = List.of(ops, new PortableModels(this, ops));
 * }</pre>
 *
 * Errors are {@link FormatException}s naming the file, the field or tensor (with both shapes or
 * dtypes) and the backend.
 */
public final class PortableModels implements ModelLoader {
    private final Backend backend;
    private final NetworkOps ops;

    /** Networks computing on {@code backend} through {@code ops}, which must be the backend's own. */
    public PortableModels(Backend backend, NetworkOps ops) {
        this.backend = Objects.requireNonNull(backend, "backend");
        this.ops = Objects.requireNonNull(ops, "ops");
    }

    @Override
    public Encoder loadEncoder(Path dir) {
        return loadVqVae(dir);
    }

    @Override
    public Decoder loadDecoder(Path dir) {
        return loadVqVae(dir);
    }

    @Override
    public Prior loadPrior(Path dir) {
        Checkpoint.Loaded c = Checkpoint.load(dir, Checkpoint.KIND_PRIOR);
        PriorSpec spec = onBackend(() -> PriorSpec.fromJson(c.config().architecture(), Checkpoint.configFile(dir)));
        return build(c.weights(), w -> new PortablePixelCnn(new PixelCnnLayout(spec), w));
    }

    @Override
    public Classifier loadClassifier(Path dir) {
        Checkpoint.Loaded c = Checkpoint.load(dir, Checkpoint.KIND_CLASSIFIER);
        ClassifierSpec spec = onBackend(() -> ClassifierSpec.fromJson(c.config().architecture(),
                Checkpoint.configFile(dir)));
        return build(c.weights(), w -> new PortableClassifier(new ClassifierLayout(spec), w));
    }

    private PortableVqVae loadVqVae(Path dir) {
        Checkpoint.Loaded c = Checkpoint.load(dir, Checkpoint.KIND_VQVAE);
        VqVaeSpec spec = onBackend(() -> VqVaeSpec.fromJson(c.config().architecture(), Checkpoint.configFile(dir)));
        return build(c.weights(), w -> new PortableVqVae(new VqVaeLayout(spec), w));
    }

    /**
     * Builds a network that owns {@code file}'s weights (read with its configuration from one
     * version of the folder); releases them if that fails.
     */
    private <T> T build(SafeTensors file, Function<NetworkWeights, T> network) {
        NetworkWeights weights = new NetworkWeights(file, backend, ops);
        try {
            return network.apply(weights);
        } catch (RuntimeException e) {
            try {
                weights.close();
            } catch (RuntimeException suppressed) {
                e.addSuppressed(suppressed);
            }
            throw e;
        }
    }

    private <T> T onBackend(Supplier<T> parse) {
        try {
            return parse.get();
        } catch (FormatException e) {
            throw new FormatException(e.getMessage() + " (loading on backend " + backend.name() + ")", e);
        }
    }
}
