/**
 * The circuit file format: a folder with {@code circuit.json} and {@code circuit.safetensors},
 * read and written by {@link io.vqdistill.circuits.io.CircuitFiles}; the layout is documented in
 * {@code circuits/FORMAT.md} so that numpy users can read it too.
 */
package io.vqdistill.circuits.io;
