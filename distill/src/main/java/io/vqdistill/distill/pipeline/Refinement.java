package io.vqdistill.distill.pipeline;

import io.vqdistill.api.InvalidArgumentException;
import io.vqdistill.api.Tensor;
import io.vqdistill.api.circuit.Circuit;
import io.vqdistill.circuits.MixtureEm;
import io.vqdistill.circuits.ShallowMixture;
import io.vqdistill.circuits.io.CircuitFiles;
import io.vqdistill.circuits.leaf.GaussianFamily;
import io.vqdistill.distill.eval.BitsPerDim;
import io.vqdistill.distill.eval.PixelEncoding;
import io.vqdistill.models.data.ImageSet;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.SplittableRandom;
import java.util.function.Consumer;
import java.util.stream.Collectors;

/**
 * Refines a saved shallow mixture (a distilled one, typically) by full-batch EM of every parameter
 * ({@link MixtureEm}) on the training images, choosing the settings on held-out images only:
 *
 * <ol>
 *   <li>Gaussian leaves: each candidate floor on the standard deviation is applied to the saved
 *   mixture, and the one with the best validation bits per dimension is kept (the "floored start");</li>
 *   <li>EM updates follow, each over every training image (their dequantisation noise fixed, so that
 *   no update lowers their log-likelihood); after each, the validation bits per dimension are
 *   measured, and EM stops after {@code patience} updates in a row without improvement;</li>
 *   <li>the mixture with the best validation score (the floored start included) is saved as an
 *   ordinary circuit whose provenance holds the saved mixture's and the refinement's facts
 *   ({@code refine.*}).</li>
 * </ol>
 */
public final class Refinement {
    /** The task {@link ProgressListener}s hear about for each EM update, in training images. */
    public static final String TASK = "EM";
    /** Provenance keys {@link CircuitFiles#write} fills in for the new file. */
    private static final List<String> RECORDED_ANEW = List.of("created", "java", "os", "backend");

    private Refinement() {
    }

    /** What a refinement reports as it goes: a floor tried or an EM update made. */
    public sealed interface Report permits FloorTrial, Epoch {
    }

    /**
     * A candidate floor and the validation score of the saved mixture with it.
     *
     * @param floor         the floor on the standard deviation
     * @param validationBpd validation bits per dimension
     */
    public record FloorTrial(double floor, double validationBpd) implements Report {
    }

    /**
     * One EM update.
     *
     * @param epoch         1, 2, ...
     * @param trainBpd      the training images' bits per dimension under the mixture the update started from
     * @param validationBpd the validation bits per dimension after the update
     * @param improved      whether it is the best validation score so far
     * @param seconds       wall time of the update and its validation
     */
    public record Epoch(int epoch, double trainBpd, double validationBpd, boolean improved, double seconds)
            implements Report {
    }

    /**
     * What a refinement did.
     *
     * @param leafFamily         the mixture's leaf family
     * @param components         N
     * @param floors             the floors tried (Gaussian leaves; empty otherwise)
     * @param startValidationBpd the validation score EM started from (with the chosen floor)
     * @param epochs             the EM updates made
     * @param bestEpoch          the update kept (0: the floored start)
     * @param validationBpd      the validation score of the mixture saved
     * @param json               the circuit file written
     * @param seconds            wall time of the whole refinement
     */
    public record Result(String leafFamily, int components, List<FloorTrial> floors, double startValidationBpd,
                         List<Epoch> epochs, int bestEpoch, double validationBpd, Path json, double seconds) {
        /** Copies. */
        public Result {
            floors = List.copyOf(floors);
            epochs = List.copyOf(epochs);
        }
    }

