/**
 * What a backend implements: a {@link io.vqdistill.api.spi.BackendProvider} registered for
 * {@link java.util.ServiceLoader}, and a backend and tensor built on
 * {@link io.vqdistill.api.spi.AbstractBackend} and {@link io.vqdistill.api.spi.AbstractTensor},
 * which validate every argument so all engines fail alike.
 */
package io.vqdistill.api.spi;
