package io.vqdistill.spark;

import io.vqdistill.cli.data.DataOptions;
import io.vqdistill.cli.data.ImageSelection;
import io.vqdistill.models.data.ImageSet;
import picocli.CommandLine.Mixin;
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

    @Mixin
    ImageSelection selection;

    /** The name of the image set, test or validation. */
    String set() {
        return selection.set();
    }

    /** The images these options select, read from a local copy of {@code --data}. */
    ImageSet load(SparkRuns runs) {
        return selection.load(runs.local("--data", data));
    }
}
