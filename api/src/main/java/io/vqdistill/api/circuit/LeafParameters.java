package io.vqdistill.api.circuit;

import io.vqdistill.api.DType;
import io.vqdistill.api.InvalidArgumentException;
import io.vqdistill.api.Shapes;
import io.vqdistill.api.Tensor;
import java.util.Arrays;
import java.util.Map;
import java.util.TreeSet;

/**
 * Checks shared by every {@link LeafFamily#prepare} implementation, so that all families reject bad
 * parameters with the same messages.
 */
public final class LeafParameters {
    private LeafParameters() {
    }

    /**
     * Checks that {@code parameters} holds exactly the family's parameters, each FLOAT32 of shape
     * P + eventShape with one common leading shape P of rank >= 1, every element finite.
     *
     * @return P
     * @throws InvalidArgumentException naming the family, the parameter and what is wrong
     */
    public static long[] check(LeafFamily family, Map<String, Tensor> parameters) {
        TreeSet<String> expected = new TreeSet<>();
        family.parameters().forEach(p -> expected.add(p.name()));
        if (!expected.equals(new TreeSet<>(parameters.keySet()))) {
            throw new InvalidArgumentException(family.name() + " leaves need parameters " + expected + ", found "
                    + new TreeSet<>(parameters.keySet()));
        }
        long[] leading = null;
        String first = null;
        for (LeafFamily.Parameter p : family.parameters()) {
            Tensor t = parameters.get(p.name());
            String what = family.name() + " parameter '" + p.name() + "'";
            if (t.dtype() != DType.FLOAT32) {
                throw new InvalidArgumentException(what + " must be float32, found " + t.dtype().label());
            }
            long[] shape = t.shape();
            long[] event = p.eventShape();
            int lead = shape.length - event.length;
            if (lead < 1 || !Arrays.equals(Arrays.copyOfRange(shape, lead, shape.length), event)) {
                throw new InvalidArgumentException(what + " has shape " + Shapes.format(shape)
                        + ", expected [leaves...] followed by " + Shapes.format(event));
            }
            long[] p0 = Arrays.copyOf(shape, lead);
            if (leading == null) {
                leading = p0;
                first = p.name();
            } else if (!Arrays.equals(leading, p0)) {
                throw new InvalidArgumentException(what + " has leading shape " + Shapes.format(p0) + " but '" + first
                        + "' has " + Shapes.format(leading));
            }
            requireFinite(what, t);
        }
        return leading;
    }

    /**
     * Throws unless every element of {@code t} is finite.
     *
     * @param what names the tensor in the message, e.g. {@code gaussian parameter 'mean'}
     * @throws InvalidArgumentException naming {@code what}, the first bad position and its value
     */
    private static void requireFinite(String what, Tensor t) {
        double total;
        try (Tensor zeroIfFinite = t.sub(t); Tensor sum = zeroIfFinite.sumAll()) {
            total = sum.item();
        }
        if (total == 0) {
            return;
        }
        double[] values = t.toDoubleArray();
        for (int i = 0; i < values.length; i++) {
            if (!Double.isFinite(values[i])) {
                throw new InvalidArgumentException(what + " has " + values[i] + " at " + position(i, t.shape())
                        + "; every value must be finite");
            }
        }
    }

    /** A flat row-major index as a multi-index, e.g. {@code [3, 17]}. */
    public static String position(long flat, long[] shape) {
        long[] idx = new long[shape.length];
        long rem = flat;
        for (int d = shape.length - 1; d >= 0; d--) {
            idx[d] = shape[d] == 0 ? 0 : rem % shape[d];
            rem = shape[d] == 0 ? 0 : rem / shape[d];
        }
        return Arrays.toString(idx);
    }
}
