package io.vqdistill.backend.djl.nn;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import io.vqdistill.models.train.PriorRunner;
import io.vqdistill.models.train.VqVaeSpec;

/** The DJL side of the prior's data: encoding images into code grids, and grids as arrays. */
final class GridArrays {
    private GridArrays() {
    }

    /** Encodes batches of images with {@code net} on {@code params} in inference mode. */
    static PriorRunner.BatchEncoder encoder(VqVaeNet net, Params params, NDManager root) {
        VqVaeSpec spec = net.spec();
        return (pixels, n) -> {
            GradMode.off();
            try (NDManager scope = root.newSubManager()) {
                params.attachTo(scope);
                NDArray x = scope.create(pixels,
                        new Shape(n, spec.image().channels(), spec.image().height(), spec.image().width()));
                return net.quantise(net.encode(x, false)).codes().toLongArray();
            }
        };
    }

    /** The codes of grids {@code indices} as INT64 [n, h*w] in {@code scope}. */
    static NDArray codes(PriorRunner.Grids grids, int[] indices, NDManager scope) {
        return scope.create(grids.codes(indices), new Shape(indices.length, grids.positions()));
    }

    /** The labels of grids {@code indices} as INT64 [n] in {@code scope}. */
    static NDArray labels(PriorRunner.Grids grids, int[] indices, NDManager scope) {
        return scope.create(grids.labels(indices), new Shape(indices.length));
    }
}
