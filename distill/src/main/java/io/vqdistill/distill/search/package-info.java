/**
 * The latent searches that choose the grids of a distilled mixture: {@code random} (DMRS),
 * {@code beam} (DMBS), {@code top} and {@code exhaustive}, all batched over the prior, their
 * {@link io.vqdistill.api.search.SearchOptions}, the registry
 * {@link io.vqdistill.distill.search.LatentSearches} and the plug-in service interface
 * {@link io.vqdistill.api.search.LatentSearchProvider}.
 *
 * <p>The beam and random searches walk their whole beam, or draw batch, through the prior as one
 * {@link io.vqdistill.api.model.PrefixBatch}: every prefix is evaluated once per position, its
 * next-code distribution serves all K of its extensions, and a prior that caches per-prefix work
 * (the gated PixelCNN keeps what the rows above contribute) carries it to the kept extensions.
 * Searches report their progress in prior rows to the request's
 * {@link io.vqdistill.api.search.ProgressListener}.
 */
package io.vqdistill.distill.search;
