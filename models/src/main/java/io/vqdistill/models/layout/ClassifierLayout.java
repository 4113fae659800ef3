package io.vqdistill.models.layout;

import io.vqdistill.models.train.ClassifierSpec;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * The tensors of the image classifier of a {@link ClassifierSpec}, named as PyTorch's state dict
 * of the equivalent module and registered in its order:
 *
 * <pre>
 * features.{i}     one per stage: kernel 5, stride 2, padding 2, then ReLU
 * hidden           the flattened features (NCHW order) to the hidden units, then ReLU
 * output           the hidden units to one logit per class
 * </pre>
 */
public final class ClassifierLayout extends NetworkLayout {
    private final ClassifierSpec spec;
    private final List<ConvLayer> features = new ArrayList<>();
    private final LinearLayer hidden;
    private final LinearLayer output;

    /** The layout of {@code spec}. */
    public ClassifierLayout(ClassifierSpec spec) {
        this.spec = spec;
        int in = spec.image().channels();
        for (int i = 0; i < spec.channels().size(); i++) {
            int c = spec.channels().get(i);
            features.add(conv("features." + i, in, c, ClassifierSpec.KERNEL, 2, ClassifierSpec.KERNEL / 2));
            in = c;
        }
        hidden = linear("hidden", spec.flattenedFeatures(), spec.hidden());
        output = linear("output", spec.hidden(), spec.numClasses());
    }

    /** The architecture. */
    public ClassifierSpec spec() {
        return spec;
    }

    /** The convolution stages, from the image. */
    public List<ConvLayer> features() {
        return List.copyOf(features);
    }

    /** The layer from the flattened features to the hidden units. */
    public LinearLayer hidden() {
        return hidden;
    }

    /** The layer from the hidden units to the logits. */
    public LinearLayer output() {
        return output;
    }

    /** The initial values of a training run seeded with {@code seed} (see {@link NetworkLayout#initialValues}). */
    public Map<String, float[]> initialValues(long seed) {
        return initialValues(seed, Map.of());
    }
}
