package io.vqdistill.cli.data;

import io.vqdistill.api.InvalidArgumentException;
import io.vqdistill.models.data.ImageSet;
import io.vqdistill.models.data.Mnist;
import java.nio.file.Path;
import picocli.CommandLine.Option;

/**
 * Which MNIST images a command measures on, shared by the commands that evaluate: the test images,
 * or the validation images the trainers hold out (to choose settings without looking at the test set).
 */
public final class TestImageOptions {

    @Option(names = "--data", paramLabel = "DIR", defaultValue = DataOptions.DEFAULT_DATA,
            description = "the MNIST folder (default: ${DEFAULT-VALUE})")
    Path data;

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
    public String set() {
        return images;
    }

    /**
     * The images these options select: all of them, or the first {@code --limit}.
     *
     * @throws InvalidArgumentException for an unknown set, or a limit not in [1, size]
     */
    public ImageSet load() {
        return load(data, images, limit, splitSeed);
    }

    /**
     * The images {@code --images SET --limit M --split-seed N} select in the MNIST folder {@code data}
     * (for a command that finds the folder elsewhere, e.g. copies it from a cluster).
     *
     * @throws InvalidArgumentException for an unknown set, or a limit not in [1, size]
     */
    public static ImageSet load(Path data, String images, Integer limit, long splitSeed) {
        return switch (images) {
            case "test" -> CircuitInput.testImages(data, limit);
            case "validation" -> {
                ImageSet validation = Mnist.load(data.toAbsolutePath().normalize()).split(splitSeed).validation();
                yield limit == null ? validation : CircuitInput.first(validation, limit);
            }
            default -> throw new InvalidArgumentException("--images must be test or validation, found '" + images
                    + "'");
        };
    }

    /** The training images of the same split ({@code --data}, {@code --split-seed}). */
    public ImageSet train() {
        return Mnist.load(data.toAbsolutePath().normalize()).split(splitSeed).train();
    }
}
