package io.vqdistill.backend.djl.nn;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import io.vqdistill.api.Backend;
import io.vqdistill.models.data.DataSplit;
import io.vqdistill.models.layout.ClassifierLayout;
import io.vqdistill.models.train.ClassifierRunner;
import io.vqdistill.models.train.ClassifierSpec;
import io.vqdistill.models.train.EpochRunner;
import io.vqdistill.models.train.TrainingListener;
import io.vqdistill.models.train.TrainingSpec;
import java.nio.file.Path;
import java.util.SplittableRandom;

/** Trains a {@link ClassifierNet} on a {@link DataSplit} with DJL; the epoch loop is {@link ClassifierRunner}'s. */
final class ClassifierTraining extends ClassifierRunner {
    private final NDManager root;
    private final DjlRun run;
    private ClassifierNet net;

    ClassifierTraining(ClassifierSpec spec, TrainingSpec training, DataSplit data, Backend backend, NDManager root,
            Path dir, TrainingListener listener) {
        super(spec, training, data, backend, dir, listener);
        this.root = root;
        ClassifierLayout layout = new ClassifierLayout(spec);
        this.run = new DjlRun(root, training, layout, () -> layout.initialValues(training.seed()),
                p -> net = new ClassifierNet(p, layout));
    }

    @Override
    protected EpochRunner.Engine engine() {
        return run;
    }

    private NDArray images(float[] pixels, int n, NDManager scope) {
        return scope.create(pixels, new Shape(n, spec.image().channels(), spec.image().height(), spec.image().width()));
    }

    @Override
    protected double trainStep(int[] indices, SplittableRandom noise) {
        float[] pixels = data.train().dequantised(indices, noise);
        long[] labels = trainLabels(indices);
        return run.step(scope -> ClassifierNet.crossEntropy(net.logProbs(images(pixels, indices.length, scope)),
                scope.create(labels, new Shape(indices.length))));
    }

    @Override
    protected float[] logProbs(float[] pixels, int n) {
        GradMode.off();
        try (NDManager scope = root.newSubManager()) {
            run.params().attachTo(scope);
            return net.logProbs(images(pixels, n, scope)).toFloatArray();
        }
    }
}
