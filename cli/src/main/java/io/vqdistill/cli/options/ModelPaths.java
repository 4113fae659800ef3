package io.vqdistill.cli.options;

import io.vqdistill.api.FormatException;
import io.vqdistill.api.InvalidArgumentException;
import io.vqdistill.api.model.LatentShape;
import io.vqdistill.models.checkpoint.Checkpoint;
import io.vqdistill.models.train.PriorSpec;
import io.vqdistill.models.train.VqVaeSpec;
import java.nio.file.Path;
import picocli.CommandLine.Option;

/** The two checkpoint folders a command distils or evaluates from. */
public final class ModelPaths {

    @Option(names = "--vqvae", paramLabel = "DIR", required = true, description = "the VQ-VAE checkpoint folder")
    Path vqvae;

    @Option(names = "--prior", paramLabel = "DIR", required = true, description = "the prior's checkpoint folder")
    Path prior;

    /**
     * The architectures of the two checkpoints, as their {@code config.json} files describe them.
     *
     * @param vqvae the VQ-VAE's
     * @param prior the prior's
     */
    public record Checked(VqVaeSpec vqvae, PriorSpec prior) {
        /** The leaf family of the VQ-VAE's decoder, e.g. {@code gaussian}. */
        public String leafFamily() {
            return vqvae.head().leafFamily();
        }

        /** The pixels of one image. */
        public int pixels() {
            return vqvae.image().pixels();
        }
    }

    /** The VQ-VAE checkpoint folder. */
    public Path vqvae() {
        return vqvae;
    }

    /** The prior's checkpoint folder. */
    public Path prior() {
        return prior;
    }

    /**
     * Reads both configurations (not the weights) and checks them against each other, before any work:
     * see {@link #check(Path, Path)}.
     */
    public Checked check() {
        return check(vqvae, prior);
    }

    /**
     * Reads the configurations of the VQ-VAE in {@code vqvae} and the prior in {@code prior} (not their
     * weights) and checks that the prior models the VQ-VAE's grids: the same grid and codebook size.
     *
     * @throws FormatException          when a folder holds no checkpoint of its kind, naming the flag and
     *                                  the file
     * @throws InvalidArgumentException when the grids differ, naming both folders and their grids
     */
    public static Checked check(Path vqvae, Path prior) {
        VqVaeSpec v = VqVaeSpec.fromJson(read("--vqvae", vqvae, Checkpoint.KIND_VQVAE).architecture(),
                Checkpoint.configFile(vqvae));
        PriorSpec p = checkPrior(prior);
        if (!v.latent().equals(p.latent())) {
            throw new InvalidArgumentException("--prior " + prior + " models " + grids(p.latent())
                    + ", but the VQ-VAE of --vqvae " + vqvae + " makes " + grids(v.latent())
                    + ": give the prior trained on this VQ-VAE ('vqdistill train prior --vqvae " + vqvae + "')");
        }
        return new Checked(v, p);
    }

    /**
     * Reads the configuration of the prior in {@code prior} (not its weights).
     *
     * @throws FormatException when the folder holds no prior checkpoint, naming {@code --prior} and the file
     */
    public static PriorSpec checkPrior(Path prior) {
        return PriorSpec.fromJson(read("--prior", prior, Checkpoint.KIND_PRIOR).architecture(),
                Checkpoint.configFile(prior));
    }

    private static Checkpoint read(String flag, Path dir, String kind) {
        try {
            return Checkpoint.read(dir, kind);
        } catch (FormatException e) {
            throw new FormatException(flag + ": " + e.getMessage(), e);
        }
    }

    private static String grids(LatentShape l) {
        return l.height() + "x" + l.width() + " grids of K = " + l.codebookSize() + " codes";
    }
}
