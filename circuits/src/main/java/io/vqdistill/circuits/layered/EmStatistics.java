package io.vqdistill.circuits.layered;

import io.vqdistill.api.DType;
import io.vqdistill.api.InvalidArgumentException;
import io.vqdistill.api.Tensor;
import io.vqdistill.api.TensorScope;
import io.vqdistill.api.circuit.LeafFamily;
import io.vqdistill.circuits.leaf.CategoricalFamily;
import io.vqdistill.circuits.leaf.GaussianFamily;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Expected sufficient statistics of an {@link LayeredCircuit Einsum network} over a set of images,
 * the E-step of EM: per sum layer the expected number of times each edge is taken
 * ([R, P, K_out, W*W]); per leaf (pixel s, input i) the flow-weighted count, and for Gaussian leaves
 * the flow-weighted sums of x and x^2, for categorical leaves the flow-weighted count of every level;
 * and the total log-likelihood of the images. Statistics of several batches {@link #add add up}.
 * Owns its tensors.
 */
public final class EmStatistics implements AutoCloseable {
    private final List<Tensor> weightCounts;
    private final Map<String, Tensor> leafStatistics;
    private Tensor logLikelihood;
    private long images;

    private EmStatistics(List<Tensor> weightCounts, Map<String, Tensor> leafStatistics, Tensor logLikelihood,
                         long images) {
        this.weightCounts = weightCounts;
        this.leafStatistics = leafStatistics;
        this.logLikelihood = logLikelihood;
        this.images = images;
    }

    /** Throws unless EM can fit {@code family}: gaussian or categorical. */
    static void requireSupported(LeafFamily family) {
        if (!(family instanceof GaussianFamily) && !(family instanceof CategoricalFamily)) {
            throw new InvalidArgumentException("EM fits gaussian and categorical leaves, not " + family.name());
        }
    }

    /**
     * The statistics of one batch.
     *
     * @param x      the images [b, S]
     * @param flows  the leaves' posterior flows [S, b, I]
     * @param counts the layers' expected edge counts, bottom up
     */
    static EmStatistics of(LeafFamily family, Tensor x, Tensor flows, List<Tensor> counts, Tensor logLikelihood,
                           long images) {
        Map<String, Tensor> leaf = new LinkedHashMap<>();
        long s = flows.shape(0);
        long b = flows.shape(1);
        leaf.put("count", flows.sum(1));
        Tensor column = x.transpose(1, 0).reshape(s, 1, b);
        if (family instanceof CategoricalFamily c) {
            leaf.put("levels", flows.transposeLast().matmul(c.oneHot(column.reshape(s, b), DType.FLOAT32)));
        } else {
            leaf.put("sum", column.matmul(flows).reshape(s, -1));
            leaf.put("sum_squares", column.square().matmul(flows).reshape(s, -1));
        }
        return new EmStatistics(new ArrayList<>(counts), leaf, logLikelihood, images);
    }

    /** Moves every tensor out of {@code scope} (to its enclosing scope, if any) and returns this. */
    EmStatistics keptBy(TensorScope scope) {
        weightCounts.forEach(scope::keep);
        leafStatistics.values().forEach(scope::keep);
        scope.keep(logLikelihood);
        return this;
    }

    /** Adds {@code other} to these statistics and closes it. */
    public void add(EmStatistics other) {
        if (other.weightCounts.size() != weightCounts.size()) {
            throw new InvalidArgumentException("statistics of different networks: " + other.weightCounts.size()
                    + " and " + weightCounts.size() + " sum layers");
        }
        try {
            TensorScope.outside(() -> {
                for (int i = 0; i < weightCounts.size(); i++) {
                    Tensor old = weightCounts.get(i);
                    weightCounts.set(i, old.add(other.weightCounts.get(i)));
                    old.close();
                }
                for (Map.Entry<String, Tensor> e : leafStatistics.entrySet()) {
                    Tensor old = e.getValue();
                    e.setValue(old.add(other.leafStatistics.get(e.getKey())));
                    old.close();
                }
                Tensor old = logLikelihood;
                logLikelihood = old.add(other.logLikelihood);
                old.close();
                return null;
            });
            images += other.images;
        } finally {
            other.close();
        }
    }

    /** The images these statistics cover. */
    public long images() {
        return images;
    }

    /** The total log-likelihood of the images, in nats, under the parameters of the E-step. */
    public double logLikelihood() {
        return logLikelihood.item();
    }

    /** Per sum layer, bottom up, the expected edge counts [R, P, K_out, W*W]; owned by these statistics. */
    List<Tensor> weightCounts() {
        return weightCounts;
    }

    /**
     * The leaves' unprepared parameters after a stepwise update of their expectation parameters.
     *
     * @return new tensors, leading shape [S, I]
     */
    Map<String, Tensor> leafUpdate(LeafFamily family, Map<String, Tensor> parameters, double step,
                                   double pseudoCount) {
        Map<String, Tensor> out = new LinkedHashMap<>();
        try (TensorScope scope = TensorScope.open()) {
            Tensor count = leafStatistics.get("count");
            Tensor reached = count.gt(count.scalarLike(0));
            Tensor safeCount = count.maximum(count.scalarLike(Float.MIN_NORMAL));
            if (family instanceof CategoricalFamily c) {
                Tensor p = parameters.get("logits").exp();
                Tensor target = leafStatistics.get("levels").add(pseudoCount)
                        .div(safeCount.add(c.categories() * pseudoCount).expandDims(2));
                Tensor mixed = p.mul(1 - step).add(reached.expandDims(2).where(target, p).mul(step));
                out.put("logits", scope.keep(mixed.maximum(mixed.scalarLike(Float.MIN_NORMAL)).log()));
            } else {
                Tensor mean = parameters.get("mean");
                Tensor second = parameters.get("log_var").exp().add(mean.square());
                Tensor newMean = reached.where(leafStatistics.get("sum").div(safeCount), mean);
                Tensor newSecond = reached.where(leafStatistics.get("sum_squares").div(safeCount), second);
                Tensor m = mean.mul(1 - step).add(newMean.mul(step));
                Tensor v = second.mul(1 - step).add(newSecond.mul(step)).sub(m.square());
                out.put("mean", scope.keep(m));
                out.put("log_var", scope.keep(v.maximum(v.scalarLike(1e-30)).log()));
            }
        }
        return out;
    }

    @Override
    public void close() {
        weightCounts.forEach(Tensor::close);
        leafStatistics.values().forEach(Tensor::close);
        logLikelihood.close();
    }
}
