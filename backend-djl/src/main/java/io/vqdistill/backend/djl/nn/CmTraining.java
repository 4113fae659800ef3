package io.vqdistill.backend.djl.nn;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import io.vqdistill.api.Backend;
import io.vqdistill.models.data.DataSplit;
import io.vqdistill.models.data.ImageSet;
import io.vqdistill.models.layout.CmLayout;
import io.vqdistill.models.train.CmRunner;
import io.vqdistill.models.train.CmSpec;
import io.vqdistill.models.train.DecoderHead;
import io.vqdistill.models.train.EpochRunner;
import io.vqdistill.models.train.TrainingListener;
import io.vqdistill.models.train.TrainingSpec;
import java.nio.file.Path;
import java.util.SplittableRandom;

/** Trains a {@link CmNet} on a {@link DataSplit} with DJL; the epoch loop is {@link CmRunner}'s. */
final class CmTraining extends CmRunner {
    private final NDManager root;
    private final DjlRun run;
    private CmNet net;

    CmTraining(CmSpec spec, TrainingSpec training, DataSplit data, Backend backend, NDManager root, Path dir,
            TrainingListener listener) {
        super(spec, training, data, backend, dir, listener);
        this.root = root;
        CmLayout layout = new CmLayout(spec);
        this.run = new DjlRun(root, training, layout, () -> layout.initialValues(training.seed()),
                p -> net = new CmNet(p, layout));
    }

    @Override
    protected EpochRunner.Engine engine() {
        return run;
    }

    @Override
    protected double trainStep(int[] indices, SplittableRandom noise, float[] z) {
        return run.step(scope -> {
            Batch b = batch(data.train(), indices, noise, z, scope);
            return net.loss(net.scores(b.z, b.x, b.levels, true));
        });
    }

    @Override
    protected double[] logLikelihoods(ImageSet set, int[] indices, SplittableRandom noise, float[] z) {
        GradMode.off();
        try (NDManager scope = root.newSubManager()) {
            run.params().attachTo(scope);
            Batch b = batch(set, indices, noise, z, scope);
            return net.logLikelihood(net.scores(b.z, b.x, b.levels, false)).toDoubleArray();
        }
    }

    /** The points [M, d], and the pixels [B, S] (Gaussian) or INT32 levels [B, S] (categorical) of a batch. */
    private record Batch(NDArray z, NDArray x, NDArray levels) {
    }

    private Batch batch(ImageSet set, int[] indices, SplittableRandom noise, float[] z, NDManager scope) {
        NDArray points = scope.create(z, new Shape(spec.points(), spec.latentDim()));
        Shape shape = new Shape(indices.length, spec.variables());
        if (spec.head() == DecoderHead.GAUSSIAN) {
            return new Batch(points, scope.create(set.dequantised(indices, noise), shape), null);
        }
        return new Batch(points, null, scope.create(set.levels(indices), shape));
    }
}
