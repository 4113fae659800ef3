package io.vqdistill.backend.djl.nn;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import io.vqdistill.api.data.ImageSet;
import io.vqdistill.api.train.VqVaeSpec;
import java.util.SplittableRandom;

/**
 * The code grids a VQ-VAE assigns to a set of images (the prior's training data), with the images'
 * labels: {@code codes} holds size * h*w codes, grid after grid, in raster order.
 */
record Grids(long[] codes, int[] labels, int positions) {

    /** Number of grids. */
    int size() {
        return labels.length;
    }

    /** Encodes {@code set} with {@code net} in inference mode, pixels dequantised with noise from {@code seed}. */
    static Grids encode(VqVaeNet net, Params params, NDManager root, ImageSet set, long seed) {
        GradMode.off();
        VqVaeSpec spec = net.spec();
        int positions = spec.latent().positions();
        long[] codes = new long[set.size() * positions];
        SplittableRandom noise = new SplittableRandom(seed);
        int batch = VqVaeTraining.EVAL_BATCH;
        for (int from = 0; from < set.size(); from += batch) {
            int[] idx = new int[Math.min(batch, set.size() - from)];
            for (int i = 0; i < idx.length; i++) {
                idx[i] = from + i;
            }
            try (NDManager scope = root.newSubManager()) {
                params.attachTo(scope);
                NDArray x = scope.create(set.dequantised(idx, noise),
                        new Shape(idx.length, spec.image().channels(), spec.image().height(), spec.image().width()));
                long[] c = net.quantise(net.encode(x, false)).codes().toLongArray();
                System.arraycopy(c, 0, codes, from * positions, c.length);
            }
        }
        return new Grids(codes, set.labels(), positions);
    }

    /** The codes of grids {@code indices} as INT64 [n, h*w] in {@code scope}. */
    NDArray codes(int[] indices, NDManager scope) {
        long[] out = new long[indices.length * positions];
        for (int i = 0; i < indices.length; i++) {
            System.arraycopy(codes, indices[i] * positions, out, i * positions, positions);
        }
        return scope.create(out, new Shape(indices.length, positions));
    }

    /** The labels of grids {@code indices} as INT64 [n] in {@code scope}. */
    NDArray labels(int[] indices, NDManager scope) {
        long[] out = new long[indices.length];
        for (int i = 0; i < indices.length; i++) {
            out[i] = labels[indices[i]];
        }
        return scope.create(out, new Shape(indices.length));
    }
}
