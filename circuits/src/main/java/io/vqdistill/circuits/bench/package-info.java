/**
 * Benchmarks run from the command line, not from the unit tests:
 * {@link io.vqdistill.circuits.bench.MixtureBenchmark} times the Gaussian mixture log-likelihood
 * against the backend's plain matrix product.
 */
package io.vqdistill.circuits.bench;
