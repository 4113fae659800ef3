package io.vqdistill.circuits;

import io.vqdistill.api.DType;
import io.vqdistill.api.Tensor;
import io.vqdistill.api.TensorScope;
import io.vqdistill.api.circuit.LeafFamily;
import io.vqdistill.api.circuit.MaskedSumKernel;
import java.util.Map;

/**
 * The evaluation used for a family without a fused kernel: the family's log-density of the batch
 * [b, 1, S] against the components' parameters [n, S, ...], broadcast to [b, n, S], masked and
 * summed over S. Correct for any family; its memory grows with b * n * S, so batches are small. It
 * adds the terms a direct sum would, so {@link #preciseScores} is the default conversion.
 */
final class BroadcastKernel implements MaskedSumKernel {
    private final LeafFamily family;
    private final Map<String, Tensor> parameters;
    private final Tensor offset;
    private final long workspace;

    BroadcastKernel(LeafFamily family, Map<String, Tensor> parameters, Tensor offset, long eventSize) {
        this.family = family;
        this.parameters = parameters;
        this.offset = offset.toType(DType.FLOAT32);
        long[] lead = parameters.values().iterator().next().shape();
        this.workspace = lead[0] * lead[1] * (eventSize + 3);
    }

    @Override
    public Tensor scores(Tensor x, Tensor observed) {
        try (TensorScope scope = TensorScope.open()) {
            Tensor logDensity = family.logDensity(parameters, x.expandDims(1));
            if (observed != null) {
                logDensity = observed.expandDims(1).where(logDensity, x.scalarLike(0));
            }
            return scope.keep(logDensity.sum(2).add(offset));
        }
    }

    @Override
    public long workspacePerExample() {
        return workspace;
    }

    @Override
    public void close() {
        // the parameters belong to the mixture, which closes them; the float32 offset is this kernel's
        offset.close();
    }
}
