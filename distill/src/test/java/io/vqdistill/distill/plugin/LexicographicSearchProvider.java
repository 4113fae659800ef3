package io.vqdistill.distill.plugin;

import io.vqdistill.api.model.Prior;
import io.vqdistill.api.search.LatentSearch;
import io.vqdistill.api.search.LatentSearchProvider;
import io.vqdistill.api.search.LatentSet;
import io.vqdistill.api.search.SearchOptions;
import io.vqdistill.api.search.SearchRequest;
import io.vqdistill.distill.search.GridEnumeration;
import java.util.Arrays;

/**
 * A third-party strategy registered through {@code META-INF/services}: the first N grids in
 * lexicographic order, scored by the prior. It records the options it was created with.
 */
public final class LexicographicSearchProvider implements LatentSearchProvider {
    /** The strategy's name. */
    public static final String NAME = "lexicographic";

    /** The options the last created search received. */
    public static volatile SearchOptions lastOptions;

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public LatentSearch create(SearchOptions options) {
        lastOptions = options;
        return new LatentSearch() {
            @Override
            public String name() {
                return NAME;
            }

            @Override
            public LatentSet search(Prior prior, SearchRequest request) {
                GridEnumeration all = GridEnumeration.of(prior, request.fixedPrefix(), options.maxEnumeratedGrids());
                int n = (int) Math.min(request.count(), all.count());
                int[] codes = all.grids(0, n);
                int[] classes = new int[n];
                Arrays.fill(classes, -1);
                double[] scores = new double[n];
                Arrays.fill(scores, Double.NaN);
                return new LatentSet(prior.latentShape(), codes, classes, scores);
            }
        };
    }
}
