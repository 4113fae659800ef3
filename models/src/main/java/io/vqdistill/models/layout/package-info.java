/**
 * The declarative layouts of the networks, engine-free: every tensor of the VQ-VAE
 * ({@link io.vqdistill.models.layout.VqVaeLayout}) and of the gated PixelCNN
 * ({@link io.vqdistill.models.layout.PixelCnnLayout}) with its checkpoint name, shape, role and
 * initialiser, in PyTorch's registration order, and the layers they form. The portable inference
 * and every trainer read them, so a checkpoint name is written only here.
 */
package io.vqdistill.models.layout;
