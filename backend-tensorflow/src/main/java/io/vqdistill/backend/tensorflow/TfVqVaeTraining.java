package io.vqdistill.backend.tensorflow;

import io.vqdistill.models.data.DataSplit;
import io.vqdistill.models.data.ImageSet;
import io.vqdistill.models.train.DecoderHead;
import io.vqdistill.models.train.EpochRunner;
import io.vqdistill.models.train.TrainingListener;
import io.vqdistill.models.train.TrainingSpec;
import io.vqdistill.models.train.VqVaeRunner;
import io.vqdistill.models.train.VqVaeSpec;
import java.nio.file.Path;
import java.util.SplittableRandom;

/** Trains a {@link TfVqVaeNet} (the run's engine) on a {@link DataSplit}; the epoch loop is {@link VqVaeRunner}'s. */
final class TfVqVaeTraining extends VqVaeRunner {
    private final TfBackend tfBackend;
    private TfVqVaeNet net;

    TfVqVaeTraining(VqVaeSpec spec, TrainingSpec training, DataSplit data, TfBackend backend, Path dir,
            TrainingListener listener) {
        super(spec, training, data, backend, dir, listener);
        this.tfBackend = backend;
    }

    @Override
    protected EpochRunner.Engine network() {
        net = new TfVqVaeNet(spec, training.seed(), tfBackend.sessionConfig(), tfBackend.pinnedDevice());
        return net;
    }

    @Override
    protected Step step(int[] indices, SplittableRandom noise, boolean latents) {
        ImageSet set = data.train();
        return net.trainStep(set.dequantised(indices, noise), levels(set, indices), indices.length,
                training.learningRate(), latents);
    }

    @Override
    protected float[] encode(int[] indices, SplittableRandom noise) {
        return net.encode(data.train().dequantised(indices, noise), indices.length);
    }

    @Override
    protected float[] codebook() {
        return net.codebook();
    }

    @Override
    protected void setCodebook(float[] values) {
        net.setCodebook(values);
    }

    @Override
    protected BatchEvaluation evaluateBatch(ImageSet set, int[] indices, SplittableRandom noise) {
        return net.evaluate(set.dequantised(indices, noise), levels(set, indices), indices.length);
    }

    /** The levels a categorical head is scored on, else null. */
    private int[] levels(ImageSet set, int[] indices) {
        return spec.head() == DecoderHead.CATEGORICAL ? set.levels(indices) : null;
    }
}
