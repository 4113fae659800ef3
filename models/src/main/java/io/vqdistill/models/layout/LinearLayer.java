package io.vqdistill.models.layout;

/**
 * A fully connected layer (PyTorch's {@code Linear}): y = x W^T + b with weight [out, in] and bias
 * [out], both initialised U(-1/sqrt(in), 1/sqrt(in)).
 *
 * @param weight the weight tensor [out, in]
 * @param bias   the bias tensor [out]
 * @param in     input features
 * @param out    output features
 */
public record LinearLayer(Parameter weight, Parameter bias, int in, int out) {
}
