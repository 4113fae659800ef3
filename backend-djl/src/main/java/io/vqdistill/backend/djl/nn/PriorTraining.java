package io.vqdistill.backend.djl.nn;

import ai.djl.ndarray.NDManager;
import io.vqdistill.api.Backend;
import io.vqdistill.models.checkpoint.Checkpoint;
import io.vqdistill.models.data.DataSplit;
import io.vqdistill.models.layout.PixelCnnLayout;
import io.vqdistill.models.layout.VqVaeLayout;
import io.vqdistill.models.train.EpochRunner;
import io.vqdistill.models.train.PriorRunner;
import io.vqdistill.models.train.PriorSpec;
import io.vqdistill.models.train.TrainingListener;
import io.vqdistill.models.train.TrainingSpec;
import java.nio.file.Path;
import java.util.SplittableRandom;

/** Trains a {@link PixelCnnNet} on the code grids a VQ-VAE checkpoint assigns to a {@link DataSplit}, with DJL. */
final class PriorTraining extends PriorRunner {
    private final NDManager root;
    private final DjlRun run;
    private PixelCnnNet net;

    PriorTraining(PriorSpec spec, TrainingSpec training, Path vqVaeDir, DataSplit data, Backend backend,
            NDManager root, Path dir, TrainingListener listener) {
        super(spec, training, vqVaeDir, data, backend, dir, listener);
        this.root = root;
        VqVaeLayout vqLayout = new VqVaeLayout(vqVaeSpec);
        try (Params p = Params.fromFile(root, vqLayout, Checkpoint.weights(vqVaeDir))) {
            VqVaeNet vqNet = new VqVaeNet(p, vqLayout);
            p.checkNoUnexpected(name -> false);
            encodeWith(GridArrays.encoder(vqNet, p, root));
        }
        PixelCnnLayout layout = new PixelCnnLayout(spec);
        this.run = new DjlRun(root, training, layout, () -> layout.initialValues(training.seed(), classLogPrior),
                p -> net = new PixelCnnNet(p, p.manager().newSubManager(), layout));
    }

    @Override
    protected EpochRunner.Engine engine() {
        return run;
    }

    @Override
    protected double trainStep(int[] indices, SplittableRandom noise) {
        PriorRunner.Grids train = trainGrids();
        return run.step(scope -> net.logProb(GridArrays.codes(train, indices, scope), GridArrays.labels(train, indices, scope))
                .mean().neg());
    }

    @Override
    protected double nllSum(PriorRunner.Grids grids, int[] indices) {
        GradMode.off();
        try (NDManager scope = root.newSubManager()) {
            run.params().attachTo(scope);
            return -net.logProb(GridArrays.codes(grids, indices, scope), GridArrays.labels(grids, indices, scope)).sum()
                    .getFloat();
        }
    }
}
