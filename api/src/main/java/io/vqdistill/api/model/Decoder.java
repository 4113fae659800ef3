package io.vqdistill.api.model;

import io.vqdistill.api.Tensor;
import java.util.Map;

/**
 * The VQ-VAE decoder: code grids to the parameters of a factorised pixel distribution p(x | z),
 * one leaf per pixel. The parameter names and shapes are those of the leaf family named by
 * {@link #leafFamily()}, and match the circuit file format: for {@code gaussian} the tensors
 * {@code mean} and {@code log_var}, FLOAT32 [B, S] (natural-log variance, standard deviation already
 * clamped as in training); for {@code categorical} {@code logits}, FLOAT32 [B, S, V] with V = 256
 * pixel levels.
 */
public interface Decoder extends AutoCloseable {

    /** The latent grids accepted. */
    LatentShape latentShape();

    /** The image shape whose pixels the leaves describe; S = {@code imageShape().pixels()}. */
    ImageShape imageShape();

    /** The leaf family of the output, e.g. {@code gaussian} or {@code categorical}. */
    String leafFamily();

    /**
     * Decodes a batch of grids into leaf parameters.
     *
     * @param codes INT64 [B, h*w] codes in [0, K), raster order
     * @return parameter name to tensor, each with leading axis B; the caller closes them
     */
    Map<String, Tensor> decode(Tensor codes);

    /** Releases the network's engine memory. */
    @Override
    void close();
}
