package io.vqdistill.backend.nd4j;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.vqdistill.api.Backend;
import io.vqdistill.api.BackendException;
import io.vqdistill.api.BackendSelector;
import io.vqdistill.api.DType;
import io.vqdistill.api.Device;
import io.vqdistill.api.Tensor;
import io.vqdistill.api.TensorException;
import io.vqdistill.api.spi.Availability;
import io.vqdistill.api.spi.BackendOptions;
import io.vqdistill.models.nn.NetworkOps;
import java.io.File;
import java.net.MalformedURLException;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.factory.Nd4j;

/** The provider: discovery, a cheap availability probe, device and thread options, native loading. */
class Nd4jBackendProviderTest {
    private final Nd4jBackendProvider provider = new Nd4jBackendProvider();

    /** A backend created through the provider, typed as the ND4J backend to read its thread count. */
    private Nd4jBackend create(String device, int threads) {
        return (Nd4jBackend) provider.create(new BackendOptions(device, threads));
    }

    @Test
    void nameAndPriority() {
        assertThat(provider.name()).isEqualTo("nd4j");
        assertThat(provider.priority()).isEqualTo(10);
    }

    @Test
    void serviceLoaderFindsTheProvider() {
        assertThat(BackendSelector.discover().providers()).anySatisfy(p -> {
            assertThat(p).isInstanceOf(Nd4jBackendProvider.class);
            assertThat(p.name()).isEqualTo("nd4j");
        });
    }

    @Test
    void availableHereAndSaysWhatWasFound() {
        Availability a = provider.availability();
        assertThat(a.available()).as(a.reason()).isTrue();
        assertThat(a.reason()).contains("nd4j-native 1.0.0-M2.1").contains("linux-x86_64")
                .contains("nd4j-native-1.0.0-M2.1-linux-x86_64.jar").contains("OpenBLAS 0.3.19");
    }

    @Test
    void unavailableElsewhereSayingWhy() throws Exception {
        ClassLoader here = Nd4jBackendProviderTest.class.getClassLoader();
        Availability mac = Nd4jNatives.probe("Mac OS X", "aarch64", here);
        assertThat(mac.available()).isFalse();
        assertThat(mac.reason()).contains("linux-x86_64").contains("Mac OS X aarch64");
        assertThat(Nd4jNatives.probe("Linux", "aarch64", here).available()).isFalse();
        try (URLClassLoader nothing = new URLClassLoader(new URL[0], null)) {
            Availability bare = Nd4jNatives.probe("Linux", "amd64", nothing);
            assertThat(bare.available()).isFalse();
            assertThat(bare.reason()).contains("org.nd4j.linalg.factory.Nd4j").contains("not on the class path");
        }
        List<URL> withoutNatives = new ArrayList<>();
        for (URL url : testClassPath()) {
            if (!url.getPath().endsWith("-linux-x86_64.jar")) {
                withoutNatives.add(url);
            }
        }
        try (URLClassLoader classesOnly = new URLClassLoader(withoutNatives.toArray(URL[]::new), null)) {
            Availability noNatives = Nd4jNatives.probe("Linux", "amd64", classesOnly);
            assertThat(noNatives.available()).isFalse();
            assertThat(noNatives.reason()).contains("native library").contains("libnd4jcpu.so")
                    .contains("linux-x86_64 classifier");
        }
    }

    /**
     * Loads the provider in a class loader of its own over the test class path, asks it for its
     * availability, and checks that neither the ND4J facade, its CPU backend nor JavaCPP's loader
     * was even loaded there, let alone initialised (their static initialisers load the natives).
     */
    @Test
    void availabilityLoadsNoNativeLibrary() throws Exception {
        try (RecordingLoader loader = new RecordingLoader(testClassPath())) {
            Class<?> type = Class.forName(Nd4jBackendProvider.class.getName(), true, loader);
            assertThat(type.getClassLoader()).isSameAs(loader);
            Object isolated = type.getConstructor().newInstance();
            Object availability = type.getMethod("availability").invoke(isolated);
            assertThat(availability.getClass().getMethod("available").invoke(availability)).isEqualTo(true);
            assertThat(loader.loaded("org.nd4j.linalg.factory.Nd4j")).isFalse();
            assertThat(loader.loaded("org.nd4j.linalg.cpu.nativecpu.CpuBackend")).isFalse();
            assertThat(loader.loaded("org.bytedeco.javacpp.Loader")).isFalse();
        }
    }

