package io.vqdistill.cli.data;

import io.vqdistill.api.InvalidArgumentException;
import io.vqdistill.models.data.DataSplit;
import io.vqdistill.models.data.Mnist;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Optional;
import picocli.CommandLine.Option;

/** Where the data is and how it is split, shared by every command that reads MNIST. */
public final class DataOptions {
    /** The default data folder, relative to the working directory. */
    public static final String DEFAULT_DATA = "data/mnist";

    @Option(names = "--data", paramLabel = "DIR", defaultValue = DEFAULT_DATA,
            description = "a folder with the four MNIST IDX files, raw or .gz (default: ${DEFAULT-VALUE};"
                    + " 'vqdistill data fetch' fills it)")
    Path data;

    @Option(names = "--split-seed", paramLabel = "N", defaultValue = "0",
            description = "seed of the 50,000 / 10,000 train/validation split (default: ${DEFAULT-VALUE})")
    long splitSeed;

    @Option(names = "--limit", paramLabel = "N",
            description = "use only the first N training, N/5 validation and N/5 test images (quick trials)")
    Integer limit;

    /** The split these options describe; the folder is made absolute so provenance strings compare. */
    public DataSplit split() {
        return split(data, splitSeed, limit, "--limit");
    }

    /** The data folder, {@code --data}. */
    public Path folder() {
        return data;
    }

    /** The {@code --limit} given, or null. */
    public Integer limit() {
        return limit;
    }

    /**
     * The split of the MNIST folder {@code data} with {@code splitSeed}, limited to the first
     * {@code limit} training, {@code limit}/5 validation and {@code limit}/5 test images unless it is
     * null; the folder is made absolute so provenance strings compare.
     *
     * @throws InvalidArgumentException when {@code limit} is below 5, naming --limit
     */
    public static DataSplit split(Path data, long splitSeed, Integer limit) {
        return split(data, splitSeed, limit, "--limit");
    }

    /**
     * As {@link #split(Path, long, Integer)}, naming the limit {@code flag} as typed (e.g.
     * {@code --train-images}) in its error.
     *
     * @throws InvalidArgumentException when {@code limit} is below 5, naming {@code flag}
     */
    public static DataSplit split(Path data, long splitSeed, Integer limit, String flag) {
        if (limit != null && limit < 5) {
            throw new InvalidArgumentException(flag + " must be >= 5, found " + limit);
        }
        DataSplit s = Mnist.load(data.toAbsolutePath().normalize()).split(splitSeed);
        if (limit != null) {
            s = s.limit(limit, limit / 5, limit / 5);
        }
        return s;
    }

    /**
     * A note when {@code limit} asked for more images than {@code used} holds, saying how many are
     * used; empty otherwise.
     */
    public static Optional<String> limitNote(String flag, Integer limit, DataSplit used) {
        if (limit == null || limit <= used.train().size()) {
            return Optional.empty();
        }
        return Optional.of(String.format(Locale.ROOT, "note: %s %d asks for more than the %,d training images;"
                + " using %d/%d/%d training/validation/test images", flag, limit, used.train().size(),
                used.train().size(), used.validation().size(), used.test().size()));
    }
}
