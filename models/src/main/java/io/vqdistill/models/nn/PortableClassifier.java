package io.vqdistill.models.nn;

import io.vqdistill.api.Backend;
import io.vqdistill.api.DType;
import io.vqdistill.api.Tensor;
import io.vqdistill.api.TensorScope;
import io.vqdistill.api.model.Classifier;
import io.vqdistill.api.model.ImageShape;
import io.vqdistill.models.layout.ClassifierLayout;
import io.vqdistill.models.layout.ConvLayer;
import io.vqdistill.models.layout.LinearLayer;
import io.vqdistill.models.train.ClassifierSpec;
import java.util.ArrayList;
import java.util.List;

/**
 * The image classifier of a {@link ClassifierSpec} in inference mode on any backend with
 * {@link NetworkOps}; its tensors are those of the spec's {@link ClassifierLayout}. Large batches
 * are processed in chunks of {@value #CHUNK}; calls are serialised.
 */
final class PortableClassifier implements Classifier {
    /** Images per network evaluation. */
    static final int CHUNK = 1024;

    private final ClassifierSpec spec;
    private final NetworkWeights weights;
    private final NetworkOps ops;
    private final Backend backend;
    private final List<ConvLayer> layers;
    private final List<ConvWeights> features = new ArrayList<>();
    private final Tensor hiddenWeight;
    private final Tensor hiddenBias;
    private final Tensor outputWeight;
    private final Tensor outputBias;

    /** Reads every tensor of {@code layout} from {@code weights}, which this network then owns. */
    PortableClassifier(ClassifierLayout layout, NetworkWeights weights) {
        this.spec = layout.spec();
        this.weights = weights;
        this.ops = weights.ops();
        this.backend = weights.backend();
        this.layers = layout.features();
        for (ConvLayer c : layers) {
            features.add(weights.conv(c));
        }
        LinearLayer hidden = layout.hidden();
        LinearLayer output = layout.output();
        hiddenWeight = weights.tensor(hidden.weight());
        hiddenBias = weights.tensor(hidden.bias());
        outputWeight = weights.tensor(output.weight());
        outputBias = weights.tensor(output.bias());
        weights.checkAllUsed();
    }

    @Override
    public ImageShape imageShape() {
        return spec.image();
    }

    @Override
    public int numClasses() {
        return spec.numClasses();
    }

    @Override
    public synchronized Tensor logProbs(Tensor images) {
        ModelArguments.images("logProbs", images, spec.image());
        long b = images.shape(0);
        List<Tensor> chunks = new ArrayList<>();
        try (TensorScope outer = TensorScope.open()) {
            for (long from = 0; from < b; from += CHUNK) {
                try (TensorScope scope = TensorScope.open()) {
                    chunks.add(scope.keep(forward(images.slice(0, from, Math.min(b, from + CHUNK)))));
                }
            }
            Tensor all = chunks.isEmpty() ? backend.zeros(DType.FLOAT32, 0, spec.numClasses())
                    : chunks.size() == 1 ? chunks.get(0) : backend.concat(chunks, 0);
            return outer.keep(all);
        }
    }

    /** Images [B, C, H, W] to log-probabilities [B, classes]. */
    private Tensor forward(Tensor x) {
        Tensor h = x;
        for (int i = 0; i < layers.size(); i++) {
            ConvLayer c = layers.get(i);
            h = ops.activation(Activation.RELU, ops.conv2d(h, features.get(i), c.stride(), c.paddingHeight(),
                    c.paddingWidth()));
        }
        Tensor flat = h.reshape(h.shape(0), spec.flattenedFeatures());
        Tensor hidden = ops.activation(Activation.RELU, flat.matmul(hiddenWeight.transposeLast()).add(hiddenBias));
        return hidden.matmul(outputWeight.transposeLast()).add(outputBias).logSoftmax(1);
    }

    @Override
    public synchronized void close() {
        weights.close();
    }
}
