package io.vqdistill.cli.data;

import io.vqdistill.api.InvalidArgumentException;
import io.vqdistill.models.data.ImageSet;
import io.vqdistill.models.data.Mnist;
import java.nio.file.Path;
import picocli.CommandLine.Option;

/**
 * Which images of an MNIST folder a command measures on: the test images or the validation images
 * the trainers hold out ({@code --images}), all or the first {@code --limit}, and the train/validation
 * split ({@code --split-seed}). The folder itself is the command's: a local {@code --data}
 * ({@link TestImageOptions}) or one the command finds elsewhere, e.g. copies from a cluster.
 */
public final class ImageSelection {

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
     * The images these options select in the MNIST folder {@code data}: all of them, or the first
     * {@code --limit}.
     *
     * @throws InvalidArgumentException for an unknown set, or a limit not in [1, size]
     */
    public ImageSet load(Path data) {
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

    /** The training images of the same split in the MNIST folder {@code data}. */
    public ImageSet train(Path data) {
        return Mnist.load(data.toAbsolutePath().normalize()).split(splitSeed).train();
    }
}
