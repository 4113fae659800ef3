/**
 * The networks the method distils from, as seen by the rest of the framework: the VQ-VAE's
 * {@link io.vqdistill.api.model.Encoder} and {@link io.vqdistill.api.model.Decoder}, and the
 * class-conditional {@link io.vqdistill.api.model.Prior} over code grids with its incremental
 * {@link io.vqdistill.api.model.PrefixBatch} for searches.
 */
package io.vqdistill.api.model;
