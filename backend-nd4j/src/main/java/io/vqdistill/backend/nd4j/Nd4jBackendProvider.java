package io.vqdistill.backend.nd4j;

import io.vqdistill.api.Backend;
import io.vqdistill.api.BackendException;
import io.vqdistill.api.spi.Availability;
import io.vqdistill.api.spi.BackendOptions;
import io.vqdistill.api.spi.BackendProvider;
import java.util.Objects;

/**
 * Provides the {@code nd4j} backend (priority {@value #PRIORITY}). {@link #availability()} only
 * looks at the OS, the architecture and the class path (the ND4J classes and the linux-x86_64
 * native jars of nd4j-native, OpenBLAS and JavaCPP); {@link #create(BackendOptions)} is where ND4J's
 * native library loads.
 *
 * <p>Devices: this build bundles ND4J's CPU natives, so {@code auto} and {@code cpu} give the CPU
 * and {@code gpu}/{@code gpu:N} fail. Threads: a positive count sets ND4J's op thread pool and
 * OpenBLAS for the whole process; 0 restores ND4J's default (the core count, or
 * {@code OMP_NUM_THREADS}).
 */
public final class Nd4jBackendProvider implements BackendProvider {
    /**
     * Lowest: ND4J does not train (it offers network inference and checkpoint loading, no
     * {@code ModelTrainer}), so it is chosen only when named or when no other backend is available.
     */
    public static final int PRIORITY = 10;

    /** Creates the provider; this loads nothing. */
    public Nd4jBackendProvider() {
    }

    @Override
    public String name() {
        return Nd4jBackend.NAME;
    }

    @Override
    public int priority() {
        return PRIORITY;
    }

    @Override
    public Availability availability() {
        return Nd4jNatives.probe();
    }

    @Override
    public Backend create(BackendOptions options) {
        Objects.requireNonNull(options, "options");
        if (!options.autoDevice() && !options.device().equals("cpu")) {
            throw new BackendException("backend nd4j: device '" + options.device() + "' is not available: this build"
                    + " bundles ND4J's CPU natives only (org.nd4j:nd4j-native:" + Nd4jNatives.nd4jVersion() + ":"
                    + Nd4jNatives.PLATFORM + "); ND4J runs on a GPU only with the separate artifact"
                    + " org.nd4j:nd4j-cuda-11.6 (CUDA 11.6) in place of nd4j-native. Use device cpu or auto.");
        }
        Availability available = availability();
        if (!available.available()) {
            throw new BackendException("backend nd4j is not available: " + available.reason());
        }
        Nd4jRuntime runtime = Nd4jRuntime.load();
        int threads = runtime.applyThreads(options.threads());
        return new Nd4jBackend(runtime.version(), threads);
    }
}
