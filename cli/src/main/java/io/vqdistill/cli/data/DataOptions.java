package io.vqdistill.cli;

import io.vqdistill.models.data.DataSplit;
import io.vqdistill.models.data.Mnist;
import java.nio.file.Path;
import picocli.CommandLine.Option;

/** Where the data is and how it is split, shared by every command that reads MNIST. */
final class DataOptions {
    /** The default data folder, relative to the working directory. */
    static final String DEFAULT_DATA = "data/mnist";

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
    DataSplit split() {
        DataSplit s = Mnist.load(data.toAbsolutePath().normalize()).split(splitSeed);
        if (limit != null) {
            if (limit < 5) {
                throw new IllegalArgumentException("--limit must be >= 5, found " + limit);
            }
            s = s.limit(limit, limit / 5, limit / 5);
        }
        return s;
    }
}
