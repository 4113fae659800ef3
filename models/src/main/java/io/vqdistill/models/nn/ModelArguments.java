package io.vqdistill.models.nn;

import io.vqdistill.api.DType;
import io.vqdistill.api.Shapes;
import io.vqdistill.api.Tensor;
import io.vqdistill.api.TensorException;
import io.vqdistill.api.model.ImageShape;
import io.vqdistill.api.model.LatentShape;

/**
 * The argument checks every {@link io.vqdistill.api.model.Encoder}, {@link io.vqdistill.api.model.Decoder}
 * and {@link io.vqdistill.api.model.Prior} implementation applies, with the same messages on every
 * backend. Each failure is a {@link TensorException} naming the operation, the expected and the
 * found shape or value.
 */
public final class ModelArguments {
    private ModelArguments() {
    }

    /** Checks that {@code images} is FLOAT32 [B, C, H, W] for {@code shape}. */
    public static void images(String op, Tensor images, ImageShape shape) {
        long[] expected = {images.rank() == 4 ? images.shape(0) : -1, shape.channels(), shape.height(), shape.width()};
        if (images.rank() != 4 || images.shape(1) != shape.channels() || images.shape(2) != shape.height()
                || images.shape(3) != shape.width() || images.dtype() != DType.FLOAT32) {
            throw new TensorException(op + ": images must be float32 " + Shapes.format(expected) + ", found "
                    + images.dtype().label() + " " + Shapes.format(images.shape()));
        }
    }

    /**
     * The codes of {@code grids}, integer [B, h*w], as a row-major array; the first {@code checked}
     * positions of every grid must lie in [0, K), later positions are returned as 0 (a prefix search
     * leaves them unset).
     */
    public static long[] grids(String op, Tensor grids, LatentShape latent, int checked) {
        int p = latent.positions();
        if (grids.rank() != 2 || grids.shape(1) != p || !grids.dtype().isInteger()) {
            throw new TensorException(op + ": grids must be int64 [B, " + p + "], found " + grids.dtype().label() + " "
                    + Shapes.format(grids.shape()));
        }
        long[] codes = grids.toLongArray();
        for (int i = 0; i < codes.length; i++) {
            if (i % p >= checked) {
                codes[i] = 0;
            } else if (codes[i] < 0 || codes[i] >= latent.codebookSize()) {
                throw new TensorException(op + ": code " + codes[i] + " of grid " + i / p + " at position " + i % p
                        + " is outside [0, " + latent.codebookSize() + ")");
            }
        }
        return codes;
    }

    /** The classes of {@code classes}, integer [{@code batch}], each in [0, {@code numClasses}). */
    public static long[] classes(String op, Tensor classes, long batch, int numClasses) {
        if (classes.rank() != 1 || classes.shape(0) != batch || !classes.dtype().isInteger()) {
            throw new TensorException(op + ": classes must be int64 [" + batch + "], found " + classes.dtype().label()
                    + " " + Shapes.format(classes.shape()));
        }
        long[] c = classes.toLongArray();
        for (int i = 0; i < c.length; i++) {
            if (c[i] < 0 || c[i] >= numClasses) {
                throw new TensorException(op + ": class " + c[i] + " of row " + i + " is outside [0, " + numClasses
                        + ")");
            }
        }
        return c;
    }

    /** Checks that {@code position} lies in [0, h*w). */
    public static void position(String op, int position, LatentShape latent) {
        if (position < 0 || position >= latent.positions()) {
            throw new TensorException(op + ": position must be in [0, " + latent.positions() + "), found " + position);
        }
    }
}
