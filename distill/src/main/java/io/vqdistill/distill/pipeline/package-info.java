/**
 * The distillation pipeline as a library, for the command line, scripts and tests alike: a
 * {@link io.vqdistill.distill.pipeline.Session} opens a backend and the networks and circuits on it
 * once and closes them; {@link io.vqdistill.distill.pipeline.DistillationPipeline} runs a
 * {@link io.vqdistill.distill.pipeline.DistillationRequest} (search, distil, save);
 * {@link io.vqdistill.distill.pipeline.CircuitEvaluation} measures a circuit on a data set,
 * {@link io.vqdistill.distill.pipeline.ExactEvaluation} the exact model, and
 * {@link io.vqdistill.distill.pipeline.SweepPipeline} a sweep over N;
 * {@link io.vqdistill.distill.pipeline.ModelTraining} trains the networks, and
 * {@link io.vqdistill.distill.pipeline.Sampling} and {@link io.vqdistill.distill.pipeline.Inpainting}
 * query a circuit. The injectable classes come from one injector built with
 * {@link io.vqdistill.distill.inject.PipelineModule}.
 */
package io.vqdistill.distill.pipeline;
