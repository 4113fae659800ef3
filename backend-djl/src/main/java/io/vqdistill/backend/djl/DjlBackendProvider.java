package io.vqdistill.backend.djl;

import ai.djl.engine.Engine;
import ai.djl.engine.StandardCapabilities;
import ai.djl.ndarray.NDManager;
import ai.djl.pytorch.engine.PtEngine;
import ai.djl.pytorch.engine.PtEngineProvider;
import ai.djl.pytorch.jni.JniUtils;
import io.vqdistill.api.Backend;
import io.vqdistill.api.BackendException;
import io.vqdistill.api.Device;
import io.vqdistill.api.spi.Availability;
import io.vqdistill.api.spi.BackendOptions;
import io.vqdistill.api.spi.BackendProvider;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Properties;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Provides the {@code djl} backend: Deep Java Library 0.36 with its PyTorch engine and the CPU
 * natives bundled in {@code ai.djl.pytorch:pytorch-native-cpu} for linux-x86_64.
 *
 * <p>{@link #availability()} only looks at the OS, the architecture and class-path resources; it
 * loads no native library and does not initialise DJL. {@link #create(BackendOptions)} loads the
 * engine, after settling its environment for every DJL user in this JVM:
 * <ul>
 *   <li>offline mode ({@code -Dai.djl.offline=true}) unless {@code DJL_OFFLINE} or the property is
 *       already set, so DJL never downloads natives and fails fast instead;</li>
 *   <li>the natives unpack into {@code ${user.home}/.cache/vqdistill/djl/pytorch} unless
 *       {@code DJL_CACHE_DIR} or {@code ENGINE_CACHE_DIR} is set (environment variable or system
 *       property, as DJL reads them);</li>
 *   <li>{@link BackendOptions#threads()} &gt; 0 sets PyTorch's intra-op threads (process-wide) and,
 *       if the engine is not loaded yet, its inter-op threads.</li>
 * </ul>
 * Priority {@value #PRIORITY}.
 */
public final class DjlBackendProvider implements BackendProvider {
    /** The name users select this backend by. */
    public static final String NAME = "djl";

    /** The selection priority when the user names no backend. */
    public static final int PRIORITY = 20;

    private static final Logger LOG = LoggerFactory.getLogger(DjlBackendProvider.class);

    private static final String CLASSIFIER = "linux-x86_64";
    private static final String OFFLINE_PROPERTY = "ai.djl.offline";
    private static final String THREADS_PROPERTY = "ai.djl.pytorch.num_threads";
    private static final String INTEROP_THREADS_PROPERTY = "ai.djl.pytorch.num_interop_threads";
    private static final String[] ENGINE_CLASSES = {
        "ai.djl.engine.Engine", "ai.djl.pytorch.engine.PtEngineProvider", "ai.djl.pytorch.jni.PyTorchLibrary"
    };

    /** Creates the provider; cheap, as {@link java.util.ServiceLoader} requires. */
    public DjlBackendProvider() {
    }

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public int priority() {
        return PRIORITY;
    }

    /**
     * Available on linux-x86_64 when the DJL engine classes, the PyTorch JNI library and the bundled
     * PyTorch natives (with matching versions) are on the class path. Reads two small properties
     * files; loads no native code.
     */
    @Override
    public Availability availability() {
        String os = System.getProperty("os.name", "?");
        String arch = System.getProperty("os.arch", "?");
        if (!os.startsWith("Linux") || !(arch.equals("amd64") || arch.equals("x86_64"))) {
            return Availability.no("the bundled PyTorch natives are for " + CLASSIFIER + ", but this JVM runs on "
                    + os + "/" + arch);
        }
        ClassLoader loader = DjlBackendProvider.class.getClassLoader();
        for (String name : ENGINE_CLASSES) {
            try {
                Class.forName(name, false, loader);
            } catch (ClassNotFoundException | LinkageError e) {
                return Availability.no("DJL class " + name + " is not on the class path (needs ai.djl:api and "
                        + "ai.djl.pytorch:pytorch-engine)");
            }
        }
        Properties natives = properties(loader, "native/lib/pytorch.properties");
        if (natives == null) {
            return Availability.no("no bundled PyTorch natives on the class path (needs "
                    + "ai.djl.pytorch:pytorch-native-cpu with classifier " + CLASSIFIER + "; downloads are disabled)");
        }
        String classifier = natives.getProperty("classifier", "?");
        String flavor = natives.getProperty("flavor", "?");
        String version = natives.getProperty("version", "?").replaceFirst("-\\d+$", "");
        if (!CLASSIFIER.equals(classifier)) {
            return Availability.no("the PyTorch natives on the class path are for " + classifier + ", not "
                    + CLASSIFIER);
        }
        for (String lib : natives.getProperty("libraries", "").split(",")) {
            String path = "pytorch/" + flavor + "/" + classifier + "/" + lib.trim();
            if (!lib.isBlank() && loader.getResource(path) == null) {
                return Availability.no("the PyTorch native jar lists " + path + " but does not contain it");
            }
        }
        Properties jni = properties(loader, "jnilib/pytorch.properties");
        String jniVersion = jni == null ? null : jni.getProperty("jni_version");
        if (jniVersion == null) {
            return Availability.no("the DJL PyTorch JNI library is not on the class path (needs "
                    + "ai.djl.pytorch:pytorch-jni)");
        }
        if (!jniVersion.startsWith(version + "-")) {
            return Availability.no("pytorch-jni " + jniVersion + " does not match the bundled PyTorch " + version
                    + " (DJL would download another one, and downloads are disabled)");
        }
        String jniPath = "jnilib/" + classifier + "/" + flavor + "/" + System.mapLibraryName("djl_torch");
        if (loader.getResource(jniPath) == null) {
            return Availability.no("pytorch-jni " + jniVersion + " has no " + jniPath);
        }
        Properties api = properties(loader, "ai/djl/engine/api.properties");
        String djl = api == null ? "?" : api.getProperty("djl_version", "?");
        return Availability.yes("DJL " + djl + " PyTorch engine; PyTorch " + version + " " + flavor + " natives for "
                + classifier + " bundled on the class path (pytorch-jni " + jniVersion + "); they unpack into "
                + cacheDir().resolve("pytorch"));
    }

    /**
     * Loads the PyTorch engine (unpacking the bundled natives on first use) and creates a backend on
     * the requested device.
     *
     * @throws BackendException when the provider is unavailable, the native library fails to load,
     *                          or the requested GPU does not exist
     */
    @Override
    public Backend create(BackendOptions options) {
        Objects.requireNonNull(options, "options");
        Availability availability = availability();
        if (!availability.available()) {
            throw new BackendException("backend " + NAME + " is not available: " + availability.reason());
        }
        Engine engine;
        synchronized (DjlBackendProvider.class) {
            configure(options.threads());
            engine = loadEngine();
            applyThreads(options.threads());
        }
        String version = "DJL " + Engine.getDjlVersion() + " / PyTorch " + engine.getVersion();
        int gpus = engine.getGpuCount();
        Device device = chooseDevice(options, gpus, engine, version);
        List<Device> devices = new ArrayList<>();
        devices.add(Device.CPU);
        for (int i = 0; i < gpus; i++) {
            devices.add(Device.gpu(i));
        }
        ai.djl.Device djlDevice = device.type() == Device.Type.GPU ? ai.djl.Device.gpu(device.index())
                : ai.djl.Device.cpu();
        NDManager manager = engine.newBaseManager(djlDevice);
        LOG.debug("backend {} created: {} on {}", NAME, version, device);
        return new DjlBackend(NAME, version, device, devices, manager);
    }

    /** Sets DJL's offline mode, cache directory and thread counts where the user has not. */
    private static void configure(int threads) {
        if (System.getenv("DJL_OFFLINE") == null && System.getProperty(OFFLINE_PROPERTY) == null) {
            System.setProperty(OFFLINE_PROPERTY, "true");
        }
        if (isBlank(envOrProperty("ENGINE_CACHE_DIR")) && isBlank(envOrProperty("DJL_CACHE_DIR"))) {
            System.setProperty("DJL_CACHE_DIR", defaultCacheDir().toString());
        }
        if (threads > 0) {
            System.setProperty(THREADS_PROPERTY, Integer.toString(threads));
            System.setProperty(INTEROP_THREADS_PROPERTY, Integer.toString(threads));
        }
    }

    private static Engine loadEngine() {
        try {
            if (!Engine.hasEngine(PtEngine.ENGINE_NAME)) {
                // ServiceLoader in DJL uses the context class loader, which may not see the engine jar.
                Engine.registerEngine(new PtEngineProvider());
            }
            return Engine.getEngine(PtEngine.ENGINE_NAME);
        } catch (RuntimeException | LinkageError e) {
            throw new BackendException("Failed to load PyTorch native library through DJL (natives unpack into "
                    + cacheDir().resolve("pytorch") + ", offline mode " + System.getProperty(OFFLINE_PROPERTY)
                    + "): " + e, e);
        }
    }

    /** Threads take effect at the first engine load through the properties; later, intra-op ones here. */
    private static void applyThreads(int threads) {
        if (threads <= 0) {
            return;
        }
        if (JniUtils.getNumThreads() != threads) {
            JniUtils.setNumThreads(threads);
        }
        int interop = JniUtils.getNumInteropThreads();
        if (interop != threads) {
            LOG.info("PyTorch inter-op threads stay at {}: they are fixed when the engine first loads", interop);
        }
    }

    private static Device chooseDevice(BackendOptions options, int gpus, Engine engine, String version) {
        if (options.autoDevice()) {
            return gpus > 0 ? Device.gpu(0) : Device.CPU;
        }
        Device wanted = Device.parse(options.device());
        if (wanted.type() == Device.Type.GPU && wanted.index() >= gpus) {
            String found = gpus == 0
                    ? (engine.hasCapability(StandardCapabilities.CUDA) ? "no GPU" : "no GPU (this PyTorch build "
                            + "has no CUDA support)")
                    : gpus + " GPU(s), gpu:0 to gpu:" + (gpus - 1);
            throw new BackendException("backend " + NAME + ": device " + wanted + " was requested, but " + version
                    + " reports " + found + "; use device cpu or auto");
        }
        return wanted;
    }

    /** Where DJL unpacks engine natives under the current settings (before the engine name). */
    private static Path cacheDir() {
        String engineDir = envOrProperty("ENGINE_CACHE_DIR");
        if (!isBlank(engineDir)) {
            return Paths.get(engineDir);
        }
        String djlDir = envOrProperty("DJL_CACHE_DIR");
        return isBlank(djlDir) ? defaultCacheDir() : Paths.get(djlDir);
    }

    private static Path defaultCacheDir() {
        return Paths.get(System.getProperty("user.home"), ".cache", "vqdistill", "djl");
    }

    /** DJL's lookup order: the environment variable, then the system property. */
    private static String envOrProperty(String name) {
        String env = System.getenv(name);
        return env != null ? env : System.getProperty(name);
    }

    private static boolean isBlank(String s) {
        return s == null || s.isBlank();
    }

    private static Properties properties(ClassLoader loader, String resource) {
        try (InputStream in = loader.getResourceAsStream(resource)) {
            if (in == null) {
                return null;
            }
            Properties p = new Properties();
            p.load(in);
            return p;
        } catch (IOException e) {
            LOG.debug("cannot read {}: {}", resource, e.toString());
            return null;
        }
    }
}