    @Test
    void createOnCpuGivesAWorkingBackend() {
        try (Nd4jBackend b = create("cpu", 0)) {
            assertThat(b.name()).isEqualTo("nd4j");
            assertThat(b.version()).startsWith("ND4J 1.0.0-M2.1 (nd4j-native, openblas 0.3.19)");
            assertThat(b.device()).isEqualTo(Device.CPU);
            assertThat(b.devices()).containsExactly(Device.CPU);
            assertThat(b.capabilities()).hasSize(2);
            assertThat(b.capability(NetworkOps.class)).get().isSameAs(b.capabilities().get(0));
            assertThat(b.capability(io.vqdistill.models.ModelLoader.class)).containsInstanceOf(
                    io.vqdistill.models.nn.PortableModels.class);
            assertThat(b.capability(io.vqdistill.models.train.ModelTrainer.class)).isEmpty();
            Tensor t = b.of(new float[] {1, 2, 3, 4}, 2, 2);
            assertThat(t.matmul(t).toFloatArray()).containsExactly(7, 10, 15, 22);
            t.close();
        }
        assertThat(System.getProperty(Nd4jRuntime.CACHE_DIR_PROPERTY)).isNotBlank();
    }

    @Test
    void autoDeviceIsTheCpu() {
        try (Nd4jBackend b = (Nd4jBackend) provider.create(BackendOptions.defaults())) {
            assertThat(b.device()).isEqualTo(Device.CPU);
        }
    }

    @Test
    void gpuFailsNamingTheCudaArtifact() {
        for (String device : List.of("gpu", "gpu:1")) {
            assertThatThrownBy(() -> provider.create(new BackendOptions(device, 0)))
                    .isInstanceOf(BackendException.class)
                    .hasMessageContaining("nd4j")
                    .hasMessageContaining("'" + device + "'")
                    .hasMessageContaining("CPU natives")
                    .hasMessageContaining("nd4j-cuda")
                    .hasMessageContaining("cpu or auto");
        }
    }

    @Test
    void selectorCreatesTheBackendByName() {
        try (Backend b = BackendSelector.discover().select("nd4j", new BackendOptions("cpu", 0))) {
            assertThat(b).isInstanceOf(Nd4jBackend.class);
        }
    }

    @Test
    void threadsAreSetForTheProcessCappedToThePoolAndZeroRestoresTheDefault() {
        int defaults;
        try (Nd4jBackend b = create("cpu", 0)) {
            defaults = b.threads();
        }
        assertThat(defaults).isPositive();
        try {
            try (Nd4jBackend one = create("cpu", 1)) {
                assertThat(one.threads()).isEqualTo(1);
                assertThat(Nd4j.getEnvironment().maxMasterThreads()).isEqualTo(1);
                assertThat(Nd4j.factory().blas().getMaxThreads()).isEqualTo(1);
                Tensor t = one.full(DType.FLOAT64, 2, 64, 64);
                assertThat(t.matmul(t).sumAll().item()).isEqualTo(64.0 * 64 * 64 * 4);
                t.close();
            }
            int pool = Nd4j.getEnvironment().maxThreads();
            try (Nd4jBackend many = create("cpu", pool + 7)) {
                assertThat(many.threads()).isEqualTo(pool);
            }
        } finally {
            try (Nd4jBackend restored = create("cpu", 0)) {
                assertThat(restored.threads()).isEqualTo(defaults);
            }
        }
        assertThat(Nd4j.factory().blas().getMaxThreads()).isPositive();
    }

    @Test
    void aClosedBackendCreatesNoTensors() {
        Nd4jBackend b = create("cpu", 0);
        Tensor before = b.of(new double[] {1, 2}, 2);
        b.close();
        assertThatThrownBy(() -> b.of(new double[] {1}, 1)).isInstanceOf(TensorException.class)
                .hasMessageContaining("of").hasMessageContaining("nd4j").hasMessageContaining("closed");
        assertThatThrownBy(() -> b.full(DType.INT32, 1, 2)).isInstanceOf(TensorException.class)
                .hasMessageContaining("full").hasMessageContaining("closed");
        assertThatThrownBy(() -> b.concat(List.of(before, before), 0)).isInstanceOf(TensorException.class)
                .hasMessageContaining("concat").hasMessageContaining("closed");
        before.close();
    }

    private static URL[] testClassPath() throws MalformedURLException {
        String cp = System.getProperty("surefire.test.class.path", System.getProperty("java.class.path"));
        List<URL> urls = new ArrayList<>();
        for (String entry : cp.split(File.pathSeparator)) {
            if (!entry.isBlank()) {
                urls.add(Path.of(entry).toUri().toURL());
            }
        }
        return urls.toArray(URL[]::new);
    }

    /** A class loader that loads everything itself (not from the test's loader) and tells what it loaded. */
    private static final class RecordingLoader extends URLClassLoader {
        RecordingLoader(URL[] urls) {
            super(urls, ClassLoader.getPlatformClassLoader());
        }

        boolean loaded(String name) {
            return findLoadedClass(name) != null;
        }
    }
}
