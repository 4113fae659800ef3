package io.vqdistill.backend.djl.nn;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.vqdistill.api.Backend;
import io.vqdistill.api.checkpoint.Checkpoint;
import io.vqdistill.api.checkpoint.Provenance;
import io.vqdistill.api.data.DataSplit;
import io.vqdistill.api.train.PriorSpec;
import io.vqdistill.api.train.TrainingListener;
import io.vqdistill.api.train.TrainingSpec;
import io.vqdistill.api.train.VqVaeSpec;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.SplittableRandom;

/** Trains a {@link PixelCnnNet} on the code grids a VQ-VAE checkpoint assigns to a {@link DataSplit}. */
final class PriorTraining extends EpochLoop {
    /** Grids per evaluation batch. */
    static final int EVAL_BATCH = 1000;

    private final PriorSpec spec;
    private final DataSplit data;
    private final Path vqVaeDir;
    private final Checkpoint vqVae;
    private final Grids train;
    private final Grids validation;
    private final Grids test;
    private final float[] classLogPrior;
    private PixelCnnNet net;
    private NDManager constants;

    PriorTraining(PriorSpec spec, TrainingSpec training, Path vqVaeDir, DataSplit data, Backend backend,
            NDManager root, Path dir, TrainingListener listener) {
        super(Checkpoint.KIND_PRIOR, backend, root, training, dir, listener);
        this.vqVae = Checkpoint.read(vqVaeDir, Checkpoint.KIND_VQVAE);
        VqVaeSpec vq = VqVaeSpec.fromJson(vqVae.architecture(), Checkpoint.configFile(vqVaeDir));
        if (!vq.latent().equals(spec.latent())) {
            throw new IllegalArgumentException("the prior's latent shape " + spec.latent() + " differs from the VQ-VAE's "
                    + vq.latent() + " in " + vqVaeDir);
        }
        if (spec.numClasses() != data.train().numClasses()) {
            throw new IllegalArgumentException("the prior has " + spec.numClasses() + " classes, the data "
                    + data.train().numClasses());
        }
        this.spec = spec;
        this.data = data;
        this.vqVaeDir = vqVaeDir;
        listener.message("prior: encoding the data with " + vqVaeDir);
        try (Params p = Params.fromFile(root, Checkpoint.weights(vqVaeDir))) {
            VqVaeNet vqNet = new VqVaeNet(p, vq);
            p.checkNoUnexpected();
            this.train = Grids.encode(vqNet, p, root, data.train(), VqVaeTraining.VALIDATION_NOISE ^ 1);
            this.validation = Grids.encode(vqNet, p, root, data.validation(), VqVaeTraining.VALIDATION_NOISE);
            this.test = Grids.encode(vqNet, p, root, data.test(), VqVaeTraining.TEST_NOISE);
        }
        int[] counts = data.train().classCounts();
        this.classLogPrior = new float[counts.length];
        for (int c = 0; c < counts.length; c++) {
            classLogPrior[c] = (float) Math.log((double) counts[c] / data.train().size());
        }
    }

    @Override
    protected void build(Params p) {
        constants = p.manager().newSubManager();
        net = new PixelCnnNet(p, constants, spec, classLogPrior);
    }

    @Override
    protected int trainSize() {
        return train.size();
    }

    @Override
    protected NDArray trainLoss(int[] indices, SplittableRandom noise, NDManager scope) {
        return net.logProb(train.codes(indices, scope), train.labels(indices, scope)).mean().neg();
    }

    @Override
    protected Map<String, Double> validate() {
        double nll = nll(validation);
        Map<String, Double> m = new LinkedHashMap<>();
        m.put(VAL_LOSS, nll);
        m.put("val_bits", nll / Math.log(2));
        return m;
    }

    @Override
    protected Map<String, Double> test() {
        double nll = nll(test);
        Map<String, Double> m = new LinkedHashMap<>();
        m.put("test_nll", nll);
        m.put("test_bits", nll / Math.log(2));
        m.put("test_nll_per_position", nll / spec.latent().positions());
        return m;
    }

    /** Mean -log p(z | c) per grid, in nats. */
    private double nll(Grids grids) {
        GradMode.off();
        double sum = 0;
        for (int from = 0; from < grids.size(); from += EVAL_BATCH) {
            int[] idx = new int[Math.min(EVAL_BATCH, grids.size() - from)];
            for (int i = 0; i < idx.length; i++) {
                idx[i] = from + i;
            }
            try (NDManager scope = root.newSubManager()) {
                params.attachTo(scope);
                sum -= net.logProb(grids.codes(idx, scope), grids.labels(idx, scope)).sum().getFloat();
            }
        }
        return sum / grids.size();
    }

    @Override
    protected Checkpoint describe(Provenance provenance, Map<String, Double> metrics) {
        return new Checkpoint(Checkpoint.KIND_PRIOR, spec.toJson(), provenance, metrics);
    }

    @Override
    protected ObjectNode runKey() {
        ObjectNode n = JsonNodeFactory.instance.objectNode();
        n.set("architecture", spec.toJson());
        n.set("training", trainingKey());
        n.put("data", data.description());
        n.put("train_size", data.train().size());
        n.put("vqvae", vqVaeDir.toAbsolutePath().normalize().toString());
        n.put("vqvae_created", vqVae.provenance().created());
        return n;
    }

    @Override
    protected String dataDescription() {
        return data.description() + "; grids by the VQ-VAE " + vqVaeDir;
    }

    @Override
    protected Map<String, String> provenanceDetails() {
        return Map.of("vqvae", vqVaeDir.toAbsolutePath().normalize().toString(),
                "vqvae_created", vqVae.provenance().created());
    }
}
