package io.vqdistill.api.search;

/** The distribution the random search ({@code random}, DMRS) draws each grid's class c from. */
public enum RandomClasses {
    /** c ~ U(C), the paper's DMRS. The default. */
    UNIFORM,
    /** c ~ p(c), the prior's class prior, so that grids are drawn from the class-marginal p(z). */
    CLASS_PRIOR
}
