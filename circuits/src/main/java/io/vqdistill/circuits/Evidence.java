package io.vqdistill.circuits;

import io.vqdistill.api.Backend;
import io.vqdistill.api.DType;
import io.vqdistill.api.InvalidArgumentException;
import io.vqdistill.api.ReduceOp;
import io.vqdistill.api.Shapes;
import io.vqdistill.api.Tensor;
import io.vqdistill.api.TensorScope;
import io.vqdistill.api.circuit.LeafFamily;
import io.vqdistill.api.circuit.LeafParameters;
import java.util.Arrays;
import java.util.Objects;

/**
 * Argument checks shared by every query of every circuit implementation: shapes, dtypes, backend and
 * the support of observed values.
 */
public final class Evidence {
    private Evidence() {
    }

    /**
     * Checks a query's evidence and returns B.
     *
     * @param observed null when every entry counts as observed
     */
    public static int check(String query, Backend backend, LeafFamily family, int variables, Tensor x, Tensor observed) {
        Objects.requireNonNull(x, query + ": x is null");
        if (x.backend() != backend) {
            throw new InvalidArgumentException(query + ": x belongs to backend " + x.backend().name()
                    + " but the circuit to " + backend.name());
        }
        if (x.dtype() != DType.FLOAT32 || x.rank() != 2 || x.shape(1) != variables) {
            throw new InvalidArgumentException(query + ": x must be float32 [B, " + variables + "], found "
                    + x.dtype().label() + " " + Shapes.format(x.shape()));
        }
        if (observed != null) {
            if (observed.backend() != backend) {
                throw new InvalidArgumentException(query + ": observed belongs to backend " + observed.backend().name()
                        + " but the circuit to " + backend.name());
            }
            if (observed.dtype() != DType.BOOL || !Arrays.equals(observed.shape(), x.shape())) {
                throw new InvalidArgumentException(query + ": observed must be bool " + Shapes.format(x.shape())
                        + " like x, found " + observed.dtype().label() + " " + Shapes.format(observed.shape()));
            }
        }
        checkSupport(query, family, x, observed);
        return Math.toIntExact(x.shape(0));
    }

    private static void checkSupport(String query, LeafFamily family, Tensor x, Tensor observed) {
        if (x.size() == 0) {
            return;
        }
        boolean[] ok;
        try (TensorScope scope = TensorScope.open()) {
            Tensor inside = family.inSupport(x);
            if (observed != null) {
                inside = observed.where(inside, x.backend().full(DType.BOOL, 1));
            }
            Tensor asFloat = inside.toType(DType.FLOAT32);
            if (asFloat.reshape(-1).reduce(ReduceOp.MIN, 0, false).item() == 1) {
                return;
            }
            ok = inside.toBooleanArray();
        }
        float[] values = x.toFloatArray();
        for (int i = 0; i < ok.length; i++) {
            if (!ok[i]) {
                throw new InvalidArgumentException(query + ": x has " + values[i] + " at " + LeafParameters.position(i,
                        x.shape()) + ", outside the support of " + family.name() + " leaves");
            }
        }
    }

    /** Checks a count of samples. */
    public static void checkCount(String query, int n) {
        if (n < 0) {
            throw new InvalidArgumentException(query + ": the number of samples must be >= 0, found " + n);
        }
    }
}
