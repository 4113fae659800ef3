package io.vqdistill.backend.djl.nn;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.vqdistill.api.Backend;
import io.vqdistill.api.checkpoint.Checkpoint;
import io.vqdistill.api.checkpoint.Provenance;
import io.vqdistill.api.data.DataSplit;
import io.vqdistill.api.data.ImageSet;
import io.vqdistill.api.train.DecoderHead;
import io.vqdistill.api.train.TrainingListener;
import io.vqdistill.api.train.TrainingSpec;
import io.vqdistill.api.train.VqVaeSpec;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;

/** Trains a {@link VqVaeNet} on a {@link DataSplit}. */
final class VqVaeTraining extends EpochLoop {
    /** Images per evaluation batch. */
    static final int EVAL_BATCH = 500;
    /** Seeds the dequantisation noise of validation, so its numbers are comparable across epochs. */
    static final long VALIDATION_NOISE = 0x7661_6c69_6461_7465L;
    /** Seeds the dequantisation noise of the test set. */
    static final long TEST_NOISE = 0x7465_7374_7365_7421L;

    private final VqVaeSpec spec;
    private final DataSplit data;
    private VqVaeNet net;

    VqVaeTraining(VqVaeSpec spec, TrainingSpec training, DataSplit data, Backend backend, NDManager root, Path dir,
            TrainingListener listener) {
        super(Checkpoint.KIND_VQVAE, backend, root, training, dir, listener);
        if (!data.train().shape().equals(spec.image())) {
            throw new IllegalArgumentException("the data's images are " + data.train().shape() + ", the spec expects "
                    + spec.image());
        }
        this.spec = spec;
        this.data = data;
    }

    @Override
    protected void build(Params p) {
        net = new VqVaeNet(p, spec);
    }

    @Override
    protected int trainSize() {
        return data.train().size();
    }

    @Override
    protected NDArray trainLoss(int[] indices, SplittableRandom noise, NDManager scope) {
        Batch b = batch(data.train(), indices, noise, scope);
        VqVaeNet.Quantised q = net.quantise(net.encode(b.x, true));
        NDArray nll = net.nll(net.decode(q.straightThrough(), true), b.x, b.levels).mean();
        return nll.add(q.codebookLoss()).add(q.commitmentLoss().mul((float) spec.beta()));
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
    protected Map<String, Double> validate() {
        Evaluation e = evaluate(data.validation(), VALIDATION_NOISE);
        Map<String, Double> m = new LinkedHashMap<>();
        m.put(VAL_LOSS, e.loss);
        m.put("val_nll", e.nll);
        m.put("val_bpd", e.bpd());
        m.put("codes_used", (double) e.codesUsed);
        m.put("perplexity", e.perplexity);
        return m;
    }

    @Override
    protected Map<String, Double> test() {
        Evaluation e = evaluate(data.test(), TEST_NOISE);
        Map<String, Double> m = new LinkedHashMap<>();
        m.put("test_loss", e.loss);
        m.put("test_nll", e.nll);
        m.put("test_bpd", e.bpd());
        m.put("test_codes_used", (double) e.codesUsed);
        m.put("test_perplexity", e.perplexity);
        m.put("test_distinct_grids", (double) e.distinctGrids);
        return m;
    }

    /** Mean loss and NLL per image (nats), codebook usage and distinct grids of a whole set, in inference mode. */
    private final class Evaluation {
        double loss;
        double nll;
        int codesUsed;
        double perplexity;
        int distinctGrids;

        double bpd() {
            double bits = nll / (spec.image().pixels() * Math.log(2));
            return spec.head() == DecoderHead.GAUSSIAN ? bits + 8 : bits;
        }
    }

    private Evaluation evaluate(ImageSet set, long seed) {
        GradMode.off();
        SplittableRandom noise = new SplittableRandom(seed);
        long[] counts = new long[spec.latent().codebookSize()];
        Set<List<Long>> grids = new HashSet<>();
        double lossSum = 0;
        double nllSum = 0;
        for (int from = 0; from < set.size(); from += EVAL_BATCH) {
            int[] idx = new int[Math.min(EVAL_BATCH, set.size() - from)];
            for (int i = 0; i < idx.length; i++) {
                idx[i] = from + i;
            }
            try (NDManager scope = root.newSubManager()) {
                params.attachTo(scope);
                Batch b = batch(set, idx, noise, scope);
                VqVaeNet.Quantised q = net.quantise(net.encode(b.x, false));
                NDArray nll = net.nll(net.decode(q.quantised(), false), b.x, b.levels);
                double nllBatch = nll.sum().getFloat();
                nllSum += nllBatch;
                lossSum += nllBatch + idx.length * (q.codebookLoss().getFloat()
                        + spec.beta() * q.commitmentLoss().getFloat());
                long[] codes = q.codes().toLongArray();
                int positions = spec.latent().positions();
                for (int i = 0; i < idx.length; i++) {
                    Long[] g = new Long[positions];
                    for (int p = 0; p < positions; p++) {
                        g[p] = codes[i * positions + p];
                        counts[(int) codes[i * positions + p]]++;
                    }
                    grids.add(List.of(g));
                }
            }
        }
        Evaluation e = new Evaluation();
        e.loss = lossSum / set.size();
        e.nll = nllSum / set.size();
        long total = 0;
        for (long c : counts) {
            total += c;
        }
        double entropy = 0;
        for (long c : counts) {
            if (c > 0) {
                e.codesUsed++;
                double p = (double) c / total;
                entropy -= p * Math.log(p);
            }
        }
        e.perplexity = Math.exp(entropy);
        e.distinctGrids = grids.size();
        return e;
    }

    @Override
    protected Checkpoint describe(Provenance provenance, Map<String, Double> metrics) {
        return new Checkpoint(Checkpoint.KIND_VQVAE, spec.toJson(), provenance, metrics);
    }

    @Override
    protected ObjectNode runKey() {
        ObjectNode n = JsonNodeFactory.instance.objectNode();
        n.set("architecture", spec.toJson());
        n.set("training", trainingKey());
        n.put("data", data.description());
        n.put("train_size", data.train().size());
        return n;
    }

    @Override
    protected String dataDescription() {
        return data.description();
    }
}
