package io.vqdistill.models.train;

import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.vqdistill.api.InvalidArgumentException;
import io.vqdistill.api.model.LatentShape;
import java.nio.file.Path;
import java.util.Objects;

/**
 * A VQ-VAE decoder tuned as the decoder of a distilled mixture: the N grids of a shallow mixture
 * p(x) = sum_n w_n p(x | decoder(z_n)) stay fixed, and the decoder (with the codebook it embeds the
 * grids with) is fitted to the training images by maximising that mixture's log-likelihood, so
 * every component moves towards the images it explains. The encoder is not used and keeps its
 * weights; BatchNorm runs on its running statistics, as when the decoder builds the circuit.
 *
 * <p>Each step scores the batch against the mixture's components as the decoder made them when they
 * were last cached (at the start of the run and after each validation), keeps each image's
 * {@code candidates} best components, decodes their grids with the current weights and minimises
 * -log sum_k w_k p(x | decoder(z_k)) over those candidates: with one candidate this is hard EM (the
 * continuous mixtures' top-1 rule), with more it approaches the full mixture's log-likelihood.
 *
 * @param model      the VQ-VAE's architecture; Gaussian leaves
 * @param source     the VQ-VAE checkpoint folder the run starts from
 * @param grids      the codes of the N grids, grid-major [N, positions]
 * @param logWeights log w_n of each grid, N values
 * @param candidates components per image in each step's loss, 1 <= candidates <= N
 * @param mixture    describes where the grids come from (the circuit), for the run key and provenance
 */
public record DecoderTuning(VqVaeSpec model, Path source, int[] grids, double[] logWeights, int candidates,
        String mixture) {

    /** Validates the settings. */
    public DecoderTuning {
        Objects.requireNonNull(model, "model");
        Objects.requireNonNull(source, "source");
        Objects.requireNonNull(mixture, "mixture");
        if (model.head() != DecoderHead.GAUSSIAN) {
            throw new InvalidArgumentException("decoder tuning needs Gaussian leaves; the VQ-VAE in " + source
                    + " has " + model.head().leafFamily() + " leaves");
        }
        LatentShape latent = model.latent();
        int positions = latent.positions();
        if (logWeights.length < 1 || grids.length != logWeights.length * positions) {
            throw new InvalidArgumentException("expected " + logWeights.length + " grids of " + positions
                    + " codes, found " + grids.length + " codes");
        }
        for (int c : grids) {
            if (c < 0 || c >= latent.codebookSize()) {
                throw new InvalidArgumentException("code " + c + " is outside the codebook of " + latent.codebookSize()
                        + " of the VQ-VAE in " + source);
            }
        }
        for (double w : logWeights) {
            if (Double.isNaN(w) || w == Double.POSITIVE_INFINITY) {
                throw new InvalidArgumentException("a log weight is " + w);
            }
        }
        if (candidates < 1 || candidates > logWeights.length) {
            throw InvalidArgumentException.of("candidates", candidates, "between 1 and the " + logWeights.length
                    + " components");
        }
        grids = grids.clone();
        logWeights = logWeights.clone();
    }

    /** N, the mixture's components. */
    public int components() {
        return logWeights.length;
    }

    /** The codes of the grids, grid-major. */
    @Override
    public int[] grids() {
        return grids.clone();
    }

    /** log w_n of each grid. */
    @Override
    public double[] logWeights() {
        return logWeights.clone();
    }

    /** What a resumed run must share with the original besides the architecture. */
    ObjectNode toJson() {
        ObjectNode n = JsonNodeFactory.instance.objectNode();
        n.put("source", source.toAbsolutePath().normalize().toString());
        n.put("mixture", mixture);
        n.put("components", components());
        n.put("candidates", candidates);
        return n;
    }
}
