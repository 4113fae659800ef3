/**
 * Layered circuits: Einsum networks over a Poon–Domingos region graph ({@link
 * io.vqdistill.circuits.layered.LayeredCircuit}), whose layers are evaluated as batched tensor
 * products, and their stochastic EM statistics ({@link io.vqdistill.circuits.layered.EmStatistics}).
 */
package io.vqdistill.circuits.layered;
