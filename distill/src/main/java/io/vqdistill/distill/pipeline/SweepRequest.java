package io.vqdistill.distill.pipeline;

import io.vqdistill.api.InvalidArgumentException;
import io.vqdistill.api.circuit.Precision;
import io.vqdistill.distill.eval.Sweep;
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
 * @param out           the folder of {@value SweepPipeline#CSV}
 */
public record SweepRequest(Path vqvae, Path prior, String search, boolean deterministic, boolean scoreGrids,
                           SearchTuning tuning, long seed, int maxExponent, Sweep.Mode mode, WeightingKind weighting,
                           Double minStd, Precision precision, Path out) {
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
}
