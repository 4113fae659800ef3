/**
 * Network inference shared by every backend: the {@link io.vqdistill.models.nn.NetworkOps} capability
 * (the few operations a convolutional network needs beyond {@link io.vqdistill.api.Tensor}), and a
 * {@link io.vqdistill.models.ModelLoader} that runs the VQ-VAE and the gated PixelCNN of a portable
 * checkpoint on any backend declaring it. The architectures are those of
 * {@link io.vqdistill.models.train.VqVaeSpec} and {@link io.vqdistill.models.train.PriorSpec}; their
 * tensors are read by the layouts of {@link io.vqdistill.models.layout}.
 */
package io.vqdistill.models.nn;
