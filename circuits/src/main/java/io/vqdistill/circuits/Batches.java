package io.vqdistill.circuits;

import io.vqdistill.api.DType;
import io.vqdistill.api.Tensor;
import io.vqdistill.api.TensorScope;
import java.util.ArrayList;
import java.util.List;

/**
 * Runs a query over batches of rows so that its temporaries stay within a memory budget; shared by
 * the circuit implementations of this module and its subpackages.
 */
public final class Batches {
    /** What a query computes for one batch of examples. */
    @FunctionalInterface
    public interface Query {
        /**
         * The result for rows of x and observed (observed may be null); its first axis is the batch.
         */
        Tensor apply(Tensor x, Tensor observed);
    }

    private Batches() {
    }

    /**
     * Applies {@code query} to batches of at most {@code rows} rows of x and observed (which may be
     * null) and joins the results along axis 0. With no rows at all, returns an empty FLOAT32 tensor
     * of shape [0, width], or [0] when {@code width} is negative.
     */
    public static Tensor run(Tensor x, Tensor observed, int rows, long width, Query query) {
        long b = x.shape(0);
        if (b == 0) {
            return width < 0 ? x.backend().zeros(DType.FLOAT32, 0) : x.backend().zeros(DType.FLOAT32, 0, width);
        }
        try (TensorScope scope = TensorScope.open()) {
            List<Tensor> parts = new ArrayList<>();
            for (long start = 0; start < b; start += rows) {
                long end = Math.min(b, start + rows);
                try (TensorScope inner = TensorScope.open()) {
                    Tensor xb = x.slice(0, start, end);
                    Tensor mb = observed == null ? null : observed.slice(0, start, end);
                    parts.add(inner.keep(query.apply(xb, mb)));
                }
            }
            return scope.keep(parts.size() == 1 ? parts.get(0) : x.backend().concat(parts, 0));
        }
    }
}
