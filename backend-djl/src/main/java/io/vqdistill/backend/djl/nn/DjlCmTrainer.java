package io.vqdistill.backend.djl.nn;

import ai.djl.ndarray.NDManager;
import io.vqdistill.api.Backend;
import io.vqdistill.models.data.DataSplit;
import io.vqdistill.models.train.CmSpec;
import io.vqdistill.models.train.CmTrainer;
import io.vqdistill.models.train.TrainingListener;
import io.vqdistill.models.train.TrainingReport;
import io.vqdistill.models.train.TrainingSpec;
import java.nio.file.Path;

/**
 * Trains continuous mixtures with DJL's eager autograd on the PyTorch engine ({@link CmNet}); the
 * epoch loop is {@link io.vqdistill.models.train.CmRunner}'s. One run at a time per trainer: the
 * engine's gradient recording is global.
 */
public final class DjlCmTrainer implements CmTrainer {
    private final Backend backend;

    /** A trainer that records {@code backend}'s name and version in the checkpoints it writes. */
    public DjlCmTrainer(Backend backend) {
        this.backend = backend;
    }

    @Override
    public synchronized TrainingReport trainCm(CmSpec spec, TrainingSpec training, DataSplit data, Path dir,
            TrainingListener listener) {
        try (NDManager root = Networks.rootManager(backend)) {
            return new CmTraining(spec, training, data, backend, root, dir, listener).run();
        }
    }
}
