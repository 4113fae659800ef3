/** Small double-precision helpers shared by the searches, the exact model and the evaluation. */
package io.vqdistill.distill.numeric;
