package io.vqdistill.cli;

import io.vqdistill.api.Backend;
import io.vqdistill.api.BackendException;
import io.vqdistill.api.Capability;
import java.util.stream.Collectors;

/** Looks up a capability a command needs, failing with the backend's name and what it does offer. */
final class Capabilities {
    private Capabilities() {
    }

    static <T extends Capability> T require(Backend backend, Class<T> type, String purpose) {
        return backend.capability(type).orElseThrow(() -> new BackendException("backend " + backend.name() + " ("
                + backend.version() + ") cannot " + purpose + ": it has no " + type.getSimpleName()
                + " capability (it offers: " + (backend.capabilities().isEmpty() ? "none"
                        : backend.capabilities().stream().map(Capability::capabilityName)
                                .collect(Collectors.joining(", "))) + "); choose another --backend"));
    }
}
