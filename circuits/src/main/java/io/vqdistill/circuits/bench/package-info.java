/**
 * Benchmarks run from the command line, not from the unit tests:
 * {@link io.vqdistill.circuits.bench.MixtureBenchmark} times the mixture log-likelihood, on
 * generated {@link io.vqdistill.circuits.bench.DecodedLeaves decoded-looking leaves} or on a given
 * circuit, against the backend's plain matrix product.
 */
package io.vqdistill.circuits.bench;
