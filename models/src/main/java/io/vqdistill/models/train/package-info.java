/**
 * Training and loading the networks, independent of the engine: the architectures
 * ({@link io.vqdistill.models.train.VqVaeSpec}, {@link io.vqdistill.models.train.PriorSpec}), the
 * optimisation settings ({@link io.vqdistill.models.train.TrainingSpec}), and the capabilities a
 * backend declares when it can train ({@link io.vqdistill.models.train.ModelTrainer}, or one network:
 * {@link io.vqdistill.models.train.VqVaeTrainer}, {@link io.vqdistill.models.train.PriorTrainer}) and run
 * ({@link io.vqdistill.models.ModelLoader}) them from a portable checkpoint folder
 * ({@link io.vqdistill.models.checkpoint.Checkpoint}).
 */
package io.vqdistill.models.train;

import io.vqdistill.models.ModelLoader;
