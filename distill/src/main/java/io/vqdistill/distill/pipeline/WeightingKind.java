package io.vqdistill.distill.pipeline;

import java.util.Arrays;
import java.util.Locale;
import java.util.Optional;

/** How a pipeline weighs the components of a distilled mixture, by the names users type. */
public enum WeightingKind {
    /** Uniform weights 1/N. */
    UNIFORM,
    /** Weights proportional to the prior probability p(z) of each grid. */
    PRIOR,
    /** Weights re-estimated by EM on training images with the leaves fixed. */
    EM;

    /** The lower-case name users type, e.g. {@code uniform}. */
    public String label() {
        return name().toLowerCase(Locale.ROOT);
    }

    /** The kind whose {@link #label()} is {@code label}, if any. */
    public static Optional<WeightingKind> byLabel(String label) {
        return Arrays.stream(values()).filter(k -> k.label().equals(label)).findFirst();
    }
}
