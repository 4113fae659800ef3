package io.vqdistill.distill.pipeline;

import io.vqdistill.api.Backend;
import io.vqdistill.api.BackendException;
import io.vqdistill.api.Capability;
import io.vqdistill.api.VqdistillException;
import io.vqdistill.api.circuit.Circuit;
import io.vqdistill.api.model.Decoder;
import io.vqdistill.api.model.Encoder;
import io.vqdistill.api.model.Prior;
import io.vqdistill.circuits.io.CircuitFiles;
import io.vqdistill.models.ModelLoader;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.function.Function;
import java.util.stream.Collectors;

/**
 * One piece of pipeline work on one backend: the backend, and the networks and circuits opened on it,
 * each opened once. The VQ-VAE's encoder and decoder and the prior are loaded from their checkpoint
 * folders through the backend's {@link ModelLoader} the first time they are asked for, and the same
 * instance is returned for the same folder afterwards; circuits are read from their folders likewise.
 * {@link #close()} closes everything it opened, newest first, and then the backend if the session owns
 * it. A session is not thread-safe.
 */
public final class Session implements AutoCloseable {
    private final Backend backend;
    private final ModelLoader loader;
    private final boolean ownsBackend;
    private final Map<Path, Encoder> encoders = new HashMap<>();
    private final Map<Path, Decoder> decoders = new HashMap<>();
    private final Map<Path, Prior> priors = new HashMap<>();
    private final Map<Path, Circuit> circuits = new HashMap<>();
    private final List<AutoCloseable> opened = new ArrayList<>();
    private boolean closed;

    private Session(Backend backend, ModelLoader loader, boolean ownsBackend) {
        this.backend = Objects.requireNonNull(backend, "backend");
        this.loader = loader;
        this.ownsBackend = ownsBackend;
    }

    /**
     * A session that owns {@code backend}: closing the session closes it. Networks are loaded by the
     * backend's {@link ModelLoader} capability.
     */
    public static Session owning(Backend backend) {
        return new Session(backend, null, true);
    }

    /**
     * A session on a backend the caller keeps (closing the session leaves it open) whose networks come
     * from {@code loader} instead of the backend's own capability (tests, embedding applications).
     */
    public static Session borrowing(Backend backend, ModelLoader loader) {
        return new Session(backend, Objects.requireNonNull(loader, "loader"), false);
    }

    /** The backend everything in this session computes on. */
    public Backend backend() {
        return backend;
    }

    /**
     * The backend's capability of type {@code type}.
     *
     * @param purpose what the capability is for, as in "load networks"; it completes the message
     * @throws BackendException when the backend does not offer it, naming the backend and what it offers
     */
    public <T extends Capability> T require(Class<T> type, String purpose) {
        return backend.capability(type).orElseThrow(() -> new BackendException("backend " + backend.name() + " ("
                + backend.version() + ") cannot " + purpose + ": it has no " + type.getSimpleName()
                + " capability (it offers: " + (backend.capabilities().isEmpty() ? "none"
                        : backend.capabilities().stream().map(Capability::capabilityName)
                                .collect(Collectors.joining(", "))) + "); choose another --backend"));
    }

    /** The loader of this session's networks: the one given, else the backend's {@link ModelLoader}. */
    public ModelLoader loader() {
        return loader != null ? loader : require(ModelLoader.class, "load networks");
    }

    /** The encoder of the VQ-VAE checkpoint in {@code vqvae}, loaded on first use. */
    public Encoder encoder(Path vqvae) {
        return open(encoders, vqvae, dir -> loader().loadEncoder(dir));
    }

    /** The decoder of the VQ-VAE checkpoint in {@code vqvae}, loaded on first use. */
    public Decoder decoder(Path vqvae) {
        return open(decoders, vqvae, dir -> loader().loadDecoder(dir));
    }

    /** The prior of the prior checkpoint in {@code prior}, loaded on first use. */
    public Prior prior(Path prior) {
        return open(priors, prior, dir -> loader().loadPrior(dir));
    }

    /** The circuit saved in {@code dir} (see {@link CircuitFiles}), read on first use. */
    public Circuit circuit(Path dir) {
        return open(circuits, dir, d -> CircuitFiles.read(d, backend));
    }

    private <T extends AutoCloseable> T open(Map<Path, T> cache, Path dir, Function<Path, T> load) {
        Objects.requireNonNull(dir, "dir");
        if (closed) {
            throw new VqdistillException("the session on backend " + backend.name() + " is closed");
        }
        Path key = dir.toAbsolutePath().normalize();
        T found = cache.get(key);
        if (found == null) {
            found = load.apply(dir);
            cache.put(key, found);
            opened.add(found);
        }
        return found;
    }

    /**
     * Closes every network and circuit this session opened, newest first, then the backend if the
     * session owns it. The first failure is thrown after everything was closed, the others suppressed.
     */
    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        RuntimeException failure = null;
        for (int i = opened.size() - 1; i >= 0; i--) {
            failure = closeQuietly(opened.get(i), failure);
        }
        opened.clear();
        if (ownsBackend) {
            failure = closeQuietly(backend, failure);
        }
        if (failure != null) {
            throw failure;
        }
    }

    private static RuntimeException closeQuietly(AutoCloseable c, RuntimeException failure) {
        try {
            c.close();
            return failure;
        } catch (Exception e) {
            RuntimeException r = e instanceof RuntimeException re ? re
                    : new VqdistillException("closing " + c + " failed: " + e, e);
            if (failure == null) {
                return r;
            }
            failure.addSuppressed(r);
            return failure;
        }
    }
}
