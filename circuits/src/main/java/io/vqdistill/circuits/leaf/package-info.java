/**
 * The leaf families shipped with the circuits module, each registered for
 * {@link java.util.ServiceLoader} through its nested {@code Provider}: {@code gaussian}
 * ({@link io.vqdistill.circuits.leaf.GaussianFamily}), {@code categorical}
 * ({@link io.vqdistill.circuits.leaf.CategoricalFamily}) and {@code bernoulli}
 * ({@link io.vqdistill.circuits.leaf.BernoulliFamily}), each with a fused mixture kernel.
 */
package io.vqdistill.circuits.leaf;
