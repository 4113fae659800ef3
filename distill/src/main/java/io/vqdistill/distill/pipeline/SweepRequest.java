package io.vqdistill.distill.pipeline;

import io.vqdistill.api.InvalidArgumentException;
import io.vqdistill.api.circuit.Precision;
import io.vqdistill.distill.eval.Sweep;
import io.vqdistill.models.data.ImageSet;
import java.nio.file.Path;
import java.util.Objects;

/**
 * What {@link SweepPipeline} measures: mixtures of N = 2^0 .. 2^{@code maxExponent} grids of one
 * latent search on a VQ-VAE and its prior.
 *
 * @param vqvae         the VQ-VAE checkpoint folder
 * @param prior         the prior's checkpoint folder
 * @param search        the latent search's name, as {@link SearchCatalog} knows it
 * @param deterministic whether the beam search keeps the best candidates instead of sampling them
 * @param scoreGrids    whether the search returns every grid's class-marginal log p(z); prior weights need
 *                      them
 * @param tuning        the search settings that differ from the injector's ({@link SearchTuning#NONE}
 *                      for none)
 * @param seed          the seed of every search
 * @param maxExponent   k, in [0, {@value #MAX_EXPONENT}]
 * @param mode          prefixes of one search, or a search of its own for every N
 * @param weighting     uniform or prior weights
 * @param minStd        Gaussian leaves: the floor on every standard deviation, in (0, 1]; null for the
 *                      decoder's own
 * @param precision     the precision of the mixtures' scores when they are measured
 * @param searchImages  the training images whose encoded grids a data-guided search selects from (see
 *                      {@link io.vqdistill.api.search.LatentSearch#usesEncodedImages()}), encoded once for
 *                      the whole sweep; null for the other searches
 * @param out           the folder of {@value SweepPipeline#CSV}
 */
public record SweepRequest(Path vqvae, Path prior, String search, boolean deterministic, boolean scoreGrids,
                           SearchTuning tuning, long seed, int maxExponent, Sweep.Mode mode, WeightingKind weighting,
                           Double minStd, Precision precision, ImageSet searchImages, Path out) {
    /** The largest k accepted. */
    public static final int MAX_EXPONENT = 20;

    /** Validates the request. */
    public SweepRequest {
        Objects.requireNonNull(vqvae, "vqvae");
        Objects.requireNonNull(prior, "prior");
        Objects.requireNonNull(search, "search");
        Objects.requireNonNull(tuning, "tuning");
        Objects.requireNonNull(mode, "mode");
        Objects.requireNonNull(weighting, "weighting");
        Objects.requireNonNull(precision, "precision");
        Objects.requireNonNull(out, "out");
        if (maxExponent < 0 || maxExponent > MAX_EXPONENT) {
            throw InvalidArgumentException.of("maxExponent", maxExponent, "in [0, " + MAX_EXPONENT + "]");
        }
        if (weighting == WeightingKind.EM) {
            throw InvalidArgumentException.of("weighting", weighting.label(), "uniform or prior for a sweep");
        }
        if (weighting == WeightingKind.PRIOR && !scoreGrids) {
            throw InvalidArgumentException.of("scoreGrids", false, "true for prior weights, which are the grids'"
                    + " scores");
        }
    }

    /** A request without training images, for a search that does not select from them. */
    public SweepRequest(Path vqvae, Path prior, String search, boolean deterministic, boolean scoreGrids,
                        SearchTuning tuning, long seed, int maxExponent, Sweep.Mode mode, WeightingKind weighting,
                        Double minStd, Precision precision, Path out) {
        this(vqvae, prior, search, deterministic, scoreGrids, tuning, seed, maxExponent, mode, weighting, minStd,
                precision, null, out);
    }

    /** This request with the training images a data-guided search encodes and selects from. */
    public SweepRequest withSearchImages(ImageSet images) {
        return new SweepRequest(vqvae, prior, search, deterministic, scoreGrids, tuning, seed, maxExponent, mode,
                weighting, minStd, precision, Objects.requireNonNull(images, "images"), out);
    }
}
