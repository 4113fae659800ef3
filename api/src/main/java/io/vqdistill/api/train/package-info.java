/**
 * Training and loading the networks, independent of the engine: the architectures
 * ({@link io.vqdistill.api.train.VqVaeSpec}, {@link io.vqdistill.api.train.PriorSpec}), the
 * optimisation settings ({@link io.vqdistill.api.train.TrainingSpec}), and the capabilities a
 * backend declares when it can train ({@link io.vqdistill.api.train.ModelTrainer}, or one network:
 * {@link io.vqdistill.api.train.VqVaeTrainer}, {@link io.vqdistill.api.train.PriorTrainer}) and run
 * ({@link io.vqdistill.api.train.ModelLoader}) them from a portable checkpoint folder
 * ({@link io.vqdistill.api.checkpoint.Checkpoint}).
 */
package io.vqdistill.api.train;
