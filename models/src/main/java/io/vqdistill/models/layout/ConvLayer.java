package io.vqdistill.models.layout;

/**
 * A 2-D convolution (PyTorch's {@code Conv2d}): weight [out, in, kH, kW] and bias [out], both
 * initialised U(-1/sqrt(in kH kW), 1/sqrt(in kH kW)), symmetric zero padding, and an optional
 * constant mask multiplied into the weight (a masked convolution).
 *
 * @param weight        the weight tensor
 * @param bias          the bias tensor
 * @param in            input channels
 * @param out           output channels
 * @param kernelHeight  kernel rows
 * @param kernelWidth   kernel columns
 * @param stride        the stride along both axes
 * @param paddingHeight zero rows added above and below
 * @param paddingWidth  zero columns added left and right
 * @param mask          kH * kW factors in row-major order, or null for none
 */
public record ConvLayer(Parameter weight, Parameter bias, int in, int out, int kernelHeight, int kernelWidth,
        int stride, int paddingHeight, int paddingWidth, float[] mask) {

    /** Copies the mask. */
    public ConvLayer {
        mask = mask == null ? null : mask.clone();
    }

    /** A copy of the mask, or null. */
    @Override
    public float[] mask() {
        return mask == null ? null : mask.clone();
    }
}
