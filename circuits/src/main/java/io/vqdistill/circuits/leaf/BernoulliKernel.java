package io.vqdistill.circuits.leaf;

import io.vqdistill.api.Backend;
import io.vqdistill.api.DType;
import io.vqdistill.api.Tensor;
import io.vqdistill.api.TensorScope;
import io.vqdistill.api.circuit.MaskedSumKernel;
import java.util.List;

/**
 * Bernoulli mixture scores as one matrix product of [x, 1 - x, 1] ([b, 2S+1], unobserved entries
 * zeroed) with a prepared [2S+1, n] matrix [log p; log(1 - p); offset]. With x in {0, 1} every
 * score adds exactly the S terms a direct sum would, so the default error bound of zero holds.
 */
final class BernoulliKernel implements MaskedSumKernel {
    private final Backend backend;
    private final int variables;
    private final Tensor weights;

    BernoulliKernel(Tensor logit, Tensor offset) {
        backend = logit.backend();
        long n = logit.shape(0);
        variables = Math.toIntExact(logit.shape(1));
        try (TensorScope scope = TensorScope.open()) {
            Tensor logP = BernoulliFamily.softplus(logit.neg()).neg();
            Tensor logQ = BernoulliFamily.softplus(logit).neg();
            Tensor row = offset.toType(DType.FLOAT32).reshape(n, 1);
            weights = scope.keep(backend.concat(List.of(logP, logQ, row), 1).transposeLast());
        }
    }

    @Override
    public Tensor scores(Tensor x, Tensor observed) {
        try (TensorScope scope = TensorScope.open()) {
            Tensor zero = x.scalarLike(0);
            Tensor complement = x.scalarLike(1).sub(x);
            Tensor value = x;
            if (observed != null) {
                value = observed.where(x, zero);
                complement = observed.where(complement, zero);
            }
            Tensor features = backend.concat(List.of(value, complement, backend.full(DType.FLOAT32, 1, x.shape(0), 1)), 1);
            return scope.keep(features.matmul(weights));
        }
    }

    @Override
    public long workspacePerExample() {
        return 5L * variables + 1;
    }

    @Override
    public void close() {
        weights.close();
    }
}
