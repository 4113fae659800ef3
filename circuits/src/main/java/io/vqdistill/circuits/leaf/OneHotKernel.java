package io.vqdistill.circuits.leaf;

import io.vqdistill.api.DType;
import io.vqdistill.api.Tensor;
import io.vqdistill.api.TensorScope;
import io.vqdistill.api.circuit.MaskedSumKernel;
import java.util.List;

/**
 * Categorical mixture scores as one matrix product: the n x (S*V) log-probabilities times the
 * (S*V) x b one-hot encoding of the batch, built directly in that transposed layout so that no copy
 * of the parameters is needed. An unobserved variable's one-hot column is all zero and adds
 * nothing. Each score adds exactly the S terms a direct sum would (the others are exact zeros), so
 * the default error bound of zero holds.
 */
final class OneHotKernel implements MaskedSumKernel {
    private final int variables;
    private final int categories;
    private final Tensor table;
    private final Tensor levels;
    private final Tensor offset;

    OneHotKernel(Tensor logits, Tensor offset) {
        long n = logits.shape(0);
        variables = Math.toIntExact(logits.shape(1));
        categories = Math.toIntExact(logits.shape(2));
        try (TensorScope scope = TensorScope.open()) {
            table = scope.keep(logits.reshape(n, (long) variables * categories));
            levels = scope.keep(logits.backend().arange(categories).toType(DType.FLOAT32).reshape(1, categories, 1));
            this.offset = scope.keep(offset.toType(DType.FLOAT32));
        }
    }

    @Override
    public Tensor scores(Tensor x, Tensor observed) {
        try (TensorScope scope = TensorScope.open()) {
            long b = x.shape(0);
            Tensor columns = x.transposeLast().reshape(variables, 1, b);
            Tensor hot = columns.eq(levels);
            if (observed != null) {
                Tensor seen = observed.transposeLast().reshape(variables, 1, b);
                hot = seen.where(hot, x.backend().full(DType.BOOL, 0));
            }
            Tensor encoded = hot.where(x.scalarLike(1), x.scalarLike(0)).reshape((long) variables * categories, b);
            return scope.keep(table.matmul(encoded).transposeLast().add(offset));
        }
    }

    @Override
    public long workspacePerExample() {
        return 3L * variables * categories + table.shape(0);
    }

    @Override
    public void close() {
        for (Tensor t : List.of(table, levels, offset)) {
            t.close();
        }
    }
}
