package io.vqdistill.distill.inject;

import io.vqdistill.api.spi.BackendOptions;

/**
 * The user's backend request as injected into {@link BackendModule}: a provider name (empty for
 * the selection rule's default: the system property, then priority) and creation options.
 *
 * @param name    a provider name such as {@code djl}, or empty
 * @param options device and thread settings
 */
public record BackendChoice(String name, BackendOptions options) {
    /** Validates the arguments. */
    public BackendChoice {
        name = name == null ? "" : name.trim();
        java.util.Objects.requireNonNull(options, "options");
    }

    /** No explicit name, default options. */
    public static BackendChoice automatic() {
        return new BackendChoice("", BackendOptions.defaults());
    }
}
