package io.vqdistill.cli.commands;

import io.vqdistill.api.InvalidArgumentException;
import java.util.List;
import java.util.Locale;

/**
 * The sizes of one {@code vqdistill reproduce} run: the data, the networks and their epochs, the
 * range of N of the sweeps, and how many images and samples the figures use. {@code tiny} runs in
 * seconds (for tests), {@code small} in well under half an hour on two cores, {@code paper} at the
 * paper's sizes.
 *
 * @param name                  tiny, small or paper
 * @param trainImages           training images of the VQ-VAEs and priors (validation: a fifth); 0 for all
 * @param classifierImages      training images of the classifier; 0 for all
 * @param vqvaeEpochs           epochs of each VQ-VAE
 * @param priorEpochs           epochs of each prior
 * @param classifierEpochs      epochs of the classifier
 * @param codebook4             K of the 4x4 VQ-VAE
 * @param codebook2             K of the 2x2 VQ-VAE, small enough for its exact model
 * @param dim                   size of a codebook vector
 * @param channels4             channels of the 4x4 VQ-VAE's stages (3 stages)
 * @param channels2             channels of the 2x2 VQ-VAE's stages (4 stages)
 * @param resBlocks             residual blocks of both VQ-VAEs
 * @param priorLayers           gated layers of the priors
 * @param priorChannels         features per stack of the priors
 * @param priorHeadHidden       hidden features of the priors' heads
 * @param batch                 batch size of every training
 * @param maxExponent           the sweeps measure N = 2^0 .. 2^maxExponent
 * @param evalImages            test images every BPD is measured on
 * @param samples               samples per model classified for the class histograms
 * @param cornerImages          test images of the corner plots
 * @param inpaintImages         test images inpainted per mask
 * @param seeds                 independently trained 2x2 VQ-VAEs and priors that Figures 1 and 2 average over
 * @param baselines             the sizes of the continuous-mixture and Einsum-network baselines
 * @param estimate              the run's measured or estimated duration, as printed before it starts
 */
public record ReproductionScale(String name, int trainImages, int classifierImages, int vqvaeEpochs,
        int priorEpochs, int classifierEpochs, int codebook4, int codebook2, int dim, List<Integer> channels4,
        List<Integer> channels2, int resBlocks, int priorLayers, int priorChannels, int priorHeadHidden, int batch,
        int maxExponent, int evalImages, int samples, int cornerImages, int inpaintImages, int seeds,
        Baselines baselines, String estimate) {

    /**
     * The sizes of the baselines: a continuous mixture (an MLP decoder trained on a lattice of
     * integration points, compiled at several point counts) and an Einsum network (trained by EM),
     * each trained on the same images as the VQ-VAEs.
     *
     * @param cmEpochs          epochs of the continuous mixture with Gaussian leaves
     * @param cmCategoricalEpochs epochs of the continuous mixture with categorical leaves (its output
     *                          layer alone has 256 x 784 x 256 weights, which makes an epoch slow)
     * @param cmPoints          integration points per training step (Gaussian leaves)
     * @param cmCategoricalPoints integration points per training step with categorical leaves, whose
     *                          decoder puts out 784 x 256 logits per point
     * @param cmLatentDim       dimension of the continuous latent variable
     * @param cmHidden          widths of the decoder's hidden layers
     * @param einetEpochs       epochs of the Einsum network
     * @param einetPieces       the region splits of the Einsum network
     * @param einetLeaves       input distributions per leaf region
     * @param einetSums         sum units per region
     * @param einetEmFrequency  batches per M-step
     */
    public record Baselines(int cmEpochs, int cmCategoricalEpochs, int cmPoints, int cmCategoricalPoints,
            int cmLatentDim, List<Integer> cmHidden, int einetEpochs,
            List<Integer> einetPieces, int einetLeaves, int einetSums, int einetEmFrequency) {
        /** Copies the lists. */
        public Baselines {
            cmHidden = List.copyOf(cmHidden);
            einetPieces = List.copyOf(einetPieces);
        }
    }

    /** Seconds, on a test machine. */
    public static final ReproductionScale TINY = new ReproductionScale("tiny", 60, 60, 1, 1, 1, 8, 4, 4,
            List.of(4, 4, 4), List.of(4, 4, 4, 4), 1, 2, 8, 16, 32, 2, 20, 100, 20, 2, 2,
            new Baselines(1, 1, 4, 2, 2, List.of(8), 1, List.of(14), 2, 2, 1),
            "seconds (a test of the pipeline, not of the method)");
    /** The small run measured in docs/REPRODUCTION.md. */
    public static final ReproductionScale SMALL = new ReproductionScale("small", 5000, 0, 3, 4, 6, 64, 16, 16,
            List.of(16, 32, 32), List.of(16, 32, 32, 32), 1, 4, 32, 128, 64, 8, 1000, 10000, 500, 4, 3,
            new Baselines(4, 1, 256, 32, 16, List.of(128, 256), 3, List.of(7), 10, 10, 10),
            "24 min 55 s measured on 2 CPU cores shared with other jobs (see docs/REPRODUCTION.md)");
    /** The paper's sizes: the full data, the default networks, N up to 2^14. */
    public static final ReproductionScale PAPER = new ReproductionScale("paper", 0, 0, 100, 100, 20, 512, 32, 64,
            List.of(32, 64, 64), List.of(32, 64, 64, 64), 2, 10, 64, 512, 128, 14, 10000, 10000, 500, 4, 5,
            new Baselines(100, 100, 1024, 256, 16, List.of(128, 256), 100, List.of(7), 10, 10, 50),
            "estimated 4 to 6 days on 2 CPU cores: about 1.5 days for the VQ-VAEs, priors and classifier (the "
                + "categorical VQ-VAE about half of it), up to 2.5 days for the categorical continuous mixture, up to "
                + "1 day for the other baselines, about 10 h of sweeps and 1 h for the exact models and enumerations;"
                + " from the rates in docs/RESULTS.md and docs/REPRODUCTION.md");

    /**
     * The largest N of categorical mixtures: their leaves take 784 x 256 float32 logits, 0.8 MB, per
     * component, so 2^11 components hold 1.6 GB.
     */
    public static final int CATEGORICAL_MAX_EXPONENT = 11;

    /** Every scale, by name. */
    public static final List<ReproductionScale> ALL = List.of(TINY, SMALL, PAPER);

    /**
     * The scale called {@code name}.
     *
     * @throws InvalidArgumentException naming {@code --scale} and the known names
     */
    public static ReproductionScale of(String name) {
        return ALL.stream().filter(s -> s.name.equals(name.toLowerCase(Locale.ROOT))).findFirst()
                .orElseThrow(() -> new InvalidArgumentException("unknown --scale '" + name + "'; known: "
                        + ALL.stream().map(ReproductionScale::name).toList()));
    }

    /**
     * The sweeps measure N = 2^0 .. 2^e for models with {@code head} leaves: {@link #maxExponent} for
     * Gaussian leaves, at most {@value #CATEGORICAL_MAX_EXPONENT} for categorical ones.
     */
    public int maxExponent(String head) {
        return head.equals("categorical") ? Math.min(maxExponent, CATEGORICAL_MAX_EXPONENT) : maxExponent;
    }

    /** The training-image limit of the VQ-VAEs and priors, or null for all. */
    public Integer trainLimit() {
        return trainImages == 0 ? null : trainImages;
    }

    /** The training-image limit of the classifier, or null for all. */
    public Integer classifierLimit() {
        return classifierImages == 0 ? null : classifierImages;
    }
}
