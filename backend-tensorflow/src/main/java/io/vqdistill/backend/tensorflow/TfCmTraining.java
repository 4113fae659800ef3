package io.vqdistill.backend.tensorflow;

import io.vqdistill.models.data.DataSplit;
import io.vqdistill.models.data.ImageSet;
import io.vqdistill.models.train.CmRunner;
import io.vqdistill.models.train.CmSpec;
import io.vqdistill.models.train.DecoderHead;
import io.vqdistill.models.train.EpochRunner;
import io.vqdistill.models.train.TrainingListener;
import io.vqdistill.models.train.TrainingSpec;
import java.nio.file.Path;
import java.util.SplittableRandom;

/** Trains a {@link TfCmNet} (the run's engine) on a {@link DataSplit}; the epoch loop is {@link CmRunner}'s. */
final class TfCmTraining extends CmRunner {
    private final TfBackend tfBackend;
    private TfCmNet net;

    TfCmTraining(CmSpec spec, TrainingSpec training, DataSplit data, TfBackend backend, Path dir,
            TrainingListener listener) {
        super(spec, training, data, backend, dir, listener);
        this.tfBackend = backend;
    }

    @Override
    protected EpochRunner.Engine engine() {
        net = new TfCmNet(spec, training.seed(), tfBackend.sessionConfig(), tfBackend.pinnedDevice());
        return net;
    }

    @Override
    protected double trainStep(int[] indices, SplittableRandom noise, float[] z) {
        ImageSet set = data.train();
        return net.trainStep(pixels(set, indices, noise), levels(set, indices), indices.length, z,
                training.learningRate());
    }

    @Override
    protected double[] logLikelihoods(ImageSet set, int[] indices, SplittableRandom noise, float[] z) {
        return net.logLikelihoods(pixels(set, indices, noise), levels(set, indices), indices.length, z);
    }

    /** The dequantised pixels a Gaussian head is scored on, else null (no noise drawn). */
    private float[] pixels(ImageSet set, int[] indices, SplittableRandom noise) {
        return spec.head() == DecoderHead.GAUSSIAN ? set.dequantised(indices, noise) : null;
    }

    /** The levels a categorical head is scored on, else null. */
    private int[] levels(ImageSet set, int[] indices) {
        return spec.head() == DecoderHead.CATEGORICAL ? set.levels(indices) : null;
    }
}
