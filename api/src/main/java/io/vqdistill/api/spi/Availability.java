package io.vqdistill.api.spi;

import java.util.Objects;

/**
 * Whether a provider can create its backend on this machine, and if not, why.
 *
 * @param available true when {@link BackendProvider#create} is expected to succeed
 * @param reason    a one-line explanation; for an available provider, what was found
 */
public record Availability(boolean available, String reason) {
    /** Validates the reason. */
    public Availability {
        Objects.requireNonNull(reason, "reason");
    }

    /** An available provider; {@code detail} says what was found (e.g. the native jar). */
    public static Availability yes(String detail) {
        return new Availability(true, detail);
    }

    /** An unavailable provider and the reason. */
    public static Availability no(String reason) {
        return new Availability(false, reason);
    }
}
