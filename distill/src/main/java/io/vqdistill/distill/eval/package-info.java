/**
 * Evaluation: bits per dimension under a {@link io.vqdistill.distill.eval.PixelEncoding}, a fixed
 * {@link io.vqdistill.distill.eval.Evaluator} set, and the {@link io.vqdistill.distill.eval.Sweep}
 * over N = 2^0 .. 2^k with its CSV output.
 */
package io.vqdistill.distill.eval;
