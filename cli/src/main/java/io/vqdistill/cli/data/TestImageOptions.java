package io.vqdistill.cli.data;

import io.vqdistill.api.InvalidArgumentException;
import io.vqdistill.models.data.ImageSet;
import java.nio.file.Path;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * Which MNIST images a command measures on, shared by the commands that evaluate: the MNIST folder
 * {@code --data} and the {@link ImageSelection} in it, the test images or the validation images the
 * trainers hold out (to choose settings without looking at the test set).
 */
public final class TestImageOptions {

    @Option(names = "--data", paramLabel = "DIR", defaultValue = DataOptions.DEFAULT_DATA,
            description = "the MNIST folder (default: ${DEFAULT-VALUE})")
    Path data;

    @Mixin
    ImageSelection selection;

    /** The name of the image set, test or validation. */
    public String set() {
        return selection.set();
    }

    /**
     * The images these options select: all of them, or the first {@code --limit}.
     *
     * @throws InvalidArgumentException for an unknown set, or a limit not in [1, size]
     */
    public ImageSet load() {
        return selection.load(data);
    }

    /** The training images of the same split ({@code --data}, {@code --split-seed}). */
    public ImageSet train() {
        return selection.train(data);
    }
}
