package io.vqdistill.backend.tensorflow;

import io.vqdistill.api.Backend;
import io.vqdistill.api.BackendException;
import io.vqdistill.api.spi.Availability;
import io.vqdistill.api.spi.BackendOptions;
import io.vqdistill.api.spi.BackendProvider;
import java.io.IOException;
import java.io.InputStream;
import java.net.URL;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.Properties;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Provides the TensorFlow Java backend ({@value #NAME}, priority {@value #PRIORITY}).
 *
 * <p>{@link #availability()} loads no native code and initialises no TensorFlow class: it checks the
 * OS and architecture, that the {@code tensorflow-core-api} classes, JavaCPP and the native jar
 * for {@value #PLATFORM} are on the class path (as resources), and the C library. TensorFlow's JNI
 * library needs glibc 2.34 or newer; the version is read once per JVM from the {@code libc.so.6}
 * this process has mapped (its "release version" banner), found through {@code /proc/self/maps}.
 * When that cannot be read the check is skipped and the reason says so.
 *
 * <p>{@link #create(BackendOptions)} is where the native library loads. It sets the JavaCPP cache
 * directory to {@code ${user.home}/.cache/vqdistill/javacpp} unless
 * {@code org.bytedeco.javacpp.cachedir} is already set (this takes effect only if JavaCPP was not
 * used earlier in the JVM). TensorFlow's native logging obeys the environment variable
 * {@code TF_CPP_MIN_LOG_LEVEL} (2 hides INFO and WARNING), which must be set before the JVM
 * starts: Java cannot change its own process environment. A few lines logged through absl before
 * its initialisation (one "MLIR V1 optimization pass is not enabled" per process) ignore it.
 */
public final class TfBackendProvider implements BackendProvider {
    /** The name users select this backend by. */
    public static final String NAME = "tensorflow";
    /** The selection priority: the highest, above DJL's and ND4J's. */
    public static final int PRIORITY = 30;
    /** The only platform whose native jar this module declares. */
    static final String PLATFORM = "linux-x86_64";
    /** The JavaCPP cache directory property. */
    static final String CACHE_DIR_PROPERTY = "org.bytedeco.javacpp.cachedir";

    private static final String NATIVE_DIR = "org/tensorflow/internal/c_api/";
    private static final String JNI_LIBRARY = "libjnitensorflow.so";
    private static final int[] MIN_GLIBC = {2, 34};

    /** Creates the provider; cheap, touches no TensorFlow class. */
    public TfBackendProvider() {
    }

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public int priority() {
        return PRIORITY;
    }

    @Override
    public Availability availability() {
        String os = System.getProperty("os.name", "");
        String arch = System.getProperty("os.arch", "");
        if (!os.toLowerCase(Locale.ROOT).startsWith("linux")
                || !(arch.equals("amd64") || arch.equals("x86_64"))) {
            return Availability.no("TensorFlow's native jar here is for " + PLATFORM + " only; this JVM runs on "
                    + os + "/" + arch);
        }
        ClassLoader loader = TfBackendProvider.class.getClassLoader();
        if (loader.getResource("org/tensorflow/TensorFlow.class") == null) {
            return Availability.no("org.tensorflow:tensorflow-core-api is not on the class path");
        }
        if (loader.getResource("org/bytedeco/javacpp/Loader.class") == null) {
            return Availability.no("org.bytedeco:javacpp is not on the class path");
        }
        URL jni = loader.getResource(NATIVE_DIR + PLATFORM + "/" + JNI_LIBRARY);
        String flavour = "";
        if (jni == null) {
            jni = loader.getResource(NATIVE_DIR + PLATFORM + "-gpu/" + JNI_LIBRARY);
            flavour = "-gpu";
        }
        if (jni == null) {
            return Availability.no("the native jar org.tensorflow:tensorflow-core-native:" + PLATFORM
                    + " is not on the class path (no " + NATIVE_DIR + PLATFORM + "/" + JNI_LIBRARY + ")");
        }
        Glibc libc = Glibc.PROBE;
        if (libc.version != null && !atLeast(libc.version, MIN_GLIBC)) {
            return Availability.no("TensorFlow's native library needs glibc >= 2.34, this system has glibc "
                    + libc.version);
        }
        if (libc.musl) {
            return Availability.no("TensorFlow's native library needs glibc >= 2.34, this process uses "
                    + libc.problem);
        }
        String api = javaApiVersion();
        return Availability.yes("TensorFlow Java " + api + " with native jar " + PLATFORM + flavour
                + (libc.version != null ? ", glibc " + libc.version : "; glibc version not checked: " + libc.problem));
    }

    @Override
    public Backend create(BackendOptions options) {
        Objects.requireNonNull(options, "options");
        Availability a = availability();
        if (!a.available()) {
            throw new BackendException("backend '" + NAME + "' is not available: " + a.reason());
        }
        if (System.getProperty(CACHE_DIR_PROPERTY) == null) {
            System.setProperty(CACHE_DIR_PROPERTY,
                    Paths.get(System.getProperty("user.home"), ".cache", "vqdistill", "javacpp").toString());
        }
        return TfBackend.start(options);
    }

    /** The version of the TensorFlow Java jars, from their Maven metadata (read as a resource). */
    static String javaApiVersion() {
        String resource = "META-INF/maven/org.tensorflow/tensorflow-core-api/pom.properties";
        try (InputStream in = TfBackendProvider.class.getClassLoader().getResourceAsStream(resource)) {
            if (in != null) {
                Properties p = new Properties();
                p.load(in);
                String v = p.getProperty("version");
                if (v != null) {
                    return v;
                }
            }
        } catch (IOException e) {
            return "(version unreadable: " + e.getMessage() + ")";
        }
        return "(unknown version)";
    }

    /** True when dotted version {@code v} (e.g. "2.36") is at least {@code min}. */
    static boolean atLeast(String v, int[] min) {
        String[] parts = v.split("\\.");
        for (int i = 0; i < min.length; i++) {
            int p = i < parts.length ? Integer.parseInt(parts[i]) : 0;
            if (p != min[i]) {
                return p > min[i];
            }
        }
        return true;
    }

    /** The C library of this process, probed once: a glibc version, or why none was found. */
    static final class Glibc {
        // RELEASE first: static fields initialise in order and PROBE uses it
        private static final Pattern RELEASE = Pattern.compile("release version (\\d+\\.\\d+)");
        static final Glibc PROBE = probe(Paths.get("/proc/self/maps"));

        /** The glibc version such as "2.36", or null when unknown. */
        final String version;
        /** Why the version is unknown, or null. */
        final String problem;
        /** True when the process runs on musl rather than glibc. */
        final boolean musl;

        private Glibc(String version, String problem, boolean musl) {
            this.version = version;
            this.problem = problem;
            this.musl = musl;
        }

        static Glibc probe(Path maps) {
            List<String> lines;
            try {
                lines = Files.readAllLines(maps, StandardCharsets.ISO_8859_1);
            } catch (IOException | RuntimeException e) {
                return new Glibc(null, "cannot read " + maps + " (" + e.getMessage() + ")", false);
            }
            String libc = null;
            for (String line : lines) {
                int slash = line.indexOf('/');
                if (slash < 0) {
                    continue;
                }
                String path = line.substring(slash).trim();
                String file = path.substring(path.lastIndexOf('/') + 1);
                if (file.startsWith("ld-musl") || file.startsWith("libc.musl")) {
                    return new Glibc(null, "musl libc (" + path + ")", true);
                }
                if (file.equals("libc.so.6") || file.matches("libc-\\d+\\.\\d+\\.so")) {
                    libc = path;
                    break;
                }
            }
            if (libc == null) {
                return new Glibc(null, "no libc.so.6 mapped in this process", false);
            }
            try {
                String text = new String(Files.readAllBytes(Paths.get(libc)), StandardCharsets.ISO_8859_1);
                Matcher m = RELEASE.matcher(text);
                if (m.find()) {
                    return new Glibc(m.group(1), null, false);
                }
                return new Glibc(null, libc + " has no release banner", false);
            } catch (IOException | RuntimeException e) {
                return new Glibc(null, "cannot read " + libc + " (" + e.getMessage() + ")", false);
            }
        }
    }
}
