/**
 * The vqdistill backend on Deep Java Library with its PyTorch engine.
 *
 * <p>{@link io.vqdistill.backend.djl.DjlBackendProvider} is found through {@link java.util.ServiceLoader}
 * under the name {@code djl}. It loads nothing until {@code create} is called; then the PyTorch native
 * libraries are unpacked from the bundled {@code pytorch-native-cpu} jar into a cache directory
 * (offline: nothing is ever downloaded) and {@link io.vqdistill.backend.djl.DjlBackend} makes
 * tensors that each own one DJL {@code NDArray}.
 */
package io.vqdistill.backend.djl;
