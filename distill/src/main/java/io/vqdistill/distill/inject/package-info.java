/**
 * Guice wiring: {@link io.vqdistill.distill.inject.BackendModule} binds the selected backend;
 * {@link io.vqdistill.distill.inject.SearchModule} binds the latent searches by name, with their
 * options and plug-ins.
 */
package io.vqdistill.distill.inject;
