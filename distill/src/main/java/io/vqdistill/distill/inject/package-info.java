/**
 * Guice wiring: {@link io.vqdistill.distill.inject.BackendModule} binds the selected backend;
 * {@link io.vqdistill.distill.inject.SearchModule} binds the latent searches by name, with their
 * options and plug-ins; {@link io.vqdistill.distill.inject.PipelineModule} binds what an application
 * of the pipeline injects, in one injector per process.
 */
package io.vqdistill.distill.inject;
