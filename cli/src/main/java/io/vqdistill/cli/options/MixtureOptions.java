package io.vqdistill.cli.options;

import io.vqdistill.api.InvalidArgumentException;
import io.vqdistill.api.search.LatentSearch;
import io.vqdistill.distill.eval.Sweep;
import io.vqdistill.distill.pipeline.DistillationRequest;
import io.vqdistill.distill.pipeline.SearchCatalog;
import io.vqdistill.distill.pipeline.SweepRequest;
import io.vqdistill.distill.pipeline.WeightingKind;
import java.nio.file.Path;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** How a command builds mixtures: the checkpoints, the latent search and the leaves. */
public final class MixtureOptions {

    @Mixin
    ModelPaths models;

    @Option(names = "--search", paramLabel = "NAME", required = true,
            description = "the latent search: beam, random, top, exhaustive, encoded (the training images' grids by"
                + " use; --data chooses them), encoded-prior (the same by p(z)) or a plug-in's name")
    String search;

    @Option(names = "--deterministic",
            description = "beam search: keep the best candidates instead of sampling them (same grids on every run"
                + " and backend)")
    boolean deterministic;

    @Option(names = "--min-std", paramLabel = "S",
            description = "Gaussian leaves: raise every standard deviation to at least S, in (0, 1] (default: the"
                + " decoder's own, down to 1e-3); choose S on --images validation, not on the test set")
    Double minStd;

    @Option(names = "--seed", paramLabel = "S", defaultValue = "1",
            description = "seed of the search (default: ${DEFAULT-VALUE})")
    long seed;

    /**
     * The search {@code --search} names.
     *
     * @throws io.vqdistill.api.InvalidArgumentException for an unknown name, listing the known ones
     */
    public LatentSearch search(SearchCatalog searches) {
        return searches.get(search, deterministic);
    }

    /**
     * Checks that {@code --search} names a known search, before any work.
     *
     * @throws io.vqdistill.api.InvalidArgumentException for an unknown name, listing the known ones
     */
    public void checkSearch(SearchCatalog searches) {
        searches.get(search, deterministic);
    }

    /**
     * Checks, before any work, the search's name, {@code --min-std}, and the two checkpoints' settings
     * against each other ({@link ModelPaths#check()}), and returns what the checkpoints describe.
     *
     * @throws io.vqdistill.api.InvalidArgumentException naming the flag at fault
     */
    public ModelPaths.Checked check(SearchCatalog searches) {
        checkSearch(searches);
        if (minStd != null && !(minStd > 0 && minStd <= 1)) {
            throw new InvalidArgumentException("--min-std must be in (0, 1], found " + minStd);
        }
        ModelPaths.Checked checked = models.check();
        if (minStd != null && !checked.leafFamily().equals("gaussian")) {
            throw new InvalidArgumentException("--min-std needs gaussian leaves, but the VQ-VAE of --vqvae "
                    + models.vqvae() + " has " + checked.leafFamily() + " leaves");
        }
        return checked;
    }

    /** A request for {@code components} grids saved to {@code out}, with these options; uniform weights. */
    public DistillationRequest.Builder request(int components, Path out) {
        return DistillationRequest.builder(models.vqvae, models.prior, search, components, out)
                .deterministic(deterministic).seed(seed).minStd(minStd);
    }

    /** A sweep up to N = 2^{@code maxExponent} with these options. */
    public SweepRequest sweep(int maxExponent, Sweep.Mode mode, WeightingKind weighting, Path out) {
        return new SweepRequest(models.vqvae, models.prior, search, deterministic, seed, maxExponent, mode, weighting,
                minStd, out);
    }
}
