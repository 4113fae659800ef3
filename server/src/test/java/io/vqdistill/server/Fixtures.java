package io.vqdistill.server;

import io.vqdistill.api.Backend;
import io.vqdistill.api.model.ImageShape;
import io.vqdistill.api.model.LatentShape;
import io.vqdistill.api.search.LatentSet;
import io.vqdistill.circuits.LeafFamilies;
import io.vqdistill.circuits.ShallowMixture;
import io.vqdistill.models.data.ImageSet;
import java.util.Map;
import org.junit.jupiter.api.Assumptions;

/** A tiny 28x28 Gaussian mixture of four strokes and test images drawn from it, and the tools the tests need. */
final class Fixtures {
    static final int SIDE = 28;
    static final int S = SIDE * SIDE;
    static final int COMPONENTS = 4;

    private Fixtures() {
    }

    /** Whether component {@code n}'s stroke covers pixel (y, x): a vertical, a horizontal bar, a diagonal, a ring. */
    static boolean ink(int n, int y, int x) {
        return switch (n) {
            case 0 -> x >= 12 && x < 16 && y >= 4 && y < 24;
            case 1 -> y >= 12 && y < 16 && x >= 4 && x < 24;
            case 2 -> Math.abs(x - y) < 2 && x >= 4 && x < 24;
            default -> {
                double r = Math.hypot(x - 13.5, y - 13.5);
                yield r >= 6 && r < 9;
            }
        };
    }

    /**
     * The mixture on {@code backend}: component n has mean 0.85 on its stroke and 0.05 elsewhere, standard
     * deviation 0.12, weights 0.4, 0.3, 0.2, 0.1, and a latent grid searched under class n.
     */
    static ShallowMixture mixture(Backend backend) {
        float[] mean = new float[COMPONENTS * S];
        float[] logVar = new float[COMPONENTS * S];
        for (int n = 0; n < COMPONENTS; n++) {
            for (int p = 0; p < S; p++) {
                mean[n * S + p] = ink(n, p / SIDE, p % SIDE) ? 0.85f : 0.05f;
                logVar[n * S + p] = (float) Math.log(0.12 * 0.12);
            }
        }
        double[] w = {Math.log(0.4), Math.log(0.3), Math.log(0.2), Math.log(0.1)};
        LatentSet latents = new LatentSet(new LatentShape(1, 1, 4), new int[] {0, 1, 2, 3}, new int[] {0, 1, 2, 3},
                new double[] {-1, -1, -1, -1});
        return ShallowMixture.builder(LeafFamilies.create("gaussian"))
                .parameters(Map.of("mean", backend.of(mean, COMPONENTS, S), "log_var", backend.of(logVar, COMPONENTS, S)))
                .logWeights(w).normaliseWeights().latents(latents).build();
    }

    /** Eight test images: image i is component i % 4's stroke at level 220 on 10, labelled i % 4. */
    static ImageSet testImages() {
        int n = 8;
        byte[] pixels = new byte[n * S];
        int[] labels = new int[n];
        for (int i = 0; i < n; i++) {
            labels[i] = i % COMPONENTS;
            for (int p = 0; p < S; p++) {
                pixels[i * S + p] = (byte) (ink(i % COMPONENTS, p / SIDE, p % SIDE) ? 220 : 10);
            }
        }
        return new ImageSet(new ImageShape(1, SIDE, SIDE), pixels, labels, COMPONENTS, "four strokes");
    }

    /**
     * Requires an external tool: in CI (the environment variable CI set, as .ci/run does) a missing
     * tool fails the test; elsewhere the test is skipped with the command that installs it.
     */
    static void requireTool(boolean present, String what, String install) {
        if (present) {
            return;
        }
        String ci = System.getenv("CI");
        String message = what + " is missing; install it with: " + install;
        if (ci != null && !ci.isBlank() && !ci.equalsIgnoreCase("false")) {
            throw new AssertionError(message + " (.ci/run does)");
        }
        Assumptions.abort(message);
    }
}
