package io.vqdistill.backend.nd4j;

import java.util.ArrayList;
import java.util.List;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * The intermediate ND4J arrays of one operation, freed together when the operation ends instead of
 * waiting for the garbage collector to notice their off-heap memory.
 *
 * <p>Only arrays that own their buffer may be registered: results of ND4J ops, {@code dup()} and
 * {@code Nd4j.create}. Views ({@code reshape}, {@code permute}, {@code get}) share their parent's
 * buffer, and closing one would free memory that the parent still uses, so they never are.
 */
final class Scratch implements AutoCloseable {
    private final List<INDArray> owned = new ArrayList<>();

    /** Registers an array this operation created and returns it. */
    INDArray add(INDArray array) {
        owned.add(array);
        return array;
    }

    /** Removes {@code array} from the arrays to free (it becomes the result) and returns it. */
    INDArray keep(INDArray array) {
        owned.removeIf(a -> a == array);
        return array;
    }

    @Override
    public void close() {
        for (int i = owned.size() - 1; i >= 0; i--) {
            INDArray a = owned.get(i);
            if (!a.wasClosed() && a.closeable()) {
                a.close();
            }
        }
        owned.clear();
    }
}
