package io.vqdistill.models.layout;

/**
 * BatchNorm over the channels of [B, C, H, W] (PyTorch's {@code BatchNorm2d} with its defaults):
 * the affine weight (1) and bias (0), trained; the running mean (0) and variance (1), updated with
 * momentum {@value #MOMENTUM} and the unbiased batch variance; the count of training batches.
 *
 * @param weight        gamma [C]
 * @param bias          beta [C]
 * @param runningMean   [C]
 * @param runningVar    [C]
 * @param batchesSeen   INT64 scalar {@code num_batches_tracked}
 * @param channels      C
 */
public record BatchNormLayer(Parameter weight, Parameter bias, Parameter runningMean, Parameter runningVar,
        Parameter batchesSeen, int channels) {
    /** Added to the variance before the square root. */
    public static final double EPS = 1e-5;
    /** The weight of a batch's statistics in the running ones (PyTorch's convention). */
    public static final double MOMENTUM = 0.1;
}
