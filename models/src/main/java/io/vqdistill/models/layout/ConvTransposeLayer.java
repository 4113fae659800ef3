package io.vqdistill.models.layout;

/**
 * A 2-D transposed convolution (PyTorch's {@code ConvTranspose2d}): weight [in, out, k, k] and
 * bias [out], both initialised U(-1/sqrt(out k k), 1/sqrt(out k k)); the output side is
 * (side - 1) * stride - 2 * padding + k + outputPadding.
 *
 * @param weight        the weight tensor
 * @param bias          the bias tensor
 * @param in            input channels
 * @param out           output channels
 * @param kernel        the square kernel's side
 * @param stride        the stride along both axes
 * @param padding       rows and columns cropped from each side of the full output
 * @param outputPadding rows and columns added at the bottom and right, in [0, stride)
 */
public record ConvTransposeLayer(Parameter weight, Parameter bias, int in, int out, int kernel, int stride,
        int padding, int outputPadding) {

    /** The output side for an input side. */
    public long outputSide(long side) {
        return (side - 1) * stride - 2L * padding + kernel + outputPadding;
    }
}
