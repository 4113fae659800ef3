package io.vqdistill.api.spi;

import io.vqdistill.api.DType;
import io.vqdistill.api.Shapes;
import io.vqdistill.api.Tensor;
import io.vqdistill.api.TensorException;
import java.util.Arrays;
import java.util.function.Supplier;

/** Runs engine code for the base classes: wraps engine failures once and checks what comes back. */
final class EngineCalls {
    private EngineCalls() {
    }

    /** Runs {@code body}; an engine exception becomes a TensorException naming op, backend and operand. */
    static <R> R run(String op, String backend, String operand, Supplier<R> body) {
        try {
            return body.get();
        } catch (TensorException e) {
            throw e;
        } catch (RuntimeException | LinkageError e) {
            throw new TensorException(op + " (backend " + backend + ") failed in the engine on " + operand + ": " + e, e);
        }
    }

    /** Returns {@code t} if it has the expected shape and dtype; otherwise closes it and throws. */
    static Tensor expect(String op, String backend, Tensor t, long[] shape, DType dtype) {
        if (!Arrays.equals(t.shape(), shape) || t.dtype() != dtype) {
            String got = t.dtype().label() + " " + Shapes.format(t.shape());
            t.close();
            throw new TensorException(op + " (backend " + backend + "): engine returned " + got + ", expected "
                    + dtype.label() + " " + Shapes.format(shape));
        }
        return t;
    }
}
