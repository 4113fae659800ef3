package io.vqdistill.backend.tensorflow;

import io.vqdistill.api.TensorScope;
import io.vqdistill.api.model.Encoder;
import io.vqdistill.api.model.ImageShape;
import io.vqdistill.models.ModelLoader;
import io.vqdistill.models.data.DataSplit;
import io.vqdistill.models.train.EpochRunner;
import io.vqdistill.models.train.PriorRunner;
import io.vqdistill.models.train.PriorSpec;
import io.vqdistill.models.train.TrainingListener;
import io.vqdistill.models.train.TrainingSpec;
import java.nio.file.Path;
import java.util.SplittableRandom;

/**
 * Trains a {@link TfPixelCnnNet} on the code grids a VQ-VAE checkpoint assigns to a
 * {@link DataSplit}; the grids come from the backend's own {@link ModelLoader} (the portable
 * networks on TensorFlow), the epoch loop is {@link PriorRunner}'s.
 */
final class TfPriorTraining extends PriorRunner {
    private final TfBackend tfBackend;
    private TfPixelCnnNet net;

    TfPriorTraining(PriorSpec spec, TrainingSpec training, Path vqVaeDir, DataSplit data, TfBackend backend,
            Path dir, TrainingListener listener) {
        super(spec, training, vqVaeDir, data, backend, dir, listener);
        this.tfBackend = backend;
        ModelLoader loader = backend.capability(ModelLoader.class).orElseThrow(() -> new AssertionError(
                "backend " + backend.name() + " has no ModelLoader to encode the prior's data"));
        ImageShape image = vqVaeSpec.image();
        try (Encoder encoder = loader.loadEncoder(vqVaeDir)) {
            encodeWith((pixels, n) -> {
                try (TensorScope scope = TensorScope.open()) {
                    return encoder.encode(backend.of(pixels, n, image.channels(), image.height(), image.width()))
                            .toLongArray();
                }
            });
        }
    }

    @Override
    protected EpochRunner.Engine engine() {
        net = new TfPixelCnnNet(spec, classLogPrior, training.seed(), tfBackend.sessionConfig(),
                tfBackend.pinnedDevice());
        return net;
    }

    @Override
    protected double trainStep(int[] indices, SplittableRandom noise) {
        Grids train = trainGrids();
        return net.trainStep(train.codes(indices), train.labels(indices), indices.length, training.learningRate());
    }

    @Override
    protected double nllSum(Grids grids, int[] indices) {
        return net.nllSum(grids.codes(indices), grids.labels(indices), indices.length);
    }
}
