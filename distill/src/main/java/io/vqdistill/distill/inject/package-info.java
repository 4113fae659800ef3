/**
 * Guice wiring: {@link io.vqdistill.distill.inject.BackendModule} binds the selected backend; the
 * strategy modules bind latent searches by name.
 */
package io.vqdistill.distill.inject;
