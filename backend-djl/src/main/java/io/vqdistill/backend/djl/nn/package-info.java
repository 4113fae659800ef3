/**
 * The VQ-VAE and the class-conditional gated PixelCNN on DJL's PyTorch engine: training with eager
 * autograd ({@link io.vqdistill.backend.djl.nn.DjlModelTrainer}) and inference from portable
 * checkpoints ({@link io.vqdistill.backend.djl.nn.DjlModelLoader}), both declared as capabilities of
 * the DJL backend. Weights use PyTorch's names and layouts, so the checkpoints load in PyTorch.
 */
package io.vqdistill.backend.djl.nn;
