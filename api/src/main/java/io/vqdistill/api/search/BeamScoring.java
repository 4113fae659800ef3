package io.vqdistill.api.search;

/**
 * How the class-conditioned beam search ({@code beam}, DMBS) ranks the candidates of a beam that was
 * started for class c.
 */
public enum BeamScoring {
    /**
     * The paper's Algorithms 1-2: Algorithm 1 calls the beam search with the class set {c}, so a
     * class's beams rank their prefixes by that class's own log p(z_&lt;=i | c). The default.
     */
    PER_CLASS,
    /**
     * The class only picks a beam's starting code; the beam then ranks its prefixes by the
     * class-marginal log p(z_&lt;=i) = logsumexp_c [log p(c) + log p(z_&lt;=i | c)], which costs one
     * prior row per class for every prefix.
     */
    CLASS_MARGINAL
}
