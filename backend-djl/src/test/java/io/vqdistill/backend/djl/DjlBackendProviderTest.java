package io.vqdistill.backend.djl;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ai.djl.pytorch.jni.JniUtils;
import io.vqdistill.api.Backend;
import io.vqdistill.api.BackendException;
import io.vqdistill.api.BackendSelector;
import io.vqdistill.api.Capability;
import io.vqdistill.api.Device;
import io.vqdistill.api.spi.Availability;
import io.vqdistill.api.spi.BackendOptions;
import io.vqdistill.api.spi.BackendProvider;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Paths;
import java.util.List;
import java.util.ServiceLoader;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

class DjlBackendProviderTest {
    private final DjlBackendProvider provider = new DjlBackendProvider();

    @Test
    void nameAndPriority() {
        assertThat(provider.name()).isEqualTo("djl");
        assertThat(provider.priority()).isEqualTo(20);
    }

    @Test
    void registeredAsService() {
        List<BackendProvider> found = ServiceLoader.load(BackendProvider.class).stream()
                .map(ServiceLoader.Provider::get).toList();
        assertThat(found).anyMatch(p -> p instanceof DjlBackendProvider);
    }

    @Test
    void availableHereAndSaysWhatItFound() {
        Availability a = provider.availability();
        assertThat(a.available()).as(a.reason()).isTrue();
        assertThat(a.reason()).contains("PyTorch 2.7.1", "cpu", "linux-x86_64", "DJL 0.36.0");
    }

    @Test
    void createsOnCpu() {
        try (Backend backend = provider.create(new BackendOptions("cpu", 0))) {
            assertThat(backend.name()).isEqualTo("djl");
            assertThat(backend.device()).isEqualTo(Device.CPU);
            assertThat(backend.devices()).first().isEqualTo(Device.CPU);
            assertThat(backend.capabilities()).extracting(Capability::capabilityName)
                    .containsExactly("train", "train-cm", "nn-inference", "load-models", "tune-decoder");
            assertThat(backend.version()).isEqualTo("DJL 0.36.0 / PyTorch 2.7.1");
            assertThat(backend.toString()).contains("djl", "PyTorch", "cpu");
        }
    }

    @Test
    void autoPicksTheCpuWithoutGpu() {
        try (Backend backend = provider.create(BackendOptions.defaults())) {
            assertThat(backend.devices()).containsExactly(Device.CPU);
            assertThat(backend.device()).isEqualTo(Device.CPU);
        }
    }

    @Test
    void missingGpuFailsClearly() {
        assertThatThrownBy(() -> provider.create(new BackendOptions("gpu:3", 0)))
                .isInstanceOf(BackendException.class)
                .hasMessageContaining("gpu:3")
                .hasMessageContaining("no GPU")
                .hasMessageContaining("use device cpu or auto");
        assertThatThrownBy(() -> provider.create(new BackendOptions("gpu", 0)))
                .isInstanceOf(BackendException.class)
                .hasMessageContaining("gpu:0");
    }

    @Test
    void threadsOptionSetsIntraOpThreads() {
        try (Backend warm = provider.create(new BackendOptions("cpu", 0))) {
            assertThat(warm.device()).isEqualTo(Device.CPU);
        }
        int before = JniUtils.getNumThreads();
        int wanted = before == 1 ? 2 : 1;
        String threadsProperty = System.getProperty("ai.djl.pytorch.num_threads");
        String interopProperty = System.getProperty("ai.djl.pytorch.num_interop_threads");
        try (Backend backend = provider.create(new BackendOptions("cpu", wanted))) {
            assertThat(JniUtils.getNumThreads()).isEqualTo(wanted);
            assertThat(System.getProperty("ai.djl.pytorch.num_threads")).isEqualTo(Integer.toString(wanted));
            assertThat(backend.of(new float[] {1, 2}, 2).sumAll().item()).isEqualTo(3.0);
        } finally {
            JniUtils.setNumThreads(before);
            restore("ai.djl.pytorch.num_threads", threadsProperty);
            restore("ai.djl.pytorch.num_interop_threads", interopProperty);
        }
    }

    @Test
    void selectedByName() {
        try (Backend backend = BackendSelector.discover().select("djl", new BackendOptions("cpu", 0))) {
            assertThat(backend).isInstanceOf(DjlBackend.class);
        }
    }

    /**
     * Runs {@link LoadFailure} in a fresh JVM (this one has the engine loaded already) with a cache
     * directory that cannot be created, so the natives cannot be unpacked.
     */
    @Test
    void engineLoadFailureIsWrapped() throws IOException, InterruptedException {
        String java = Paths.get(System.getProperty("java.home"), "bin", "java").toString();
        ProcessBuilder pb = new ProcessBuilder(java, "-cp", System.getProperty("java.class.path"),
                "-Dai.djl.offline=true", LoadFailure.class.getName());
        pb.environment().put("DJL_CACHE_DIR", "/dev/null/vqdistill-djl");
        pb.environment().remove("ENGINE_CACHE_DIR");
        pb.redirectErrorStream(true);
        Process process = pb.start();
        String output;
        try (InputStream in = process.getInputStream()) {
            ByteArrayOutputStream buf = new ByteArrayOutputStream();
            in.transferTo(buf);
            output = buf.toString(StandardCharsets.UTF_8);
        }
        assertThat(process.waitFor(120, TimeUnit.SECONDS)).isTrue();
        assertThat(output).contains("BackendException: Failed to load PyTorch native library", "/dev/null/vqdistill-djl",
                "cause: ai.djl.engine.EngineException");
        assertThat(process.exitValue()).as(output).isZero();
    }

    private static void restore(String key, String value) {
        if (value == null) {
            System.clearProperty(key);
        } else {
            System.setProperty(key, value);
        }
    }

    /** The child process of {@link #engineLoadFailureIsWrapped()}: exits 0 when create fails as expected. */
    static final class LoadFailure {
        private LoadFailure() {
        }

        public static void main(String[] args) {
            try (Backend backend = new DjlBackendProvider().create(new BackendOptions("cpu", 0))) {
                System.out.println("unexpected: created " + backend);
                System.exit(2);
            } catch (BackendException e) {
                System.out.println("BackendException: " + e.getMessage());
                System.out.println("cause: " + e.getCause());
                System.exit(0);
            } catch (RuntimeException e) {
                System.out.println("unexpected: " + e);
                System.exit(3);
            }
        }
    }
}
