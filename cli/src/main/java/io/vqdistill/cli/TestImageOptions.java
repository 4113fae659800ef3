package io.vqdistill.cli;

import io.vqdistill.api.data.ImageSet;
import java.nio.file.Path;
import picocli.CommandLine.Option;

/** Which MNIST test images a command measures on, shared by the commands that evaluate on the test set. */
final class TestImageOptions {

    @Option(names = "--data", paramLabel = "DIR", defaultValue = DataOptions.DEFAULT_DATA,
            description = "the MNIST folder (default: ${DEFAULT-VALUE})")
    Path data;

    @Option(names = "--limit", paramLabel = "M", description = "evaluate on the first M test images only")
    Integer limit;

    /**
     * The test images these options select: all of them, or the first {@code --limit}.
     *
     * @throws IllegalArgumentException when the limit is not in [1, test size]
     */
    ImageSet load() {
        return CircuitInput.testImages(data, limit);
    }
}
