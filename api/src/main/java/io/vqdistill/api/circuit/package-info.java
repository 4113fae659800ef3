/**
 * The query interface of tractable probabilistic circuits, {@link io.vqdistill.api.circuit.Circuit},
 * and the leaf-family SPI: a {@link io.vqdistill.api.circuit.LeafFamilyProvider} registered for
 * {@link java.util.ServiceLoader} configures a {@link io.vqdistill.api.circuit.LeafFamily}, which may
 * offer a fused {@link io.vqdistill.api.circuit.MaskedSumKernel}. The structures, the shipped leaf
 * families and the inference live in the {@code circuits} module.
 */
package io.vqdistill.api.circuit;
