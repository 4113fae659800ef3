/**
 * JMH micro-benchmarks of the hot paths, outside the unit suite; see the module's pom for how to run
 * them.
 */
package io.vqdistill.benchmarks;
