package io.vqdistill.cli.options;

import io.vqdistill.api.InvalidArgumentException;
import io.vqdistill.distill.pipeline.DistillationRequest;
import io.vqdistill.distill.pipeline.WeightingKind;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.stream.Collectors;

/**
 * Checks and parses of option values that picocli cannot do itself; every failure is an
 * {@link InvalidArgumentException} that names the flag as typed.
 */
public final class Flags {
    /** The weighting names of {@code --weights}. */
    public static final String WEIGHTINGS = "uniform, prior or em";

    private Flags() {
    }

    /** @throws InvalidArgumentException when {@code value} of {@code flag} is below 1, naming it */
    public static void atLeastOne(String flag, long value) {
        if (value < 1) {
            throw new InvalidArgumentException(flag + " must be >= 1, found " + value);
        }
    }

    /** @throws InvalidArgumentException when {@code value} of {@code flag} is not in [min, max], naming it */
    public static void inRange(String flag, long value, long min, long max) {
        if (value < min || value > max) {
            throw new InvalidArgumentException(flag + " must be in [" + min + ", " + max + "], found " + value);
        }
    }

    /**
     * @throws InvalidArgumentException when {@code --components} N is outside
     *                                  1..{@value DistillationRequest#MAX_COMPONENTS}, naming it
     */
    public static void components(int n) {
        inRange("--components", n, 1, DistillationRequest.MAX_COMPONENTS);
    }

    /**
     * The weighting {@code --weights} names.
     *
     * @throws InvalidArgumentException for an unknown weighting, naming it
     */
    public static WeightingKind weights(String name) {
        return WeightingKind.byLabel(name).orElseThrow(() -> new InvalidArgumentException("unknown --weights '"
                + name + "'; known: " + WEIGHTINGS));
    }

    /**
     * The constant of {@code type} whose lower-case name is {@code name}.
     *
     * @throws InvalidArgumentException for an unknown name, naming {@code flag} and listing the known ones
     */
    public static <E extends Enum<E>> E choice(Class<E> type, String name, String flag) {
        for (E e : type.getEnumConstants()) {
            if (label(e).equals(name)) {
                return e;
            }
        }
        throw new InvalidArgumentException("unknown " + flag + " '" + name + "'; known: " + Arrays
                .stream(type.getEnumConstants()).map(Flags::label).collect(Collectors.joining(", ")));
    }

    private static String label(Enum<?> e) {
        return e.name().toLowerCase(Locale.ROOT);
    }

    /**
     * The reference lines of {@code --reference LABEL=BPD} arguments, split at the last '='.
     *
     * @throws InvalidArgumentException for an argument without a label or a number, naming it
     */
    public static Map<String, Double> references(List<String> args) {
        Map<String, Double> out = new LinkedHashMap<>();
        for (String a : args) {
            int eq = a.lastIndexOf('=');
            try {
                if (eq < 1) {
                    throw new NumberFormatException();
                }
                out.put(a.substring(0, eq), Double.parseDouble(a.substring(eq + 1)));
            } catch (NumberFormatException e) {
                InvalidArgumentException invalid = new InvalidArgumentException("--reference must be LABEL=BPD,"
                        + " found '" + a + "'");
                invalid.initCause(e);
                throw invalid;
            }
        }
        return out;
    }
}