    /**
     * Refines the mixture saved in {@code request.circuit()} on {@code session}'s backend and saves the
     * best one in {@code request.out()}; {@code reports} hears each floor trial and EM update as it
     * ends.
     *
     * @throws InvalidArgumentException when the saved circuit is not a shallow mixture, or its leaves
     *                                  are neither Gaussian nor categorical, or its variables are not the
     *                                  images' pixels
     */
    public static Result run(Session session, RefinementRequest request, Consumer<Report> reports,
                             ProgressListener progress) {
        Objects.requireNonNull(session, "session");
        Objects.requireNonNull(request, "request");
        Objects.requireNonNull(reports, "reports");
        Objects.requireNonNull(progress, "progress");
        long t0 = System.nanoTime();
        Circuit saved = session.circuit(request.circuit());
        if (!(saved instanceof ShallowMixture original)) {
            throw new InvalidArgumentException("--circuit " + request.circuit() + " holds " + saved
                    + "; EM refines shallow mixtures");
        }
        int s = request.train().shape().pixels();
        if (original.numVariables() != s) {
            throw new InvalidArgumentException("the circuit in " + request.circuit() + " has "
                    + original.numVariables() + " variables but the images " + s + " pixels");
        }
        boolean gaussian = original.leafFamily() instanceof GaussianFamily;
        PixelEncoding encoding = PixelEncoding.forLeafFamily(original.leafFamily().name());
        List<FloorTrial> trials = new ArrayList<>();
        ShallowMixture start = null;
        MixtureEm.Settings settings = null;
        double startBpd = Double.POSITIVE_INFINITY;
        for (double floor : gaussian ? request.floors() : request.floors().subList(0, 1)) {
            MixtureEm.Settings candidate = new MixtureEm.Settings(original.precision(), floor, request.smoothing());
            ShallowMixture floored = MixtureEm.start(original, candidate);
            double bpd = validationBpd(floored, request, progress);
            if (gaussian) {
                FloorTrial trial = new FloorTrial(floor, bpd);
                trials.add(trial);
                reports.accept(trial);
            }
            if (start == null || bpd < startBpd) {
                if (start != null) {
                    start.close();
                }
                start = floored;
                settings = candidate;
                startBpd = bpd;
            } else {
                floored.close();
            }
        }
        ShallowMixture best = start;
        ShallowMixture current = start;
        double bestBpd = startBpd;
        int bestEpoch = 0;
        List<Epoch> epochs = new ArrayList<>();
        try (Tensor data = trainingData(session, request, encoding)) {
            int stale = 0;
            for (int epoch = 1; epoch <= request.epochs() && stale < request.patience(); epoch++) {
                long e0 = System.nanoTime();
                ShallowMixture from = current;
                MixtureEm.Settings chosen = settings;
                MixtureEm.Step step = ProgressListener.track(progress, TASK + " " + epoch, request.train().size(),
                        "images", done -> MixtureEm.step(from, data, chosen, done));
                ShallowMixture next = step.next();
                if (current != best) {
                    current.close();
                }
                current = next;
                double bpd = validationBpd(next, request, progress);
                boolean improved = bpd < bestBpd;
                if (improved) {
                    if (best != next) {
                        best.close();
                    }
                    best = next;
                    bestBpd = bpd;
                    bestEpoch = epoch;
                    stale = 0;
                } else {
                    stale++;
                }
                Epoch done = new Epoch(epoch, BitsPerDim.ofMean(step.meanLogLikelihood(), s, encoding), bpd, improved,
                        (System.nanoTime() - e0) / 1e9);
                epochs.add(done);
                reports.accept(done);
            }
            Map<String, String> provenance = provenance(request, settings, gaussian, trials, epochs, bestEpoch,
                    bestBpd);
            CircuitFiles.write(request.out(), best, provenance, CircuitFiles.numClasses(request.circuit()));
            return new Result(original.leafFamily().name(), original.components(), trials, startBpd, epochs,
                    bestEpoch, bestBpd, request.out().resolve(CircuitFiles.JSON), (System.nanoTime() - t0) / 1e9);
        } finally {
            if (current != best) {
                current.close();
            }
            best.close();
        }
    }

    private static double validationBpd(ShallowMixture mixture, RefinementRequest request, ProgressListener progress) {
        return CircuitEvaluation.of(mixture, request.validation(), CircuitEvaluation.DEFAULT_SEED, progress)
                .bitsPerDim();
    }

    /** Every training image in the leaves' encoding, FLOAT32 [B, S], its noise drawn from the request's seed. */
    private static Tensor trainingData(Session session, RefinementRequest request, PixelEncoding encoding) {
        ImageSet train = request.train();
        int[] all = new int[train.size()];
        for (int i = 0; i < all.length; i++) {
            all[i] = i;
        }
        float[] values = encoding.values(train, all, new SplittableRandom(request.seed()));
        return session.backend().of(values, train.size(), train.shape().pixels());
    }

    private static Map<String, String> provenance(RefinementRequest request, MixtureEm.Settings settings,
                                                  boolean gaussian, List<FloorTrial> trials, List<Epoch> epochs,
                                                  int bestEpoch, double bestBpd) {
        Map<String, String> out = new LinkedHashMap<>(CircuitFiles.provenance(request.circuit()));
        RECORDED_ANEW.forEach(out::remove);
        out.put("refine.from", request.circuit().toAbsolutePath().normalize().toString());
        out.put("refine.method", "full-batch EM of weights and leaves");
        out.put("refine.train_images", request.train().description() + " (" + request.train().size() + ")");
        out.put("refine.validation_images", request.validation().description() + " ("
                + request.validation().size() + ")");
        out.put("refine.noise_seed", Long.toString(request.seed()));
        if (gaussian) {
            out.put("refine.min_std", Double.toString(settings.minStd()));
            out.put("refine.floor_trials", trials.stream().map(t -> String.format(Locale.ROOT, "%s:%.4f", t.floor(),
                    t.validationBpd())).collect(Collectors.joining(",")));
        } else {
            out.put("refine.smoothing", Double.toString(settings.smoothing()));
        }
        out.put("refine.epochs", Integer.toString(epochs.size()));
        out.put("refine.best_epoch", Integer.toString(bestEpoch));
        out.put("refine.validation_bpd", String.format(Locale.ROOT, "%.4f", bestBpd));
        out.put("refine.validation_bpd_by_epoch", epochs.stream().map(e -> String.format(Locale.ROOT, "%.4f",
                e.validationBpd())).collect(Collectors.joining(",")));
        return out;
    }
}
