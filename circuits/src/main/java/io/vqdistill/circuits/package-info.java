/**
 * Probabilistic circuits over the api {@link io.vqdistill.api.Tensor}: the shallow mixture the
 * distiller produces ({@link io.vqdistill.circuits.ShallowMixture}, evaluated with the leaf
 * families' fused matrix-product kernels), general smooth and decomposable DAG circuits
 * ({@link io.vqdistill.circuits.CircuitBuilder}, {@link io.vqdistill.circuits.CircuitStructure},
 * {@link io.vqdistill.circuits.DagCircuit}, compiled into batched layers), and the registry of leaf
 * families found with {@link java.util.ServiceLoader} ({@link io.vqdistill.circuits.LeafFamilies}).
 * Everything runs on whichever {@link io.vqdistill.api.Backend} holds the parameters.
 */
package io.vqdistill.circuits;
