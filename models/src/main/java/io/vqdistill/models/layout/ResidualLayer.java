package io.vqdistill.models.layout;

/**
 * A residual block over C channels at a constant resolution: x + BN(conv1x1(ReLU(BN(conv3x3(ReLU(x)))))),
 * the 3x3 convolution with padding 1.
 *
 * @param conv1 the 3x3 convolution
 * @param norm1 the BatchNorm after it
 * @param conv2 the 1x1 convolution
 * @param norm2 the BatchNorm after it
 */
public record ResidualLayer(ConvLayer conv1, BatchNormLayer norm1, ConvLayer conv2, BatchNormLayer norm2) {
}
