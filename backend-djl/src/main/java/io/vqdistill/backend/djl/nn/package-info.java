/**
 * Training of the VQ-VAE and the class-conditional gated PixelCNN on DJL's PyTorch engine with
 * eager autograd ({@link io.vqdistill.backend.djl.nn.DjlModelTrainer}, a capability of the DJL
 * backend). Checkpoints use PyTorch's names and layouts, so they load in PyTorch; inference from
 * them runs through {@link io.vqdistill.models.nn.PortableModels} on the backend's network operations,
 * like on every other backend.
 */
package io.vqdistill.backend.djl.nn;
