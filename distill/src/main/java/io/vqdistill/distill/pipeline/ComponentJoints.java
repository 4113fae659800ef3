package io.vqdistill.distill.pipeline;

import io.vqdistill.api.Backend;
import io.vqdistill.api.InvalidArgumentException;
import io.vqdistill.api.Tensor;
import io.vqdistill.api.TensorScope;
import io.vqdistill.api.circuit.Circuit;
import io.vqdistill.distill.eval.PixelEncoding;
import io.vqdistill.models.data.ImageSet;
import java.util.Arrays;
import java.util.Objects;
import java.util.SplittableRandom;

/**
 * log p(x, z) = log w_z + log p(x | z) of every component z of a mixture at every image x of a set
 * (the values of the paper's Figure 6 corner plots), computed as log p(z | x) + log p(x) from the
 * circuit's exact queries, on the pixel encoding of its leaves with dequantisation noise seeded by
 * {@code seed}.
 *
 * @param images     the number of images
 * @param components the number of components
 * @param values     images * components values in nats, image after image
 */
public record ComponentJoints(int images, int components, double[] values) {

    /** Copies the values. */
    public ComponentJoints {
        values = values.clone();
    }

    /** A copy of the values. */
    @Override
    public double[] values() {
        return values.clone();
    }

    /** The value of component {@code z} at image {@code i}. */
    public double at(int i, int z) {
        return values[i * components + z];
    }

    /**
     * The joints of {@code circuit}'s components at {@code images}.
     *
     * @throws InvalidArgumentException when the circuit's variables are not the images' pixels
     */
    public static ComponentJoints of(Circuit circuit, ImageSet images, long seed) {
        Objects.requireNonNull(circuit, "circuit");
        int s = images.shape().pixels();
        if (circuit.numVariables() != s) {
            throw new InvalidArgumentException("the circuit has " + circuit.numVariables() + " variables but the"
                    + " images " + s + " pixels");
        }
        int n = images.size();
        int[] idx = new int[n];
        for (int i = 0; i < n; i++) {
            idx[i] = i;
        }
        PixelEncoding encoding = PixelEncoding.forLeafFamily(circuit.leafFamily().name());
        float[] x = encoding.values(images, idx, new SplittableRandom(seed));
        boolean[] all = new boolean[n * s];
        Arrays.fill(all, true);
        Backend backend = circuit.backend();
        try (TensorScope scope = TensorScope.open()) {
            Tensor xs = backend.of(x, n, s);
            float[] posterior = circuit.componentPosterior(xs, backend.of(all, n, s)).toFloatArray();
            float[] evidence = circuit.logLikelihood(xs).toFloatArray();
            int c = posterior.length / Math.max(1, n);
            double[] joint = new double[posterior.length];
            for (int i = 0; i < n; i++) {
                for (int z = 0; z < c; z++) {
                    joint[i * c + z] = (double) posterior[i * c + z] + evidence[i];
                }
            }
            return new ComponentJoints(n, c, joint);
        }
    }
}
