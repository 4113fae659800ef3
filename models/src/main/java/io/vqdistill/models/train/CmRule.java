package io.vqdistill.models.train;

import io.vqdistill.api.InvalidArgumentException;
import java.util.Locale;

/** How a continuous mixture's training loss treats the M integration points of an image. */
public enum CmRule {
    /**
     * The log-likelihood of the finite mixture, log (1/M) sum_m p(x | z_m), by a log-sum-exp over
     * the points: every point gets gradient in proportion to its responsibility (Correia et al.).
     */
    LSE("lse"),
    /**
     * Only the best point counts: the loss is -max_m log p(x | z_m) + log M, an upper bound on the
     * mixture's negative log-likelihood, and only the best point's decoder output gets gradient (a
     * hard-EM-like rule).
     */
    TOP1("top1");

    private final String label;

    CmRule(String label) {
        this.label = label;
    }

    /** The name on the command line and in checkpoints: {@code lse} or {@code top1}. */
    public String label() {
        return label;
    }

    /** The rule named {@code name} ({@code lse} or {@code top1}, any case). */
    public static CmRule parse(String name) {
        for (CmRule r : values()) {
            if (r.label.equals(name.toLowerCase(Locale.ROOT))) {
                return r;
            }
        }
        throw new InvalidArgumentException("the training rule must be lse or top1, found '" + name + "'");
    }
}
