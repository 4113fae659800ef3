package io.vqdistill.distill.pipeline;

import io.vqdistill.api.InvalidArgumentException;
import io.vqdistill.api.circuit.Precision;
import io.vqdistill.models.data.ImageSet;
import java.nio.file.Path;
import java.util.Objects;

/**
 * What {@link DistillationPipeline} distils: the checkpoints, the latent search that selects the
 * grids, how the mixture is weighted and built, and the circuit folder it is saved to. Build one with
 * {@link #builder(Path, Path, String, int, Path)}.
 *
 * @param vqvae         the VQ-VAE checkpoint folder, whose decoder turns grids into leaves
 * @param prior         the prior's checkpoint folder, which the search queries
 * @param search        the latent search's name, as {@link SearchCatalog} knows it
 * @param deterministic whether the beam search keeps the best candidates instead of sampling them
 * @param scoreGrids    whether the search returns every grid's class-marginal log p(z)
 *                      ({@link io.vqdistill.api.search.SearchOptions#scoreGrids()}); prior weights need them
 * @param tuning        the search settings that differ from the injector's ({@link SearchTuning#NONE}
 *                      for none)
 * @param components    N, the number of grids asked of the search, in [1, {@value #MAX_COMPONENTS}]
 * @param seed          the seed of the search
 * @param weighting     how the components are weighted
 * @param em            the EM settings; given exactly when {@code weighting} is {@link WeightingKind#EM}
 * @param minStd        Gaussian leaves: the floor on every standard deviation, in (0, 1]; null for the
 *                      decoder's own
 * @param precision     the precision of the mixture's scores while EM fits the weights
 * @param searchImages  the training images whose encoded grids a data-guided search selects from (see
 *                      {@link io.vqdistill.api.search.LatentSearch#usesEncodedImages()}); null for the
 *                      other searches
 * @param out           the circuit folder to write
 */
public record DistillationRequest(Path vqvae, Path prior, String search, boolean deterministic, boolean scoreGrids,
                                  SearchTuning tuning, int components, long seed, WeightingKind weighting, Em em,
                                  Double minStd, Precision precision, ImageSet searchImages, Path out) {
    /** The largest N accepted. */
    public static final int MAX_COMPONENTS = 1 << 20;

    /**
     * The images and iterations of EM weighting.
     *
     * @param train      the training images; the first {@code images} of them are the EM data
     * @param images     how many training images EM fits the weights on, >= 1
     * @param iterations at most this many EM updates
     */
    public record Em(ImageSet train, int images, int iterations) {
        /** Validates the settings. */
        public Em {
            Objects.requireNonNull(train, "train");
            if (images < 1) {
                throw InvalidArgumentException.of("images", images, ">= 1");
            }
        }
    }

    /** Validates the request. */
    public DistillationRequest {
        Objects.requireNonNull(vqvae, "vqvae");
        Objects.requireNonNull(prior, "prior");
        Objects.requireNonNull(search, "search");
        Objects.requireNonNull(tuning, "tuning");
        Objects.requireNonNull(weighting, "weighting");
        Objects.requireNonNull(precision, "precision");
        Objects.requireNonNull(out, "out");
        if (weighting == WeightingKind.PRIOR && !scoreGrids) {
            throw InvalidArgumentException.of("scoreGrids", false, "true for prior weights, which are the grids'"
                    + " scores");
        }
        if (components < 1 || components > MAX_COMPONENTS) {
            throw InvalidArgumentException.of("components", components, "in [1, " + MAX_COMPONENTS + "]");
        }
        if ((weighting == WeightingKind.EM) != (em != null)) {
            throw InvalidArgumentException.of("em", em, weighting == WeightingKind.EM
                    ? "given for EM weighting" : "null unless the weighting is EM");
        }
    }

    /**
     * A builder of a request with the search's defaults: stochastic, scored grids, seed 1, uniform weights,
     * no floor, EM at {@link Precision#FAST}.
     */
    public static Builder builder(Path vqvae, Path prior, String search, int components, Path out) {
        return new Builder(vqvae, prior, search, components, out);
    }

    /** Builds a {@link DistillationRequest}. */
    public static final class Builder {
        private final Path vqvae;
        private final Path prior;
        private final String search;
        private final int components;
        private final Path out;
        private boolean deterministic;
        private boolean scoreGrids = true;
        private Precision precision = Precision.FAST;
        private SearchTuning tuning = SearchTuning.NONE;
        private long seed = 1;
        private WeightingKind weighting = WeightingKind.UNIFORM;
        private Em em;
        private Double minStd;
        private ImageSet searchImages;

        private Builder(Path vqvae, Path prior, String search, int components, Path out) {
            this.vqvae = vqvae;
            this.prior = prior;
            this.search = search;
            this.components = components;
            this.out = out;
        }

        /** Whether the beam search keeps the best candidates instead of sampling them. */
        public Builder deterministic(boolean value) {
            this.deterministic = value;
            return this;
        }

        /** Whether the search returns the grids' class-marginal log p(z) (true unless set). */
        public Builder scoreGrids(boolean value) {
            this.scoreGrids = value;
            return this;
        }

        /** The precision of the mixture's scores while EM fits the weights ({@link Precision#FAST} unless set). */
        public Builder precision(Precision value) {
            this.precision = Objects.requireNonNull(value, "precision");
            return this;
        }

        /** The search settings that differ from the injector's. */
        public Builder tuning(SearchTuning value) {
            this.tuning = Objects.requireNonNull(value, "tuning");
            return this;
        }

        /** The seed of the search. */
        public Builder seed(long value) {
            this.seed = value;
            return this;
        }

        /** Uniform or prior weights. */
        public Builder weighting(WeightingKind value) {
            this.weighting = value;
            this.em = null;
            return this;
        }

        /** EM weights fitted on the first {@code images} of {@code train}, at most {@code iterations} updates. */
        public Builder em(ImageSet train, int images, int iterations) {
            this.weighting = WeightingKind.EM;
            this.em = new Em(train, images, iterations);
            return this;
        }

        /** The floor on the leaves' standard deviations; null for the decoder's own. */
        public Builder minStd(Double value) {
            this.minStd = value;
            return this;
        }

        /** The training images a data-guided search encodes and selects from. */
        public Builder searchImages(ImageSet value) {
            this.searchImages = value;
            return this;
        }

        /** The request. */
        public DistillationRequest build() {
            return new DistillationRequest(vqvae, prior, search, deterministic, scoreGrids, tuning, components, seed,
                    weighting, em, minStd, precision, searchImages, out);
        }
    }
}
