package io.vqdistill.models.nn;

import io.vqdistill.api.Capability;
import io.vqdistill.api.Tensor;

/**
 * The operations a convolutional network needs beyond {@link Tensor}: 2-D convolution, transposed
 * convolution and activations, on FLOAT32 feature maps in the portable layout [B, C, H, W] (NCHW).
 * Weights arrive in PyTorch's layout and are converted once by {@link #convWeights} and
 * {@link #transposedConvWeights}; an engine free to compute in another layout (NHWC, HWIO, ...)
 * converts there, and converts activations inside the operation so callers only ever see NCHW.
 *
 * <p>A backend declaring this capability runs the networks of every portable checkpoint through
 * {@link PortableModels}. Arguments are checked; a wrong shape or dtype is a
 * {@link io.vqdistill.api.TensorException} naming the operation and the shapes. Implementations
 * check with {@link NetworkOpsChecks} and make weights extending {@link AbstractConvWeights}, so
 * every backend rejects bad arguments with the same messages.
 */
public interface NetworkOps extends Capability {

    @Override
    default String capabilityName() {
        return "nn-inference";
    }

    /**
     * Prepares a convolution.
     *
     * @param weight FLOAT32 [out, in, kH, kW] (PyTorch's {@code Conv2d.weight}, OIHW)
     * @param bias   FLOAT32 [out], or null for none
     */
    ConvWeights convWeights(Tensor weight, Tensor bias);

    /**
     * Prepares a transposed convolution.
     *
     * @param weight FLOAT32 [in, out, kH, kW] (PyTorch's {@code ConvTranspose2d.weight})
     * @param bias   FLOAT32 [out], or null for none
     */
    ConvWeights transposedConvWeights(Tensor weight, Tensor bias);

    /**
     * Cross-correlation as PyTorch's {@code conv2d}: zero padding {@code padH} rows above and below,
     * {@code padW} columns left and right, the same stride along both axes, no dilation.
     *
     * @param x FLOAT32 [B, in, H, W]
     * @return FLOAT32 [B, out, (H + 2 padH - kH) / stride + 1, (W + 2 padW - kW) / stride + 1]
     */
    Tensor conv2d(Tensor x, ConvWeights weights, int stride, int padH, int padW);

    /**
     * Transposed convolution as PyTorch's {@code conv_transpose2d} with equal stride, padding and
     * output padding along both axes.
     *
     * @param x FLOAT32 [B, in, H, W]
     * @return FLOAT32 [B, out, (H - 1) stride - 2 pad + kH + outputPadding, likewise for W]
     */
    Tensor convTranspose2d(Tensor x, ConvWeights weights, int stride, int pad, int outputPadding);

    /** The activation {@code a} elementwise on a FLOAT32 tensor of any shape. */
    Tensor activation(Activation a, Tensor x);
}
