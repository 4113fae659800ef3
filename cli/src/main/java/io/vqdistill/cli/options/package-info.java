/**
 * The options commands share, as picocli mixins (backend, mixtures, checkpoints, optimisation), and
 * the checks and parses of option values whose errors name the flag as typed.
 */
package io.vqdistill.cli.options;
