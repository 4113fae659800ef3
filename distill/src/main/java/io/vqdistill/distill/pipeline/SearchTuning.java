package io.vqdistill.distill.pipeline;

import io.vqdistill.api.InvalidArgumentException;
import io.vqdistill.api.search.BeamScoring;
import io.vqdistill.api.search.RandomClasses;
import io.vqdistill.api.search.SearchOptions;
import io.vqdistill.distill.search.BeamSearch;
import io.vqdistill.distill.search.ExhaustiveSearch;
import io.vqdistill.distill.search.RandomSearch;
import io.vqdistill.distill.search.TopSearch;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * The search settings one piece of work changes from the injector's {@link SearchOptions}: each
 * component is null where the configured value stands. The command line's {@code --beam-starts},
 * {@code --beam-width}, {@code --top-width-factor}, {@code --beam-scoring} and
 * {@code --random-classes} fill it.
 *
 * @param beamStarts      s, the distinct starting codes per class of the beam search, >= 1; or null
 * @param beamWidth       the width of every beam, >= 0 (0 for the paper's N / (s |C|)); or null
 * @param topWidthFactor  the {@code top} search keeps this many times N prefixes, >= 1; or null
 * @param beamScoring     how a class's beams rank their candidates; or null
 * @param randomClasses   the distribution of the random search's classes; or null
 */
public record SearchTuning(Integer beamStarts, Integer beamWidth, Integer topWidthFactor, BeamScoring beamScoring,
                           RandomClasses randomClasses) {
    /** Changes nothing. */
    public static final SearchTuning NONE = new SearchTuning(null, null, null, null, null);
    private static final Set<String> SHIPPED = Set.of(BeamSearch.NAME, RandomSearch.NAME, TopSearch.NAME,
            ExhaustiveSearch.NAME);

    /** Checks the given values as {@link SearchOptions} would. */
    public SearchTuning {
        if (beamStarts != null && beamStarts < 1) {
            throw InvalidArgumentException.of("beamStarts", beamStarts, ">= 1");
        }
        if (beamWidth != null && beamWidth < 0) {
            throw InvalidArgumentException.of("beamWidth", beamWidth, ">= 0 (0 for N / (s |C|))");
        }
        if (topWidthFactor != null && topWidthFactor < 1) {
            throw InvalidArgumentException.of("topWidthFactor", topWidthFactor, ">= 1");
        }
    }

    /** {@code base} with the values given here in place of its own. */
    public SearchOptions applyTo(SearchOptions base) {
        SearchOptions o = base;
        if (beamStarts != null) {
            o = o.withBeamStarts(beamStarts);
        }
        if (beamWidth != null) {
            o = o.withBeamWidth(beamWidth);
        }
        if (topWidthFactor != null) {
            o = o.withTopWidthFactor(topWidthFactor);
        }
        if (beamScoring != null) {
            o = o.withBeamScoring(beamScoring);
        }
        if (randomClasses != null) {
            o = o.withRandomClasses(randomClasses);
        }
        return o;
    }

    /**
     * The settings of {@code options} that the search {@code search} reads, under the names a circuit's
     * provenance records them by ({@code beam_starts}, {@code beam_width}, {@code beam_scoring},
     * {@code stochastic} for {@code beam}; {@code top_width_factor} for {@code top};
     * {@code random_classes} for {@code random}; all of them for a plug-in, which may read any).
     */
    public static Map<String, String> provenance(String search, SearchOptions options) {
        Map<String, String> out = new LinkedHashMap<>();
        boolean plugin = !SHIPPED.contains(search);
        if (plugin || search.equals(BeamSearch.NAME)) {
            out.put("beam_starts", Integer.toString(options.beamStarts()));
            out.put("beam_width", options.beamWidth() == SearchOptions.AUTOMATIC_BEAM_WIDTH ? "auto"
                    : Integer.toString(options.beamWidth()));
            out.put("beam_scoring", label(options.beamScoring()));
            out.put("stochastic", Boolean.toString(options.stochastic()));
        }
        if (plugin || search.equals(TopSearch.NAME)) {
            out.put("top_width_factor", Integer.toString(options.topWidthFactor()));
        }
        if (plugin || search.equals(RandomSearch.NAME)) {
            out.put("random_classes", label(options.randomClasses()));
        }
        return out;
    }

    /** The command-line name of a beam scoring: {@code per-class} or {@code class-marginal}. */
    public static String label(BeamScoring scoring) {
        return scoring.name().toLowerCase(Locale.ROOT).replace('_', '-');
    }

    /** The command-line name of a class distribution: {@code uniform} or {@code prior}. */
    public static String label(RandomClasses classes) {
        return classes == RandomClasses.CLASS_PRIOR ? "prior" : "uniform";
    }

    /** The beam scoring called {@code label}, if any. */
    public static Optional<BeamScoring> beamScoring(String label) {
        return Arrays.stream(BeamScoring.values()).filter(s -> label(s).equals(label)).findFirst();
    }

    /** The class distribution called {@code label}, if any. */
    public static Optional<RandomClasses> randomClasses(String label) {
        return Arrays.stream(RandomClasses.values()).filter(s -> label(s).equals(label)).findFirst();
    }

    /** The names of the beam scorings, for messages. */
    public static String beamScorings() {
        return Arrays.stream(BeamScoring.values()).map(SearchTuning::label).collect(Collectors.joining(", "));
    }

    /** The names of the class distributions, for messages. */
    public static String randomClassesLabels() {
        return Arrays.stream(RandomClasses.values()).map(SearchTuning::label).collect(Collectors.joining(", "));
    }
}
