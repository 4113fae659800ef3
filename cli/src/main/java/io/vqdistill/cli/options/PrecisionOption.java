package io.vqdistill.cli.options;

import io.vqdistill.api.circuit.Precision;
import picocli.CommandLine.Option;

/**
 * The option of every command that scores a shallow mixture: {@code --precision fast|double}, the
 * {@link Precision} of its component scores.
 */
public final class PrecisionOption {
    /** The flag's name. */
    public static final String FLAG = "--precision";

    @Option(names = FLAG, paramLabel = "P", defaultValue = "fast",
            description = "fast (float32 matrix products, per image within 1e-2 + 1e-5 |log p| nats of float64) or"
                + " double (float64 where float32 would cancel, within 1e-4 + 1e-6 |log p|)"
                + " (default: ${DEFAULT-VALUE})")
    String precision;

    /**
     * The precision named.
     *
     * @throws io.vqdistill.api.InvalidArgumentException for an unknown name, listing the known ones
     */
    public Precision precision() {
        return Flags.choice(Precision.class, precision, FLAG);
    }
}
