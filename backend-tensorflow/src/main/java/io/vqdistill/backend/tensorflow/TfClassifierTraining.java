package io.vqdistill.backend.tensorflow;

import io.vqdistill.models.data.DataSplit;
import io.vqdistill.models.train.ClassifierRunner;
import io.vqdistill.models.train.ClassifierSpec;
import io.vqdistill.models.train.EpochRunner;
import io.vqdistill.models.train.TrainingListener;
import io.vqdistill.models.train.TrainingSpec;
import java.nio.file.Path;
import java.util.SplittableRandom;

/** Trains a {@link TfClassifierNet} on a {@link DataSplit}; the epoch loop is {@link ClassifierRunner}'s. */
final class TfClassifierTraining extends ClassifierRunner {
    private final TfBackend tfBackend;
    private TfClassifierNet net;

    TfClassifierTraining(ClassifierSpec spec, TrainingSpec training, DataSplit data, TfBackend backend, Path dir,
            TrainingListener listener) {
        super(spec, training, data, backend, dir, listener);
        this.tfBackend = backend;
    }

    @Override
    protected EpochRunner.Engine engine() {
        net = new TfClassifierNet(spec, training.seed(), tfBackend.sessionConfig(), tfBackend.pinnedDevice());
        return net;
    }

    @Override
    protected double trainStep(int[] indices, SplittableRandom noise) {
        return net.trainStep(data.train().dequantised(indices, noise), trainLabels(indices), indices.length,
                training.learningRate());
    }

    @Override
    protected float[] logProbs(float[] pixels, int n) {
        return net.logProbs(pixels, n);
    }
}
