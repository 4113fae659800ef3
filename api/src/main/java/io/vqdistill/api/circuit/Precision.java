package io.vqdistill.api.circuit;

/**
 * How a circuit's scores trade speed for accuracy. Every leaf family's fused
 * {@link MaskedSumKernel} offers both: {@link MaskedSumKernel#scores} (FAST) and
 * {@link MaskedSumKernel#preciseScores} (DOUBLE).
 *
 * <p>The accuracy contract, per example, against the same query evaluated term by term in float64:
 * <ul>
 *   <li>log-likelihoods and marginal log-likelihoods within {@code 1e-2 + 1e-5 |log p(x)|} nats in
 *       FAST (for 784-pixel images whose |log p| stays below about 4000 nats, as for any usable model,
 *       bits per dimension within 1e-4), within {@code 1e-4 + 1e-6 |log p(x)|} in DOUBLE (the float32
 *       result's own rounding included);</li>
 *   <li>component posteriors, conditional means and variances follow from component scores with
 *       the same errors, and the mode's component scores within twice that of the best.</li>
 * </ul>
 * FAST holds this for leaves like those a decoder produces (for Gaussian leaves: standard deviations
 * down to the 1e-3 clamp, means that form groups no wider than a few standard deviations per pixel,
 * such as means near 0 and 1), which the contract tests check on every backend. For parameters
 * beyond what the Gaussian kernel's feature budget can centre (see its documentation), FAST scores
 * may be off by more; DOUBLE holds for any parameters.
 */
public enum Precision {
    /**
     * float32 matrix products (or gathers) at the speed of the backend's own matmul, with the
     * algebra arranged so that float32 keeps the contract above; no host-side rescoring. The
     * default.
     */
    FAST,
    /**
     * Scores computed in float64 on the backend wherever the fast form would cancel or round (for
     * Gaussian leaves: the expanded square as float64 matrix products; for categorical leaves: the
     * gathered log-probabilities summed in float64); kernels whose sums cannot lose more than their
     * terms' float32 rounding may convert their FAST scores. On a CPU about 1.5 (DJL, ND4J) to 4
     * (TensorFlow) times the time of FAST for Gaussian leaves; for users who want float64
     * likelihoods per image.
     */
    DOUBLE
}
