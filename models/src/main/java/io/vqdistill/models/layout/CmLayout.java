package io.vqdistill.models.layout;

import io.vqdistill.models.train.CmSpec;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * The tensors of the decoder of a continuous mixture ({@link CmSpec}), named as PyTorch's state
 * dict of the equivalent module and registered in its order:
 *
 * <pre>
 * decoder.hidden.{i}     Linear, latent (i = 0) or the previous width to hidden(i), then ReLU
 * decoder.out            Linear to the leaf parameters of every pixel
 * </pre>
 *
 * The output row of a latent point holds, for a Gaussian head, the S raw means (a sigmoid follows)
 * and then the S raw natural-log variances (clamped to the head's range); for a categorical head
 * the 256 logits of pixel 0, then those of pixel 1, and so on.
 */
public final class CmLayout extends NetworkLayout {
    private final CmSpec spec;
    private final List<LinearLayer> hidden = new ArrayList<>();
    private final LinearLayer output;

    /** The layout of {@code spec}. */
    public CmLayout(CmSpec spec) {
        this.spec = spec;
        int in = spec.latentDim();
        for (int i = 0; i < spec.hidden().size(); i++) {
            int width = spec.hidden().get(i);
            hidden.add(linear("decoder.hidden." + i, in, width));
            in = width;
        }
        output = linear("decoder.out", in, spec.outputsPerPoint());
    }

    /** The architecture. */
    public CmSpec spec() {
        return spec;
    }

    /** The hidden layers, from the latent point. */
    public List<LinearLayer> hidden() {
        return List.copyOf(hidden);
    }

    /** The layer to the leaf parameters. */
    public LinearLayer output() {
        return output;
    }

    /** The initial values of a training run seeded with {@code seed} (see {@link NetworkLayout#initialValues}). */
    public Map<String, float[]> initialValues(long seed) {
        return initialValues(seed, Map.of());
    }
}
