package io.vqdistill.spark;

import io.vqdistill.cli.data.DataOptions;
import io.vqdistill.cli.data.TestImageOptions;
import io.vqdistill.models.data.ImageSet;
import picocli.CommandLine.Option;

/**
 * Which images a Spark command measures: the command line's {@code --data}, {@code --images},
 * {@code --limit} and {@code --split-seed}, with the MNIST folder at any Hadoop-compatible location.
 */
public final class SparkImageOptions {

    @Option(names = "--data", paramLabel = "URI", defaultValue = DataOptions.DEFAULT_DATA,
            description = "the MNIST folder, a Hadoop path (hdfs://, s3a://, file:/ or local) (default: "
                    + "${DEFAULT-VALUE})")
    String data;

    @Option(names = "--limit", paramLabel = "M", description = "evaluate on the first M images only")
    Integer limit;

    @Option(names = "--images", paramLabel = "SET", defaultValue = "test",
            description = "test, or validation: the 10,000 training images the trainers hold out with --split-seed "
                    + "(default: ${DEFAULT-VALUE})")
    String images;

    @Option(names = "--split-seed", paramLabel = "N", defaultValue = "0",
            description = "seed of the 50,000 / 10,000 train/validation split, as given to train (default: "
                    + "${DEFAULT-VALUE})")
    long splitSeed;

    /** The name of the image set, test or validation. */
    String set() {
        return images;
    }

    /** The images these options select, read from a local copy of {@code --data}. */
    ImageSet load(SparkRuns runs) {
        return TestImageOptions.load(runs.local("--data", data), images, limit, splitSeed);
    }
}
