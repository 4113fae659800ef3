/**
 * The query interface of tractable probabilistic circuits; the structures, leaf families and
 * inference live in the {@code circuits} module.
 */
package io.vqdistill.api.circuit;
