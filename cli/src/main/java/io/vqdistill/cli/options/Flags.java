package io.vqdistill.cli.options;

import io.vqdistill.api.InvalidArgumentException;
import io.vqdistill.formats.AtomicFolder;
import io.vqdistill.formats.FileKind;
import io.vqdistill.distill.pipeline.DistillationRequest;
import io.vqdistill.distill.pipeline.WeightingKind;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.Predicate;
import java.util.stream.Collectors;
import java.util.stream.Stream;

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

    /** @throws InvalidArgumentException when {@code value} of {@code flag} is not finite and > 0, naming it */
    public static void positive(String flag, double value) {
        if (!(value > 0) || Double.isInfinite(value)) {
            throw new InvalidArgumentException(flag + " must be positive and finite, found " + value);
        }
    }

    /** @throws InvalidArgumentException when {@code value} of {@code flag} is not odd and >= {@code min}, naming it */
    public static void oddAtLeast(String flag, int value, int min) {
        if (value < min || value % 2 == 0) {
            throw new InvalidArgumentException(flag + " must be odd and >= " + min + ", found " + value);
        }
    }

    /**
     * Checks, before any work, that the folder {@code out} given as {@code flag} can take a
     * {@code what}: it is missing, an empty folder, or a folder that {@code holdsOne} says already holds
     * one (counting one a killed write left to restore); no file stands where it or a parent folder
     * should be; and no other writer holds it now (when its parent exists; probing takes the folder's
     * writer lock for a moment and recovers an interrupted write, as the write itself would).
     *
     * @throws InvalidArgumentException naming the flag, the folder and what stands in the way
     * @throws io.vqdistill.api.VqdistillException when another writer holds the folder
     */
    public static void outputFolder(String flag, Path out, String what, Predicate<Path> holdsOne) {
        FileKind kind = FileKind.of(out);
        if (kind == FileKind.REGULAR_FILE) {
            throw new InvalidArgumentException(flag + " " + out + " is an existing file, not a folder: choose a folder"
                    + " for the " + what);
        }
        if (kind != FileKind.FOLDER && kind != FileKind.MISSING && kind != FileKind.DANGLING_LINK) {
            throw new InvalidArgumentException(flag + " " + out + " is " + kind.words() + ", not a folder: choose a"
                    + " folder for the " + what);
        }
        Path absolute = out.toAbsolutePath().normalize();
        if (absolute.getParent() == null) {
            throw new InvalidArgumentException(flag + " " + out + " is the root folder: choose a folder inside"
                    + " another for the " + what);
        }
        for (Path p = absolute.getParent(); p != null; p = p.getParent()) {
            FileKind k = FileKind.of(p);
            if (k == FileKind.FOLDER) {
                break;
            }
            if (k != FileKind.MISSING) {
                throw new InvalidArgumentException(flag + " " + out + ": " + p + " is " + k.words()
                        + ", not a folder");
            }
        }
        if (kind == FileKind.FOLDER && !isEmpty(out) && !holdsOne.test(out)) {
            throw new InvalidArgumentException(flag + " " + out + " is a folder holding other files and no " + what
                    + ": choose a new or empty folder (nothing in it was touched)");
        }
        if (Files.isDirectory(absolute.getParent())) {
            AtomicFolder.open(out).close();
        }
    }

    /**
     * Checks, before any work, that the file {@code file} given as {@code flag} can be written: it is
     * missing or a regular file, and no file stands where a parent folder should be.
     *
     * @throws InvalidArgumentException naming the flag, the file and what stands in the way
     */
    public static void outputFile(String flag, Path file) {
        FileKind kind = FileKind.of(file);
        if (kind != FileKind.REGULAR_FILE && kind != FileKind.MISSING) {
            throw new InvalidArgumentException(flag + " " + file + " is " + kind.words() + ", not a file: choose a"
                    + " file name");
        }
        Path absolute = file.toAbsolutePath().normalize();
        for (Path p = absolute.getParent(); p != null; p = p.getParent()) {
            FileKind k = FileKind.of(p);
            if (k == FileKind.FOLDER) {
                break;
            }
            if (k != FileKind.MISSING) {
                throw new InvalidArgumentException(flag + " " + file + ": " + p + " is " + k.words()
                        + ", not a folder");
            }
        }
    }

    private static boolean isEmpty(Path dir) {
        try (Stream<Path> s = Files.list(dir)) {
            return s.findAny().isEmpty();
        } catch (IOException e) {
            throw new InvalidArgumentException("cannot list " + dir + ": " + e.getMessage(), e);
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
