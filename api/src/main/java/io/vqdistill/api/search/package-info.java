/**
 * Latent searches: strategies that choose the code grids a distilled mixture is built from, the
 * {@link io.vqdistill.api.search.LatentSet} they return, what they are asked
 * ({@link io.vqdistill.api.search.SearchRequest}, with a
 * {@link io.vqdistill.api.search.ProgressListener}) and their settings
 * ({@link io.vqdistill.api.search.SearchOptions}, with
 * {@link io.vqdistill.api.search.BeamScoring} and {@link io.vqdistill.api.search.RandomClasses}).
 */
package io.vqdistill.api.search;
