/**
 * Training and loading the networks, independent of the engine: the architectures
 * ({@link io.vqdistill.api.train.VqVaeSpec}, {@link io.vqdistill.api.train.PriorSpec}), the
 * optimisation settings ({@link io.vqdistill.api.train.TrainingSpec}), and the two capabilities a
 * backend declares when it can train ({@link io.vqdistill.api.train.ModelTrainer}) and run
 * ({@link io.vqdistill.api.train.ModelLoader}) them from a portable checkpoint folder
 * ({@link io.vqdistill.api.checkpoint.Checkpoint}).
 */
package io.vqdistill.api.train;
