/**
 * The circuit file format: a folder with {@code circuit.json} and {@code circuit.safetensors},
 * read and written by {@link io.vqdistill.circuits.io.CircuitFiles} as one unit (a whole-folder
 * commit under a writer's lock, see {@link io.vqdistill.formats.AtomicFolder}); the layout and the
 * checks made on reading are documented in {@code circuits/FORMAT.md} so that numpy users can read
 * it too.
 */
package io.vqdistill.circuits.io;
