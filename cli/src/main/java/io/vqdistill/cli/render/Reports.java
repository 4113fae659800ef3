package io.vqdistill.cli.render;

import io.vqdistill.api.Backend;
import io.vqdistill.circuits.io.CircuitFiles;
import io.vqdistill.distill.eval.LogProbHistogram;
import io.vqdistill.distill.eval.PixelEncoding;
import io.vqdistill.distill.pipeline.CircuitEvaluation;
import io.vqdistill.distill.pipeline.CmCompilation;
import io.vqdistill.distill.pipeline.DistillationResult;
import io.vqdistill.distill.pipeline.PriorEnumeration;
import io.vqdistill.distill.pipeline.Refinement;
import io.vqdistill.distill.pipeline.SearchOutcome;
import io.vqdistill.models.data.DataSplit;
import io.vqdistill.models.train.TrainingReport;
import java.io.PrintWriter;
import java.util.Locale;
import java.util.Map;

/** The lines the commands print about pipeline results; each report is flushed. */
public final class Reports {
    private Reports() {
    }

    /** What a latent search returned, and in how long. */
    public static void searched(PrintWriter w, SearchOutcome s) {
        w.printf(Locale.ROOT, "search %s: %d grids (%d distinct) of %s in %.2f s%n", s.search(), s.grids(),
                s.distinctGrids(), s.shape(), s.seconds());
        w.flush();
    }

    /** The mixture a distillation made, in how long, and the files written. */
    public static void distilled(PrintWriter w, DistillationResult r) {
        w.printf(Locale.ROOT, "distillation (%s weights): %d components, %,d parameters, %s leaves in %.2f s%n",
                r.weighting(), r.components(), r.parameters(), r.leafFamily(), r.distillSeconds());
        w.printf("wrote %s and %s%n", r.json(), r.tensors());
        w.flush();
    }

    /** The bits per dimension of a circuit on the image set called {@code set}. */
    public static void evaluated(PrintWriter w, String set, CircuitEvaluation e) {
        w.printf(Locale.ROOT, "%s BPD %.4f bits/dim on %d %s images (%s leaves, %,d parameters; %s; %s precision)"
                        + " in %.2f s%n", set, e.bitsPerDim(), e.images(), set, e.leafFamily(), e.parameters(),
                e.encoding() == PixelEncoding.DEQUANTISED
                        ? "pixels dequantised to (p+u)/256, seed " + e.seed() + ", +8" : "levels, no offset",
                e.precision().name().toLowerCase(Locale.ROOT), e.seconds());
        w.flush();
    }

    /**
     * The lines that sum up a prior enumeration: the grids, their total mass, those of probability
     * zero, and how few of the most probable grids hold 90% and 99% of the mass (between the two
     * counts, at the histogram's resolution).
     */
    public static void enumerated(PrintWriter w, PriorEnumeration e) {
        LogProbHistogram h = e.histogram();
        w.printf(Locale.ROOT, "enumerated %,d grids of %s in %.1f s: total mass %.6f, %,d of probability zero%n",
                h.total(), e.shape(), e.seconds(), h.totalMass(), h.zeroCount());
        for (double level : new double[] {0.9, 0.99}) {
            long[] reach = h.gridsToReach(level);
            w.printf(Locale.ROOT, "%.0f%% of the mass in the most probable %.2f%%..%.2f%% of the grids (%,d..%,d)%n",
                    100 * level, 100.0 * reach[0] / h.total(), 100.0 * reach[1] / h.total(), reach[0], reach[1]);
        }
        w.flush();
    }

    /** One step of a refinement as it ends: a candidate's floored start or an EM update. */
    public static void refining(PrintWriter w, Refinement.Report report) {
        if (report instanceof Refinement.Resumed r) {
            w.printf(Locale.ROOT, "continuing from %s: %d candidate%s finished, %d EM update%s made (replayed below)%n",
                    r.state(), r.candidates(), r.candidates() == 1 ? "" : "s", r.epochs(), r.epochs() == 1 ? "" : "s");
        } else if (report instanceof Refinement.Start t) {
            w.printf(Locale.ROOT, "floor %s, shrinkage %s: validation BPD %.4f%n", t.floor(), t.shrinkage(),
                    t.validationBpd());
        } else if (report instanceof Refinement.Epoch e) {
            w.printf(Locale.ROOT, "EM %d: training BPD %.4f before, validation BPD %.4f after%s in %.2f s%n",
                    e.epoch(), e.trainBpd(), e.validationBpd(), e.improved() ? " (best)" : "", e.seconds());
        }
        w.flush();
    }

    /** What a refinement kept and wrote. */
    public static void refined(PrintWriter w, Refinement.Result r) {
        Refinement.Trial best = r.best();
        w.printf(Locale.ROOT, "refined %d %s components: kept %s of floor %s, shrinkage %s, validation BPD %.4f"
                + " (from %.4f) after %d update%s in %.2f s%n", r.components(), r.leafFamily(),
                best.bestEpoch() == 0 ? "the floored start" : "update " + best.bestEpoch(), best.start().floor(),
                best.start().shrinkage(), best.validationBpd(), best.start().validationBpd(), best.epochs().size(),
                best.epochs().size() == 1 ? "" : "s", r.seconds());
        w.printf("wrote %s%n", r.json());
        w.flush();
    }

    /** The backend a training runs on and its data. */
    public static void trainingOn(PrintWriter w, Backend backend, DataSplit data) {
        w.printf("training on %s (%s)%n%s%n", backend.name(), backend.version(), data.description());
    }

    /** A finished training: its checkpoint, epochs, time and metrics. */
    public static void trained(PrintWriter w, TrainingReport r) {
        w.printf(Locale.ROOT, "checkpoint %s: %d epochs (best %d%s), %s%n", r.checkpoint(), r.epochs(), r.bestEpoch(),
                r.stoppedEarly() ? ", stopped early" : "", clock(r.seconds()));
        for (Map.Entry<String, Double> e : r.metrics().entrySet()) {
            w.printf(Locale.ROOT, "  %-22s %.6g%n", e.getKey(), e.getValue());
        }
        w.flush();
    }

    /** A continuous mixture compiled into a circuit. */
    public static void compiled(PrintWriter w, CmCompilation.Result r) {
        w.printf(Locale.ROOT, "compiled a continuous mixture: %,d components (%s), %,d parameters, %s leaves in %.2f s%n"
                + "wrote %s/%s and %s/%s%n", r.points(), r.lattice(), r.parameters(), r.leafFamily(), r.seconds(),
                r.out(), CircuitFiles.JSON, r.out(), CircuitFiles.TENSORS);
        w.flush();
    }

    /** Seconds as h:mm:ss or m:ss. */
    public static String clock(double seconds) {
        long s = Math.max(0, Math.round(seconds));
        return s >= 3600 ? String.format(Locale.ROOT, "%d:%02d:%02d", s / 3600, s / 60 % 60, s % 60)
                : String.format(Locale.ROOT, "%d:%02d", s / 60, s % 60);
    }
}
