package io.vqdistill.circuits.layered;

import io.vqdistill.api.InvalidArgumentException;
import java.util.Arrays;

/**
 * The shape of an Einsum network: a Poon–Domingos region graph over a {@code height x width} image
 * split at multiples of {@code pieces}, {@code leaves} (I) input distributions per leaf region, each
 * fully factorised over the region's pixels, and {@code sums} (K) sum units per inner region (the
 * root has one).
 *
 * @param height image rows
 * @param width  image columns
 * @param pieces split step sizes, each >= 1
 * @param leaves I, input distributions per leaf region, >= 1
 * @param sums   K, sum units per inner region other than the root, >= 1
 */
public record LayeredSpec(int height, int width, int[] pieces, int leaves, int sums) {
    /** Validates and copies. */
    public LayeredSpec {
        if (height < 1 || width < 1) {
            throw new InvalidArgumentException("an Einsum network needs an image of at least 1x1 pixels, found "
                    + height + "x" + width);
        }
        if (pieces == null || pieces.length == 0) {
            throw new InvalidArgumentException("an Einsum network needs at least one piece size");
        }
        for (int p : pieces) {
            if (p < 1 || p > Math.max(height, width)) {
                throw InvalidArgumentException.of("piece size", p, "in [1, " + Math.max(height, width) + "]");
            }
        }
        if (leaves < 1) {
            throw InvalidArgumentException.of("leaves (I)", leaves, ">= 1");
        }
        if (sums < 1) {
            throw InvalidArgumentException.of("sums (K)", sums, ">= 1");
        }
        pieces = pieces.clone();
    }

    @Override
    public int[] pieces() {
        return pieces.clone();
    }

    /** The number of pixels, height * width. */
    public int variables() {
        return height * width;
    }

    /** The region graph this spec describes. */
    public RegionGraph graph() {
        return RegionGraph.poonDomingos(height, width, pieces);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof LayeredSpec s && s.height == height && s.width == width && Arrays.equals(s.pieces, pieces)
                && s.leaves == leaves && s.sums == sums;
    }

    @Override
    public int hashCode() {
        return ((Arrays.hashCode(pieces) * 31 + height) * 31 + width) * 31 + leaves * 17 + sums;
    }

    @Override
    public String toString() {
        return height + "x" + width + " pieces " + Arrays.toString(pieces) + ", I=" + leaves + ", K=" + sums;
    }
}
