package io.vqdistill.distill.inject;

import jakarta.inject.Qualifier;
import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;

/**
 * Qualifies the {@link io.vqdistill.distill.search.LatentSearches} of {@link PipelineModule} whose
 * strategies run with the configured options but {@code scoreGrids = false}: the {@code beam} and
 * {@code random} searches leave the grids' class-marginal log p(z) unknown (NaN) instead of computing
 * it, enough for uniform or EM weights.
 */
@Qualifier
@Retention(RetentionPolicy.RUNTIME)
@Target({ElementType.METHOD, ElementType.PARAMETER, ElementType.FIELD})
public @interface Unscored {
}
