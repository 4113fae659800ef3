/**
 * The ND4J backend: {@link io.vqdistill.backend.nd4j.Nd4jBackendProvider}, registered for
 * {@link java.util.ServiceLoader}, creates an {@link io.vqdistill.backend.nd4j.Nd4jBackend} whose
 * tensors wrap ND4J arrays on the CPU (nd4j-native 1.0.0-M2.1 with OpenBLAS, linux-x86_64) and which
 * declares network inference ({@link io.vqdistill.models.nn.NetworkOps}) on libnd4j's convolution ops.
 *
 * <p>ND4J's native library and its settings (thread counts, logging) are process-wide: every
 * backend instance in one JVM shares them.
 */
package io.vqdistill.backend.nd4j;
