package io.vqdistill.cli.options;

import io.vqdistill.api.FormatException;
import io.vqdistill.api.InvalidArgumentException;
import io.vqdistill.api.model.ImageShape;
import io.vqdistill.api.model.LatentShape;
import io.vqdistill.models.checkpoint.Checkpoint;
import io.vqdistill.models.data.DataSplit;
import io.vqdistill.models.train.CodebookTraining;
import io.vqdistill.models.train.DecoderHead;
import io.vqdistill.models.train.PriorSpec;
import io.vqdistill.models.train.VqVaeSpec;
import java.nio.file.Path;
import java.util.List;

/** The network architectures the training options describe, with the defaults filled in. */
public final class NetworkSpecs {
    private NetworkSpecs() {
    }

    /**
     * An MNIST VQ-VAE with a {@code grid x grid} code grid of {@code codebook} codes; the nullable
     * settings take the defaults of {@link VqVaeSpec#defaults}.
     *
     * @param head gaussian or categorical
     */
    public static VqVaeSpec vqVae(int grid, int codebook, Integer dim, List<Integer> channels, Integer resBlocks,
                                  String head, Double beta) {
        Flags.atLeastOne("--grid", grid);
        Flags.atLeastOne("--codebook", codebook);
        if (dim != null) {
            Flags.atLeastOne("--dim", dim);
        }
        if (channels != null) {
            channels.forEach(c -> Flags.atLeastOne("--channels", c));
        }
        if (resBlocks != null && resBlocks < 0) {
            throw new InvalidArgumentException("--res-blocks must be >= 0, found " + resBlocks);
        }
        if (beta != null && !(beta >= 0 && !Double.isInfinite(beta))) {
            throw new InvalidArgumentException("--beta must be finite and >= 0, found " + beta);
        }
        try {
            DecoderHead.parse(head);
        } catch (InvalidArgumentException e) {
            throw new InvalidArgumentException("--head: " + e.getMessage(), e);
        }
        int stages;
        try {
            stages = VqVaeSpec.sides(ImageShape.MNIST.height(), grid).length - 1;
        } catch (InvalidArgumentException e) {
            throw new InvalidArgumentException("--grid " + grid + ": " + e.getMessage(), e);
        }
        if (channels != null && channels.size() != stages) {
            throw new InvalidArgumentException("--channels needs one entry per downsampling stage: a " + grid + "x"
                    + grid + " grid takes " + stages + ", found " + channels);
        }
        VqVaeSpec d = VqVaeSpec.defaults(ImageShape.MNIST, new LatentShape(grid, grid, codebook),
                DecoderHead.parse(head));
        return new VqVaeSpec(d.image(), d.latent(), dim == null ? d.embeddingDim() : dim,
                channels == null ? d.channels() : channels, resBlocks == null ? d.residualBlocks() : resBlocks,
                d.head(), beta == null ? d.beta() : beta);
    }

    /**
     * How the codebook is trained: EMA updates with decay {@code emaDecay}, restarts of codes unused
     * for {@code deadCodeSteps} steps, a k-means start of {@code kmeansIterations} Lloyd iterations on
     * the encoder outputs of {@code kmeansBatches} batches; a null option is off (the batches default
     * to {@link CodebookTraining#DEFAULT_KMEANS_BATCHES}).
     *
     * @throws InvalidArgumentException naming {@code --ema-decay}, {@code --dead-code-steps},
     *                                  {@code --kmeans-init} or {@code --kmeans-batches} and the value
     */
    public static CodebookTraining codebookTraining(Double emaDecay, Integer deadCodeSteps, Integer kmeansIterations,
                                                    Integer kmeansBatches) {
        if (emaDecay != null && !(emaDecay > 0 && emaDecay < 1)) {
            throw new InvalidArgumentException("--ema-decay must be in (0, 1), e.g. 0.99, found " + emaDecay);
        }
        if (deadCodeSteps != null) {
            Flags.atLeastOne("--dead-code-steps", deadCodeSteps);
        }
        if (kmeansIterations != null) {
            Flags.atLeastOne("--kmeans-init", kmeansIterations);
        }
        if (kmeansBatches != null) {
            Flags.atLeastOne("--kmeans-batches", kmeansBatches);
            if (kmeansIterations == null) {
                throw new InvalidArgumentException("--kmeans-batches " + kmeansBatches + " needs --kmeans-init");
            }
        }
        return new CodebookTraining(emaDecay == null ? 0 : emaDecay, deadCodeSteps == null ? 0 : deadCodeSteps,
                kmeansIterations == null ? 0 : kmeansIterations,
                kmeansBatches == null ? CodebookTraining.DEFAULT_KMEANS_BATCHES : kmeansBatches);
    }

    /**
     * A prior over the code grids of the VQ-VAE checkpoint in {@code vqvae}, for the classes of
     * {@code data}, which must be the data the VQ-VAE was trained on.
     *
     * @throws InvalidArgumentException when the VQ-VAE was trained on other data, naming the options to
     *                                  make equal
     */
    public static PriorSpec prior(Path vqvae, DataSplit data, int layers, int channels, int headHidden,
                                  int firstKernel, int kernel) {
        checkPrior(layers, channels, headHidden, firstKernel, kernel);
        Checkpoint vq = Checkpoint.read(vqvae, Checkpoint.KIND_VQVAE);
        LatentShape latent = VqVaeSpec.fromJson(vq.architecture(), Checkpoint.configFile(vqvae)).latent();
        if (!vq.provenance().data().equals(data.description())) {
            throw new InvalidArgumentException("the VQ-VAE in " + vqvae + " was trained on '"
                    + vq.provenance().data() + "', but these options give '" + data.description()
                    + "': use the same --data, --split-seed and --limit");
        }
        return new PriorSpec(latent, data.train().numClasses(), layers, channels, headHidden, firstKernel, kernel);
    }

    /**
     * Checks the prior's architecture flags, before any work.
     *
     * @throws InvalidArgumentException naming {@code --layers}, {@code --channels}, {@code --head-hidden},
     *                                  {@code --first-kernel} or {@code --kernel}
     */
    public static void checkPrior(int layers, int channels, int headHidden, int firstKernel, int kernel) {
        Flags.atLeastOne("--layers", layers);
        Flags.atLeastOne("--channels", channels);
        Flags.atLeastOne("--head-hidden", headHidden);
        Flags.oddAtLeast("--first-kernel", firstKernel, 3);
        Flags.oddAtLeast("--kernel", kernel, 3);
    }

    /**
     * Checks that {@code dir}, given as {@code flag}, holds a VQ-VAE checkpoint, reading its configuration
     * only.
     *
     * @throws FormatException naming the flag and the file when it does not
     */
    public static VqVaeSpec requireVqVae(String flag, Path dir) {
        try {
            return VqVaeSpec.fromJson(Checkpoint.read(dir, Checkpoint.KIND_VQVAE).architecture(),
                    Checkpoint.configFile(dir));
        } catch (FormatException e) {
            throw new FormatException(flag + ": " + e.getMessage(), e);
        }
    }
}
