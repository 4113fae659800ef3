package io.vqdistill.distill.inject;

import jakarta.inject.Qualifier;
import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;

/**
 * Qualifies the {@link io.vqdistill.distill.search.LatentSearches} of {@link PipelineModule} whose
 * strategies run with the module's {@link io.vqdistill.api.search.SearchOptions} as given (by
 * default the stochastic beam search).
 */
@Qualifier
@Retention(RetentionPolicy.RUNTIME)
@Target({ElementType.METHOD, ElementType.PARAMETER, ElementType.FIELD})
public @interface Configured {
}
