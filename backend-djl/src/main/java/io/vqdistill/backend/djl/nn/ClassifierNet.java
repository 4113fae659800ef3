package io.vqdistill.backend.djl.nn;

import ai.djl.ndarray.NDArray;
import io.vqdistill.models.layout.ClassifierLayout;
import io.vqdistill.models.layout.ConvLayer;
import io.vqdistill.models.layout.LinearLayer;
import java.util.ArrayList;
import java.util.List;

/** The image classifier of a {@link ClassifierLayout} on DJL, bound to the arrays of its {@link Params}. */
final class ClassifierNet {
    private final List<Layers.Conv> features = new ArrayList<>();
    private final NDArray hiddenWeight;
    private final NDArray hiddenBias;
    private final NDArray outputWeight;
    private final NDArray outputBias;

    ClassifierNet(Params p, ClassifierLayout layout) {
        for (ConvLayer c : layout.features()) {
            features.add(new Layers.Conv(p, c));
        }
        LinearLayer hidden = layout.hidden();
        LinearLayer output = layout.output();
        hiddenWeight = p.array(hidden.weight());
        hiddenBias = p.array(hidden.bias());
        outputWeight = p.array(output.weight());
        outputBias = p.array(output.bias());
    }

    /** Images FLOAT32 [B, C, H, W] to log-probabilities [B, classes]. */
    NDArray logProbs(NDArray x) {
        NDArray h = x;
        for (Layers.Conv c : features) {
            h = Layers.relu(c.forward(h));
        }
        NDArray flat = h.reshape(h.getShape().get(0), -1);
        NDArray hidden = Layers.relu(flat.matMul(hiddenWeight.transpose()).add(hiddenBias));
        return hidden.matMul(outputWeight.transpose()).add(outputBias).logSoftmax(1);
    }

    /** The mean cross-entropy of log-probabilities {@code logProbs} [B, classes] against INT64 {@code labels} [B]. */
    static NDArray crossEntropy(NDArray logProbs, NDArray labels) {
        long b = labels.getShape().get(0);
        return logProbs.gather(labels.reshape(b, 1), 1).mean().neg();
    }
}
