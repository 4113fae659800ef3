/**
 * The latent searches that choose the grids of a distilled mixture: {@code random} (DMRS),
 * {@code beam} (DMBS), {@code top} and {@code exhaustive}, all batched over the prior, their
 * {@link io.vqdistill.api.search.SearchOptions}, the registry
 * {@link io.vqdistill.distill.search.LatentSearches} and the plug-in service interface
 * {@link io.vqdistill.api.search.LatentSearchProvider}.
 */
package io.vqdistill.distill.search;
