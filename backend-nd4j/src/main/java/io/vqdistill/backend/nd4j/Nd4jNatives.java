package io.vqdistill.backend.nd4j;

import io.vqdistill.api.spi.Availability;
import java.io.IOException;
import java.io.InputStream;
import java.net.URL;
import java.util.List;
import java.util.Locale;
import java.util.Properties;

/**
 * What the class path holds of ND4J, found without loading any ND4J class or native library: this
 * class only looks up resources, so {@link Nd4jBackendProvider#availability()} stays cheap.
 */
final class Nd4jNatives {
    /** The platform whose natives this build bundles. */
    static final String PLATFORM = "linux-x86_64";

    /** Classes (as resources) that must be present: the ND4J facade, the CPU backend, JavaCPP. */
    private static final List<String> CLASSES = List.of(
            "org/nd4j/linalg/factory/Nd4j.class",
            "org/nd4j/linalg/cpu/nativecpu/CpuBackend.class",
            "org/bytedeco/javacpp/Loader.class");

    /** The native libraries JavaCPP will extract, each from its classifier jar. */
    private static final List<String> LIBRARIES = List.of(
            "org/nd4j/linalg/cpu/nativecpu/bindings/" + PLATFORM + "/libnd4jcpu.so",
            "org/nd4j/linalg/cpu/nativecpu/bindings/" + PLATFORM + "/libjnind4jcpu.so",
            "org/bytedeco/openblas/" + PLATFORM + "/libjniopenblas_nolapack.so",
            "org/bytedeco/javacpp/" + PLATFORM + "/libjnijavacpp.so");

    private Nd4jNatives() {
    }

    /** Whether the ND4J CPU backend can start on this machine, and what was found or what is missing. */
    static Availability probe() {
        return probe(System.getProperty("os.name", "?"), System.getProperty("os.arch", "?"), loader());
    }

    /** As {@link #probe()}, for the given OS name, architecture and class path. */
    static Availability probe(String os, String arch, ClassLoader loader) {
        if (!os.toLowerCase(Locale.ROOT).startsWith("linux")
                || !(arch.equals("amd64") || arch.equals("x86_64"))) {
            return Availability.no("this build bundles ND4J natives for " + PLATFORM + " only; this machine is "
                    + os + " " + arch);
        }
        for (String c : CLASSES) {
            if (loader.getResource(c) == null) {
                return Availability.no("class " + c.replace('/', '.').replace(".class", "")
                        + " is not on the class path (add org.nd4j:nd4j-native and org.bytedeco:javacpp)");
            }
        }
        for (String lib : LIBRARIES) {
            if (loader.getResource(lib) == null) {
                return Availability.no("native library " + lib + " is not on the class path (add the "
                        + PLATFORM + " classifier jars of nd4j-native, openblas and javacpp)");
            }
        }
        return Availability.yes("nd4j-native " + nd4jVersion() + " with " + PLATFORM + " natives in "
                + jarName(loader.getResource(LIBRARIES.get(0))) + ", OpenBLAS " + openBlasVersion());
    }

    /** The nd4j-native version on the class path, or "unknown". */
    static String nd4jVersion() {
        return mavenVersion("org.nd4j", "nd4j-native");
    }

    /** The OpenBLAS version of the org.bytedeco openblas preset (e.g. 0.3.19), or "unknown". */
    static String openBlasVersion() {
        String v = mavenVersion("org.bytedeco", "openblas");
        int dash = v.indexOf('-');
        return dash > 0 ? v.substring(0, dash) : v;
    }

    private static String mavenVersion(String group, String artifact) {
        URL url = loader().getResource("META-INF/maven/" + group + "/" + artifact + "/pom.properties");
        if (url == null) {
            return "unknown";
        }
        Properties p = new Properties();
        try (InputStream in = url.openStream()) {
            p.load(in);
        } catch (IOException e) {
            return "unknown";
        }
        return p.getProperty("version", "unknown");
    }

    private static String jarName(URL url) {
        String s = url.toString();
        int bang = s.indexOf("!/");
        String path = bang > 0 ? s.substring(0, bang) : s;
        return path.substring(path.lastIndexOf('/') + 1);
    }

    private static ClassLoader loader() {
        ClassLoader l = Nd4jNatives.class.getClassLoader();
        return l != null ? l : ClassLoader.getSystemClassLoader();
    }
}
