package io.vqdistill.backend.tensorflow;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.vqdistill.api.BackendException;
import io.vqdistill.api.BackendSelector;
import io.vqdistill.api.Device;
import io.vqdistill.api.Tensor;
import io.vqdistill.api.spi.Availability;
import io.vqdistill.api.spi.BackendOptions;
import io.vqdistill.api.spi.BackendProvider;
import java.net.MalformedURLException;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.file.Paths;
import java.util.List;
import java.util.ServiceLoader;
import org.junit.jupiter.api.Test;

/** The provider's identity, availability probe and backend creation on this (CPU-only) machine. */
class TfBackendProviderTest {
    private final TfBackendProvider provider = new TfBackendProvider();

    @Test
    void hasItsNameAndPriority() {
        assertThat(provider.name()).isEqualTo("tensorflow");
        assertThat(provider.priority()).isEqualTo(30);
    }

    @Test
    void isRegisteredAsAService() {
        assertThat(ServiceLoader.load(BackendProvider.class).stream().map(ServiceLoader.Provider::type))
                .contains(TfBackendProvider.class);
        assertThat(BackendSelector.discover().providers()).anyMatch(p -> p.name().equals("tensorflow"));
    }

    @Test
    void isAvailableHereAndSaysWhatItFound() {
        Availability a = provider.availability();
        assertThat(a.available()).as(a.reason()).isTrue();
        assertThat(a.reason()).contains("TensorFlow Java 1.1.0").contains("linux-x86_64").contains("glibc 2.");
    }

    @Test
    void availabilityLoadsNoTensorFlowClass() throws Exception {
        try (IsolatedLoader loader = new IsolatedLoader()) {
            Class<?> type = loader.loadClass(TfBackendProvider.class.getName());
            assertThat(type.getClassLoader()).isSameAs(loader);
            Object fresh = type.getConstructor().newInstance();
            Availability a = (Availability) type.getMethod("availability").invoke(fresh);
            assertThat(a.available()).as(a.reason()).isTrue();
            assertThat(loader.loaded("org.tensorflow.TensorFlow")).isFalse();
            assertThat(loader.loaded("org.bytedeco.javacpp.Loader")).isFalse();
        }
    }

    @Test
    void createsACpuBackendThatComputes() {
        try (TfBackend b = (TfBackend) provider.create(new BackendOptions("cpu", 2))) {
            assertThat(b.name()).isEqualTo("tensorflow");
            assertThat(b.device()).isEqualTo(Device.CPU);
            assertThat(b.devices()).first().isEqualTo(Device.CPU);
            assertThat(b.capabilities()).hasSize(5);
            assertThat(b.capability(io.vqdistill.models.nn.NetworkOps.class)).isPresent();
            assertThat(b.capability(io.vqdistill.models.ModelLoader.class)).containsInstanceOf(
                    io.vqdistill.models.nn.PortableModels.class);
            assertThat(b.capability(io.vqdistill.models.train.ModelTrainer.class)).isPresent();
            assertThat(b.capability(io.vqdistill.models.train.CmTrainer.class)).isPresent();
            assertThat(b.capability(io.vqdistill.models.train.DecoderTuner.class)).isPresent();
            assertThat(b.version()).matches("TensorFlow Java 1\\.1\\.0 \\(TF 2\\.18\\.\\d+\\)");
            try (Tensor x = b.of(new float[] {1, 2, 3, 4}, 2, 2); Tensor y = x.matmul(x)) {
                assertThat(y.toFloatArray()).containsExactly(7, 10, 15, 22);
            }
        }
    }

    @Test
    void autoPicksTheCpuWhenTensorFlowListsNoGpu() {
        try (TfBackend b = (TfBackend) provider.create(new BackendOptions("auto", 2))) {
            assertThat(b.device()).isEqualTo(b.devices().contains(Device.gpu(0)) ? Device.gpu(0) : Device.CPU);
        }
    }

    @Test
    void anAbsentGpuIsAClearError() {
        assertThatThrownBy(() -> provider.create(new BackendOptions("gpu:2", 2)))
                .isInstanceOf(BackendException.class)
                .hasMessageContaining("TensorFlow has no device gpu:2")
                .hasMessageContaining("[cpu");
        assertThatThrownBy(() -> provider.create(new BackendOptions("gpu", 2)))
                .isInstanceOf(BackendException.class)
                .hasMessageContaining("TensorFlow has no device gpu:0");
    }

    @Test
    void theSelectorCreatesItByName() {
        BackendOptions cpu = new BackendOptions("cpu", 2);
        try (TfBackend b = (TfBackend) BackendSelector.discover().select("tensorflow", cpu)) {
            assertThat(b.name()).isEqualTo("tensorflow");
            assertThat(b.toString()).startsWith("tensorflow (TensorFlow Java");
        }
    }

    @Test
    void theGlibcProbeReadsTheVersionOrSaysWhy() {
        TfBackendProvider.Glibc libc = TfBackendProvider.Glibc.PROBE;
        assertThat(libc.version).as(String.valueOf(libc.problem)).matches("\\d+\\.\\d+");
        assertThat(TfBackendProvider.atLeast(libc.version, new int[] {2, 34})).isTrue();
        assertThat(TfBackendProvider.atLeast("2.33", new int[] {2, 34})).isFalse();
        assertThat(TfBackendProvider.atLeast("3.0", new int[] {2, 34})).isTrue();
        TfBackendProvider.Glibc missing = TfBackendProvider.Glibc.probe(Paths.get("/nonexistent/maps"));
        assertThat(missing.version).isNull();
        assertThat(missing.problem).startsWith("cannot read /nonexistent/maps");
    }

    /**
     * Loads this module, TensorFlow and JavaCPP afresh from the given jars, delegating everything else
     * (the JDK, the api, protobuf, SLF4J) to the test's class loader.
     */
    private static final class IsolatedLoader extends URLClassLoader {
        IsolatedLoader() {
            super(jars(), TfBackendProviderTest.class.getClassLoader());
        }

        @Override
        protected Class<?> loadClass(String name, boolean resolve) throws ClassNotFoundException {
            boolean own = name.startsWith("org.tensorflow.") || name.startsWith("org.bytedeco.")
                    || name.startsWith(TfBackendProvider.class.getPackageName());
            if (!own) {
                return super.loadClass(name, resolve);
            }
            synchronized (getClassLoadingLock(name)) {
                Class<?> c = findLoadedClass(name);
                return c != null ? c : findClass(name);
            }
        }

        boolean loaded(String name) {
            return findLoadedClass(name) != null;
        }

        private static URL[] jars() {
            return List.of(
                    location(TfBackendProvider.class),
                    location(org.tensorflow.TensorFlow.class),
                    location(org.tensorflow.proto.ConfigProto.class),
                    location(org.tensorflow.ndarray.Shape.class),
                    location(org.bytedeco.javacpp.Loader.class),
                    jarOf("org/tensorflow/internal/c_api/linux-x86_64/libjnitensorflow.so"),
                    jarOf("org/bytedeco/javacpp/linux-x86_64/libjnijavacpp.so")).toArray(new URL[0]);
        }

        private static URL location(Class<?> c) {
            return c.getProtectionDomain().getCodeSource().getLocation();
        }

        private static URL jarOf(String resource) {
            String url = TfBackendProviderTest.class.getClassLoader().getResource(resource).toString();
            try {
                return new URL(url.substring("jar:".length(), url.indexOf("!/")));
            } catch (MalformedURLException e) {
                throw new IllegalStateException(url, e);
            }
        }
    }
}
