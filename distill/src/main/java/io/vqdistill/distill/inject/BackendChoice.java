package io.vqdistill.distill.inject;

import io.vqdistill.api.Capability;
import io.vqdistill.api.spi.BackendOptions;
import java.util.Objects;
import java.util.Set;

/**
 * The user's backend request as injected into {@link BackendModule}: a provider name (empty for
 * the selection rule's default: the system property, then priority), creation options, and the
 * capabilities the work needs beyond tensors.
 *
 * @param name     a provider name such as {@code djl}, or empty
 * @param options  device and thread settings
 * @param required capabilities the selected backend must declare (e.g. training)
 */
public record BackendChoice(String name, BackendOptions options, Set<Class<? extends Capability>> required) {
    /** Validates and copies the arguments. */
    public BackendChoice {
        name = name == null ? "" : name.trim();
        Objects.requireNonNull(options, "options");
        required = Set.copyOf(required);
    }

    /** A choice that needs tensors only. */
    public BackendChoice(String name, BackendOptions options) {
        this(name, options, Set.of());
    }

    /** No explicit name, default options, tensors only. */
    public static BackendChoice automatic() {
        return new BackendChoice("", BackendOptions.defaults());
    }
}
