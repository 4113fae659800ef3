package io.vqdistill.cli;

import io.vqdistill.api.model.Decoder;
import io.vqdistill.api.search.LatentSearch;
import io.vqdistill.distill.VarianceFloor;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** How a command builds mixtures: the checkpoints, the latent search and the leaves. */
final class MixtureOptions {

    @Mixin
    ModelPaths models;

    @Option(names = "--search", paramLabel = "NAME", required = true,
            description = "the latent search: beam, random, top, exhaustive or a plug-in's name")
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
     * The search named by {@code --search}.
     *
     * @throws IllegalArgumentException for an unknown name, listing the known ones
     */
    LatentSearch strategy() {
        return Searches.named(search, deterministic);
    }

    /** {@code decoder} with the {@code --min-std} floor, if one was given. */
    Decoder leaves(Decoder decoder) {
        return minStd == null ? decoder : VarianceFloor.of(decoder, minStd);
    }
}
