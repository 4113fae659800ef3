package io.vqdistill.backend.djl.nn;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import io.vqdistill.api.Backend;
import io.vqdistill.models.data.DataSplit;
import io.vqdistill.models.data.ImageSet;
import io.vqdistill.models.layout.VqVaeLayout;
import io.vqdistill.models.train.DecoderHead;
import io.vqdistill.models.train.EpochRunner;
import io.vqdistill.models.train.TrainingListener;
import io.vqdistill.models.train.TrainingSpec;
import io.vqdistill.models.train.VqVaeRunner;
import io.vqdistill.models.train.VqVaeSpec;
import java.nio.file.Path;
import java.util.SplittableRandom;

/** Trains a {@link VqVaeNet} on a {@link DataSplit} with DJL. */
final class VqVaeTraining extends VqVaeRunner {
    private final NDManager root;
    private final DjlRun run;
    private VqVaeNet net;

    VqVaeTraining(VqVaeSpec spec, TrainingSpec training, DataSplit data, Backend backend, NDManager root, Path dir,
            TrainingListener listener) {
        super(spec, training, data, backend, dir, listener);
        this.root = root;
        VqVaeLayout layout = new VqVaeLayout(spec);
        this.run = new DjlRun(root, training, layout, () -> layout.initialValues(training.seed()),
                p -> net = new VqVaeNet(p, layout));
    }

    @Override
    protected EpochRunner.Engine network() {
        return run;
    }

    @Override
    protected Step step(int[] indices, SplittableRandom noise, boolean latents) {
        float[][] encoded = new float[1][];
        long[][] codes = new long[1][];
        double weight = spec.codebook().codebookLossWeight();
        double loss = run.step(scope -> {
            Batch b = batch(data.train(), indices, noise, scope);
            VqVaeNet.Quantised q = net.quantise(net.encode(b.x, true));
            if (latents) {
                encoded[0] = q.encoded().toFloatArray();
                codes[0] = q.codes().toLongArray();
            }
            NDArray nll = net.nll(net.decode(q.straightThrough(), true), b.x, b.levels).mean();
            NDArray codebookTerm = weight == 1 ? q.codebookLoss() : q.codebookLoss().mul((float) weight);
            return nll.add(codebookTerm).add(q.commitmentLoss().mul((float) spec.beta()));
        });
        return new Step(loss, encoded[0], codes[0]);
    }

    @Override
    protected float[] encode(int[] indices, SplittableRandom noise) {
        GradMode.off();
        try (NDManager scope = root.newSubManager()) {
            run.params().attachTo(scope);
            NDArray ze = net.encodeOnBatch(batch(data.train(), indices, noise, scope).x);
            return ze.transpose(0, 2, 3, 1).reshape(-1, spec.embeddingDim()).toFloatArray();
        }
    }

    @Override
    protected float[] codebook() {
        return net.codebook().toFloatArray();
    }

    @Override
    protected void setCodebook(float[] values) {
        net.codebook().set(values);
    }

    /** Model inputs of a batch: continuous pixels [B, C, H, W] and, for a categorical head, INT64 levels. */
    private record Batch(NDArray x, NDArray levels) {
    }

    private Batch batch(ImageSet set, int[] indices, SplittableRandom noise, NDManager scope) {
        Shape shape = new Shape(indices.length, spec.image().channels(), spec.image().height(), spec.image().width());
        NDArray x = scope.create(set.dequantised(indices, noise), shape);
        NDArray levels = null;
        if (spec.head() == DecoderHead.CATEGORICAL) {
            int[] l = set.levels(indices);
            long[] ll = new long[l.length];
            for (int i = 0; i < l.length; i++) {
                ll[i] = l[i];
            }
            levels = scope.create(ll, shape);
        }
        return new Batch(x, levels);
    }

    @Override
    protected BatchEvaluation evaluateBatch(ImageSet set, int[] indices, SplittableRandom noise) {
        GradMode.off();
        try (NDManager scope = root.newSubManager()) {
            run.params().attachTo(scope);
            Batch b = batch(set, indices, noise, scope);
            VqVaeNet.Quantised q = net.quantise(net.encode(b.x, false));
            NDArray nll = net.nll(net.decode(q.quantised(), false), b.x, b.levels);
            return new BatchEvaluation(nll.sum().getFloat(), q.codebookLoss().getFloat(),
                    q.commitmentLoss().getFloat(), q.codes().toLongArray());
        }
    }
}
