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
import io.vqdistill.formats.AtomicFolder;
import io.vqdistill.formats.Digests;
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
 *   <li>each candidate setting (Gaussian leaves: every pair of a floor on the standard deviation and a
 *   strength of the variances' shrinkage; categorical leaves: the one smoothing) starts from the saved
 *   mixture with the floor applied, and EM updates follow, each over every training image (their
 *   dequantisation noise fixed, so that no update lowers their log-likelihood); after each, the
 *   validation bits per dimension are measured, and EM stops after {@code patience} updates in a row
 *   without improvement;</li>
 *   <li>of every candidate's updates (its floored start included) the one with the best validation
 *   score is saved as an ordinary circuit whose provenance holds the saved mixture's and the
 *   refinement's facts ({@code refine.*}).</li>
 * </ol>
 *
 * A floor that scores best before EM is not always best after it (a sharper start lets EM fit more), so
 * candidates are compared after their EM, at the cost of one refinement each.
 */
public final class Refinement {
    /** The task {@link ProgressListener}s hear about for each EM update, in training images. */
    public static final String TASK = "EM";
    /** Provenance keys {@link CircuitFiles#write} fills in for the new file. */
    static final List<String> RECORDED_ANEW = List.of("created", "java", "os", "backend");

    private Refinement() {
    }

    /**
     * What a refinement reports as it goes: a candidate's floored start or an EM update, and, first, when
     * it continues a saved state, what that state held.
     */
    public sealed interface Report permits Resumed, Start, Epoch {
    }

    /**
     * A saved state continued; its starts and updates follow, replayed as they were reported.
     *
     * @param state      the state folder
     * @param candidates the candidates it had finished
     * @param epochs     the EM updates it had made, over every candidate
     */
    public record Resumed(Path state, int candidates, int epochs) implements Report {
    }

    /**
     * A candidate setting and the validation score of the saved mixture with its floor.
     *
     * @param floor         the floor on the standard deviation (Gaussian leaves)
     * @param shrinkage     the strength of the variances' shrinkage (Gaussian leaves; 0: none)
     * @param validationBpd validation bits per dimension
     */
    public record Start(double floor, double shrinkage, double validationBpd) implements Report {
    }

    /**
     * One EM update.
     *
     * @param epoch         1, 2, ...
     * @param trainBpd      the training images' bits per dimension under the mixture the update started from
     * @param validationBpd the validation bits per dimension after the update
     * @param improved      whether it is the candidate's best validation score so far
     * @param seconds       wall time of the update and its validation
     */
    public record Epoch(int epoch, double trainBpd, double validationBpd, boolean improved, double seconds)
            implements Report {
    }

    /**
     * One candidate setting refined.
     *
     * @param start         its floored start
     * @param epochs        the EM updates made
     * @param bestEpoch     the update with the best validation score (0: the floored start)
     * @param validationBpd that score
     */
    public record Trial(Start start, List<Epoch> epochs, int bestEpoch, double validationBpd) {
        /** Copies. */
        public Trial {
            Objects.requireNonNull(start, "start");
            epochs = List.copyOf(epochs);
        }
    }

    /**
     * What a refinement did.
     *
     * @param leafFamily the mixture's leaf family
     * @param components N
     * @param trials     every candidate setting refined, in the order tried
     * @param chosen     the index in {@code trials} of the one saved
     * @param json       the circuit file written
     * @param seconds    wall time of this run (of a resumed one: since it resumed)
     */
    public record Result(String leafFamily, int components, List<Trial> trials, int chosen, Path json,
                         double seconds) {
        /** Copies. */
        public Result {
            trials = List.copyOf(trials);
            Objects.checkIndex(chosen, trials.size());
        }

        /** The candidate saved. */
        public Trial best() {
            return trials.get(chosen);
        }
    }

    /**
     * Refines the mixture saved in {@code request.circuit()} on {@code session}'s backend and saves the
     * best one in {@code request.out()}; {@code reports} hears each candidate's start and EM update as it
     * ends. With a state folder ({@code request.state()}), the progress is saved after every start and
     * update ({@link RefinementState}) before {@code reports} hears of it; a saved state is checked
     * against this refinement and continued, its finished starts and updates replayed to {@code reports}
     * after a {@link Resumed}, so that the result and the reports equal an uninterrupted run's. The state
     * folder is deleted once the refined circuit is written.
     *
     * @throws InvalidArgumentException when the saved circuit is not a shallow mixture, or its leaves
     *                                  are neither Gaussian nor categorical, or its variables are not the
     *                                  images' pixels, or the state was made for another refinement
     *                                  (naming the field that differs)
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
        List<MixtureEm.Settings> candidates = new ArrayList<>();
        for (double floor : gaussian ? request.floors() : request.floors().subList(0, 1)) {
            for (double shrinkage : gaussian ? request.shrinkages() : List.of(0.0)) {
                candidates.add(new MixtureEm.Settings(original.precision(), floor, request.smoothing(), shrinkage));
            }
        }
        try (RefinementState state = request.state() == null ? null
                : RefinementState.open(request.state(), facts(session, request, original))) {
            Result result = run(session, request, original, candidates, state, reports, progress, t0);
            if (state != null) {
                state.delete();
            }
            return result;
        }
    }

    /**
     * The refinement with its candidates, continuing {@code state} (null for none) and replaying its
     * reports.
     */
    private static Result run(Session session, RefinementRequest request, ShallowMixture original,
                              List<MixtureEm.Settings> candidates, RefinementState state, Consumer<Report> reports,
                              ProgressListener progress, long t0) {
        boolean gaussian = original.leafFamily() instanceof GaussianFamily;
        PixelEncoding encoding = PixelEncoding.forLeafFamily(original.leafFamily().name());
        List<Trial> trials = new ArrayList<>();
        ShallowMixture best = null;
        int chosen = -1;
        try {
            if (state != null) {
                trials.addAll(state.trials());
                replay(state, reports);
                if (state.chosen() >= 0) {
                    chosen = state.chosen();
                    best = state.chosenMixture(original, candidates.get(chosen));
                }
            }
            try (Tensor data = trainingData(session, request, encoding)) {
                for (int i = trials.size(); i < candidates.size(); i++) {
                    Refined refined = refine(i, original, candidates.get(i), data, request, state, reports, progress);
                    trials.add(refined.trial());
                    boolean better = best == null
                            || refined.trial().validationBpd() < trials.get(chosen).validationBpd();
                    if (better) {
                        if (best != null) {
                            best.close();
                        }
                        best = refined.mixture();
                        chosen = trials.size() - 1;
                    } else {
                        refined.mixture().close();
                    }
                    if (state != null) {
                        state.finished(refined.trial(), better);
                    }
                }
            }
            Map<String, String> provenance = provenance(request, candidates.get(chosen), gaussian, trials, chosen);
            CircuitFiles.write(request.out(), best, provenance, CircuitFiles.numClasses(request.circuit()));
            return new Result(original.leafFamily().name(), original.components(), trials, chosen,
                    request.out().resolve(CircuitFiles.JSON), (System.nanoTime() - t0) / 1e9);
        } finally {
            if (best != null) {
                best.close();
            }
        }
    }

    /** Tells {@code reports} what {@code state} holds: a {@link Resumed}, then every start and update saved. */
    private static void replay(RefinementState state, Consumer<Report> reports) {
        List<Trial> done = new ArrayList<>(state.trials());
        RefinementState.Running running = state.running();
        if (running != null) {
            done.add(new Trial(running.start(), running.epochs(), running.bestEpoch(), running.bestBpd()));
        }
        if (done.isEmpty()) {
            return;
        }
        reports.accept(new Resumed(state.folder(), state.trials().size(),
                done.stream().mapToInt(t -> t.epochs().size()).sum()));
        for (Trial t : done) {
            reports.accept(t.start());
            t.epochs().forEach(reports);
        }
    }

    /** What a refinement's state must match to be continued. */
    private static Map<String, String> facts(Session session, RefinementRequest request, ShallowMixture original) {
        Map<String, String> facts = new LinkedHashMap<>();
        facts.put("circuit_sha256", AtomicFolder.read(request.circuit(),
                d -> Digests.sha256(d.resolve(CircuitFiles.JSON))));
        facts.put("train_images", request.train().description() + " (" + request.train().size() + ")");
        facts.put("validation_images", request.validation().description() + " (" + request.validation().size()
                + ")");
        facts.put("floors", request.floors().toString());
        facts.put("shrinkages", request.shrinkages().toString());
        facts.put("smoothing", Double.toString(request.smoothing()));
        facts.put("seed", Long.toString(request.seed()));
        facts.put("patience", Integer.toString(request.patience()));
        facts.put("epochs", Integer.toString(request.epochs()));
        facts.put("precision", original.precision().name().toLowerCase(Locale.ROOT));
        facts.put("backend", session.backend().name());
        return facts;
    }

    /** A candidate's best mixture, owned by the caller, and what its refinement did. */
    private record Refined(ShallowMixture mixture, Trial trial) {
    }

    /**
     * Candidate {@code index}: its floored start, then EM until {@code patience} updates without
     * improvement, continuing the progress {@code state} saved for it and saving each step.
     */
    private static Refined refine(int index, ShallowMixture original, MixtureEm.Settings settings, Tensor data,
                                  RefinementRequest request, RefinementState state, Consumer<Report> reports,
                                  ProgressListener progress) {
        int s = original.numVariables();
        PixelEncoding encoding = PixelEncoding.forLeafFamily(original.leafFamily().name());
        RefinementState.Running saved = state == null ? null : state.running();
        ShallowMixture best = null;
        ShallowMixture current = null;
        try {
            Start start;
            double bestBpd;
            int bestEpoch;
            List<Epoch> epochs;
            int stale;
            if (saved != null) {
                best = state.mixture(saved.best(), original, settings);
                current = saved.current().equals(saved.best()) ? best
                        : state.mixture(saved.current(), original, settings);
                start = saved.start();
                bestBpd = saved.bestBpd();
                bestEpoch = saved.bestEpoch();
                epochs = new ArrayList<>(saved.epochs());
                stale = saved.stale();
            } else {
                best = MixtureEm.start(original, settings);
                current = best;
                start = new Start(settings.minStd(), settings.shrinkage(), validationBpd(best, request, progress));
                if (state != null) {
                    state.started(index, start, best);
                }
                reports.accept(start);
                bestBpd = start.validationBpd();
                bestEpoch = 0;
                epochs = new ArrayList<>();
                stale = 0;
            }
            for (int epoch = epochs.size() + 1; epoch <= request.epochs() && stale < request.patience(); epoch++) {
                long e0 = System.nanoTime();
                ShallowMixture from = current;
                MixtureEm.Step step = ProgressListener.track(progress, TASK + " " + epoch, request.train().size(),
                        "images", done -> MixtureEm.step(from, data, settings, done));
                ShallowMixture next = step.next();
                if (current != best) {
                    current.close();
                }
                current = next;
                double bpd = validationBpd(next, request, progress);
                boolean improved = bpd < bestBpd;
                if (improved) {
                    best.close();
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
                if (state != null) {
                    state.updated(done, stale, bestEpoch, bestBpd, next);
                }
                reports.accept(done);
            }
            if (current != best) {
                current.close();
            }
            return new Refined(best, new Trial(start, epochs, bestEpoch, bestBpd));
        } catch (RuntimeException | Error e) {
            if (current != null && current != best) {
                current.close();
            }
            if (best != null) {
                best.close();
            }
            throw e;
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
                                                  boolean gaussian, List<Trial> trials, int chosen) {
        Trial best = trials.get(chosen);
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
            out.put("refine.shrinkage", Double.toString(settings.shrinkage()));
            out.put("refine.trials", trials.stream().map(t -> String.format(Locale.ROOT, "floor %s shrinkage %s:"
                    + " %.4f -> %.4f", t.start().floor(), t.start().shrinkage(), t.start().validationBpd(),
                    t.validationBpd())).collect(Collectors.joining(", ")));
        } else {
            out.put("refine.smoothing", Double.toString(settings.smoothing()));
        }
        out.put("refine.epochs", Integer.toString(best.epochs().size()));
        out.put("refine.best_epoch", Integer.toString(best.bestEpoch()));
        out.put("refine.validation_bpd", String.format(Locale.ROOT, "%.4f", best.validationBpd()));
        out.put("refine.validation_bpd_by_epoch", best.epochs().stream().map(e -> String.format(Locale.ROOT, "%.4f",
                e.validationBpd())).collect(Collectors.joining(",")));
        return out;
    }
}
