/**
 * {@code vqdistill serve}: an embedded HTTP server ({@link io.vqdistill.server.CircuitServer}, on
 * Javalin) answering a circuit's exact queries as JSON ({@link io.vqdistill.server.CircuitService}),
 * and one HTML page that draws or picks an image, hides a painted region and shows the completions
 * and the most probable components. The server binds the loopback address by default; every query
 * holds one lock on the circuit, because circuits and their backends' tensors are not thread-safe.
 */
package io.vqdistill.server;
