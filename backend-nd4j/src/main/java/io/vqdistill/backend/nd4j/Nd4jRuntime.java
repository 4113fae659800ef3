package io.vqdistill.backend.nd4j;

import io.vqdistill.api.BackendException;
import java.nio.file.Path;
import java.util.Locale;
import org.nd4j.linalg.api.blas.Blas;
import org.nd4j.linalg.cpu.nativecpu.CpuBackend;
import org.nd4j.linalg.factory.Environment;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.nativeblas.NativeOpsHolder;

/**
 * ND4J's process-wide state: the native library, loaded once, and its thread settings. The first
 * {@link #load()} extracts and loads the natives (the static initialiser of {@link Nd4j} does that);
 * nothing else in this module touches {@link Nd4j} before.
 */
final class Nd4jRuntime {
    /** JavaCPP's extraction directory. */
    static final String CACHE_DIR_PROPERTY = "org.bytedeco.javacpp.cachedir";

    private static Nd4jRuntime instance;

    private final String version;
    private final int defaultMasterThreads;
    private final int defaultOmpThreads;
    private final int defaultBlasThreads;

    private Nd4jRuntime(String version) {
        this.version = version;
        Environment env = Nd4j.getEnvironment();
        this.defaultMasterThreads = env.maxMasterThreads();
        this.defaultOmpThreads = NativeOpsHolder.getInstance().getDeviceNativeOps().ompGetMaxThreads();
        this.defaultBlasThreads = Nd4j.factory().blas().getMaxThreads();
    }

    /**
     * Loads ND4J's native library (once per JVM) and returns the runtime. Before loading it points
     * JavaCPP's cache at {@code ~/.cache/vqdistill/javacpp}, routes JavaCPP's messages through SLF4J
     * and turns off ND4J's initialisation log, each only if the user has not set that property.
     *
     * @throws BackendException naming the native library when it cannot be loaded
     */
    static synchronized Nd4jRuntime load() {
        if (instance != null) {
            return instance;
        }
        setIfAbsent(CACHE_DIR_PROPERTY,
                Path.of(System.getProperty("user.home"), ".cache", "vqdistill", "javacpp").toString());
        // JavaCPP prints "Versions of javacpp 1.5.11 and openblas 1.5.7 do not match" to stderr otherwise
        setIfAbsent("org.bytedeco.javacpp.logger", "slf4j");
        setIfAbsent("org.nd4j.log.initialization", "false");
        try {
            org.nd4j.linalg.factory.Nd4jBackend engine = Nd4j.getBackend();
            Environment env = Nd4j.getEnvironment();
            env.setVerbose(false);
            env.setDebug(false);
            instance = new Nd4jRuntime(describe(engine));
            return instance;
        } catch (RuntimeException | LinkageError e) {
            throw new BackendException("Failed to load ND4J native library (nd4j-native " + Nd4jNatives.nd4jVersion()
                    + ", " + Nd4jNatives.PLATFORM + ", JavaCPP cache " + System.getProperty(CACHE_DIR_PROPERTY)
                    + "): " + e, e);
        }
    }

    private static void setIfAbsent(String key, String value) {
        if (System.getProperty(key) == null) {
            System.setProperty(key, value);
        }
    }

    private static String describe(org.nd4j.linalg.factory.Nd4jBackend engine) {
        String kind = engine instanceof CpuBackend ? "nd4j-native" : engine.getClass().getSimpleName();
        Blas.Vendor vendor = Nd4j.factory().blas().getBlasVendor();
        String blas = vendor.name().toLowerCase(Locale.ROOT);
        if (vendor == Blas.Vendor.OPENBLAS) {
            blas += " " + Nd4jNatives.openBlasVersion();
        }
        return "ND4J " + Nd4jNatives.nd4jVersion() + " (" + kind + ", " + blas + ")";
    }

    /** Engine and version, e.g. {@code ND4J 1.0.0-M2.1 (nd4j-native, openblas 0.3.19)}. */
    String version() {
        return version;
    }

    /**
     * Sets the CPU threads of ND4J's ops, OpenMP and OpenBLAS to {@code threads}, or back to ND4J's
     * defaults (the core count, or OMP_NUM_THREADS) for 0. libnd4j cannot grow its thread pool
     * after start ({@code Environment.setMaxThreads} does nothing in M2.1), so a count above the
     * pool size is capped to it. The setting is process-wide: it applies to every ND4J backend in
     * this JVM.
     *
     * @return the thread count now in effect
     */
    synchronized int applyThreads(int threads) {
        Environment env = Nd4j.getEnvironment();
        int n = threads > 0 ? Math.min(threads, env.maxThreads()) : 0;
        env.setMaxMasterThreads(n > 0 ? n : defaultMasterThreads);
        NativeOpsHolder.getInstance().getDeviceNativeOps().setOmpNumThreads(n > 0 ? n : defaultOmpThreads);
        Nd4j.factory().blas().setMaxThreads(n > 0 ? n : defaultBlasThreads);
        return threads();
    }

    /** The thread count of ND4J's op thread pool. */
    int threads() {
        return Nd4j.getEnvironment().maxMasterThreads();
    }
}
