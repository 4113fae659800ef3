/**
 * Latent searches: strategies that choose the code grids a distilled mixture is built from, and
 * the {@link io.vqdistill.api.search.LatentSet} they return.
 */
package io.vqdistill.api.search;
