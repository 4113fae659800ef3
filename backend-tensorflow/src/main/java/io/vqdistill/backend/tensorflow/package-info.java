/**
 * The TensorFlow Java backend of vqdistill: {@link io.vqdistill.backend.tensorflow.TfBackendProvider}
 * (name {@code tensorflow}) creates a {@link io.vqdistill.backend.tensorflow.TfBackend} whose tensors
 * are TensorFlow host tensors, freed as soon as they are closed, and whose operations run as small
 * cached graphs in one TensorFlow session. Needs Linux x86-64 with glibc 2.34 or newer.
 */
package io.vqdistill.backend.tensorflow;
