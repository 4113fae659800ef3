package io.vqdistill.models.train;

/**
 * The optimiser every trainer runs: Adam (Kingma and Ba, 2015) with PyTorch's defaults, and how
 * its moments are named in a resume file. At step t (from 1), for each trainable tensor p with
 * gradient g:
 *
 * <pre>
 * m = beta1 m + (1 - beta1) g
 * v = beta2 v + (1 - beta2) g^2
 * p -= lr / (1 - beta1^t) * m / (sqrt(v / (1 - beta2^t)) + eps)
 * </pre>
 *
 * An engine whose fused update computes p -= lr_t m / (sqrt(v) + eps') with
 * lr_t = lr sqrt(1 - beta2^t) / (1 - beta1^t) (TensorFlow's {@code ApplyAdam}) performs the same
 * update when fed eps' = {@link #foldedEpsilon}. The engines compute these factors in double
 * precision and round them to FLOAT32 where they meet the tensors.
 */
public final class AdamUpdate {
    /** The decay of the first moment. */
    public static final double BETA1 = 0.9;
    /** The decay of the second moment. */
    public static final double BETA2 = 0.999;
    /** Added to the bias-corrected root of the second moment. */
    public static final double EPSILON = 1e-8;

    private static final String FIRST_MOMENT = "adam.m.";
    private static final String SECOND_MOMENT = "adam.v.";

    private AdamUpdate() {
    }

    /** beta1^t. */
    public static double beta1Power(long step) {
        return Math.pow(BETA1, step);
    }

    /** beta2^t. */
    public static double beta2Power(long step) {
        return Math.pow(BETA2, step);
    }

    /** 1 - beta1^t, the first moment's bias correction. */
    public static double firstCorrection(long step) {
        return 1 - beta1Power(step);
    }

    /** 1 - beta2^t, the second moment's bias correction. */
    public static double secondCorrection(long step) {
        return 1 - beta2Power(step);
    }

    /** lr / (1 - beta1^t), the factor of m / (sqrt(v / (1 - beta2^t)) + eps). */
    public static double stepSize(double learningRate, long step) {
        return learningRate / firstCorrection(step);
    }

    /** eps sqrt(1 - beta2^t): the epsilon of the fused form (see the class description). */
    public static double foldedEpsilon(long step) {
        return EPSILON * Math.sqrt(secondCorrection(step));
    }

    /** The name of the first moment of tensor {@code parameter} in a resume file. */
    public static String firstMomentName(String parameter) {
        return FIRST_MOMENT + parameter;
    }

    /** The name of the second moment of tensor {@code parameter} in a resume file. */
    public static String secondMomentName(String parameter) {
        return SECOND_MOMENT + parameter;
    }

    /** True when {@code name} is a moment's name in a resume file. */
    public static boolean isMomentName(String name) {
        return name.startsWith(FIRST_MOMENT) || name.startsWith(SECOND_MOMENT);
    }
}
