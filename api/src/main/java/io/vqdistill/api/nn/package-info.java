/**
 * Network inference shared by every backend: the {@link io.vqdistill.api.nn.NetworkOps} capability
 * (the few operations a convolutional network needs beyond {@link io.vqdistill.api.Tensor}), and a
 * {@link io.vqdistill.api.train.ModelLoader} that runs the VQ-VAE and the gated PixelCNN of a portable
 * checkpoint on any backend declaring it. The architectures are those of
 * {@link io.vqdistill.api.train.VqVaeSpec} and {@link io.vqdistill.api.train.PriorSpec}.
 */
package io.vqdistill.api.nn;
