package io.vqdistill.models;

import io.vqdistill.api.Capability;
import io.vqdistill.api.model.Classifier;
import io.vqdistill.api.model.Decoder;
import io.vqdistill.api.model.Encoder;
import io.vqdistill.api.model.Prior;
import java.nio.file.Path;

/**
 * The capability of running trained networks from a portable checkpoint folder
 * ({@link io.vqdistill.models.checkpoint.Checkpoint}), whichever backend wrote it. The networks take
 * and return tensors of the backend that declared this capability. A checkpoint of the wrong kind,
 * an unknown architecture, or a missing or misshapen tensor is a
 * {@link io.vqdistill.api.FormatException} naming the file, the tensor and both shapes.
 */
public interface ModelLoader extends Capability {

    @Override
    default String capabilityName() {
        return "load-models";
    }

    /** The encoder and codebook of the VQ-VAE checkpoint in {@code dir}, in inference mode. */
    Encoder loadEncoder(Path dir);

    /** The decoder of the VQ-VAE checkpoint in {@code dir}, in inference mode. */
    Decoder loadDecoder(Path dir);

    /** The prior of the prior checkpoint in {@code dir}, with its class prior log p(c). */
    Prior loadPrior(Path dir);

    /** The image classifier of the classifier checkpoint in {@code dir}, in inference mode. */
    Classifier loadClassifier(Path dir);
}
