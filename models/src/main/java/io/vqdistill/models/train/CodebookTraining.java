package io.vqdistill.models.train;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.vqdistill.api.FormatException;
import io.vqdistill.api.InvalidArgumentException;
import io.vqdistill.formats.Json;
import java.nio.file.Path;
import java.util.List;

/**
 * How a VQ-VAE's codebook is trained beyond the gradient of the codebook loss; every option is off
 * in {@link #GRADIENT}, the default (the codebook is then an ordinary Adam-trained parameter).
 *
 * <ul>
 *   <li><b>EMA updates</b> ({@code emaDecay} in (0, 1)): the codebook is not trained by the
 *       gradient and the loss has no codebook term; after every step each code e_k becomes the
 *       exponential moving average (decay gamma, zero-debiased) of the sum of the encoder outputs
 *       assigned to it, divided by the moving average of their count, Laplace-smoothed with
 *       {@link #EMA_EPSILON} (Sonnet's {@code VectorQuantizerEMA}, as in VQ-VAE-2). A code that
 *       has never been assigned becomes the zero vector.</li>
 *   <li><b>Dead-code restarts</b> ({@code deadCodeSteps} >= 1): a code no encoder output of the
 *       last {@code deadCodeSteps} training batches was assigned to is set to a random encoder
 *       output of the current batch (distinct codes get distinct outputs while there are enough).</li>
 *   <li><b>k-means initialisation</b> ({@code kmeansIterations} >= 1): before the first step, the
 *       codebook is set by {@code kmeansIterations} Lloyd iterations on the encoder outputs of the
 *       first {@code kmeansBatches} training batches, started from K distinct random outputs.</li>
 * </ul>
 *
 * @param emaDecay         gamma of the EMA updates in (0, 1), or 0 for a gradient-trained codebook
 * @param deadCodeSteps    restart codes unused for this many steps, or 0 for no restarts
 * @param kmeansIterations Lloyd iterations of the k-means initialisation, or 0 for the layout's
 *                         random initial codebook
 * @param kmeansBatches    training batches whose encoder outputs k-means clusters, >= 1
 */
public record CodebookTraining(double emaDecay, int deadCodeSteps, int kmeansIterations, int kmeansBatches) {
    /** The Laplace smoothing of the EMA cluster sizes (Sonnet's default). */
    public static final double EMA_EPSILON = 1e-5;
    /** The training batches k-means clusters unless told otherwise. */
    public static final int DEFAULT_KMEANS_BATCHES = 10;
    /** Every option off: the codebook is trained by the gradient of the codebook loss. */
    public static final CodebookTraining GRADIENT = new CodebookTraining(0, 0, 0, DEFAULT_KMEANS_BATCHES);

    private static final List<String> FIELDS = List.of("ema_decay", "dead_code_steps", "kmeans_iterations",
            "kmeans_batches");

    /** Validates the options. */
    public CodebookTraining {
        if (!(emaDecay == 0 || emaDecay > 0 && emaDecay < 1)) {
            throw new InvalidArgumentException("emaDecay must be in (0, 1), or 0 for none, found " + emaDecay);
        }
        if (deadCodeSteps < 0) {
            throw new InvalidArgumentException("deadCodeSteps must be >= 0, found " + deadCodeSteps);
        }
        if (kmeansIterations < 0) {
            throw new InvalidArgumentException("kmeansIterations must be >= 0, found " + kmeansIterations);
        }
        if (kmeansBatches < 1) {
            throw new InvalidArgumentException("kmeansBatches must be >= 1, found " + kmeansBatches);
        }
    }

    /** True when the codebook follows EMA updates instead of the gradient. */
    public boolean ema() {
        return emaDecay > 0;
    }

    /** True when unused codes are restarted. */
    public boolean restarts() {
        return deadCodeSteps > 0;
    }

    /** True when the codebook starts from k-means. */
    public boolean kmeans() {
        return kmeansIterations > 0;
    }

    /** True when every option is off. */
    public boolean isGradient() {
        return equals(GRADIENT);
    }

    /** The weight of the codebook loss ||sg(z_e) - e||^2 in the training loss: 0 under EMA updates, else 1. */
    public double codebookLossWeight() {
        return ema() ? 0 : 1;
    }

    /** These options as the {@code codebook_training} object of a VQ-VAE's architecture. */
    public ObjectNode toJson() {
        ObjectNode n = JsonNodeFactory.instance.objectNode();
        n.put("ema_decay", emaDecay);
        n.put("dead_code_steps", deadCodeSteps);
        n.put("kmeans_iterations", kmeansIterations);
        n.put("kmeans_batches", kmeansBatches);
        return n;
    }

    /** Reads {@link #toJson()}'s output found at {@code where} of {@code file}; a bad field names both. */
    public static CodebookTraining fromJson(JsonNode n, Path file, String where) {
        Json.requireOnly(n, FIELDS, file, where);
        double decay = Json.requireDouble(n, "ema_decay", file, where);
        int dead = Json.requireInt(n, "dead_code_steps", 0, file, where);
        int iterations = Json.requireInt(n, "kmeans_iterations", 0, file, where);
        int batches = Json.requireInt(n, "kmeans_batches", 1, file, where);
        try {
            return new CodebookTraining(decay, dead, iterations, batches);
        } catch (InvalidArgumentException e) {
            throw FormatException.of(file, where, e.getMessage());
        }
    }
}
