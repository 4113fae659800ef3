package io.vqdistill.distill.pipeline;

import io.vqdistill.api.model.LatentShape;

/**
 * What a latent search of a pipeline returned.
 *
 * @param search        the strategy's name
 * @param grids         grids returned
 * @param distinctGrids distinct grids among them
 * @param shape         the grids' shape and codebook size
 * @param seconds       wall time of the search
 */
public record SearchOutcome(String search, int grids, int distinctGrids, LatentShape shape, double seconds) {
}
