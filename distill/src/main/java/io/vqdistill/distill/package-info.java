/**
 * The distillation itself: the {@link io.vqdistill.distill.Distiller} decodes a latent set into a
 * shallow mixture weighted as a {@link io.vqdistill.distill.Weighting} says, and the
 * {@link io.vqdistill.distill.ExactModel} streams the VQ-VAE's exact likelihood over every grid.
 */
package io.vqdistill.distill;
