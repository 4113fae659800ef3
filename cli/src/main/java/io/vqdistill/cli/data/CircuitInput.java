package io.vqdistill.cli.data;

import io.vqdistill.api.InvalidArgumentException;
import io.vqdistill.circuits.io.CircuitFiles;
import io.vqdistill.models.data.ImageSet;
import io.vqdistill.models.data.Mnist;
import java.nio.file.Files;
import java.nio.file.Path;

/** Checking what the circuit commands take: a saved circuit folder and the MNIST test images. */
public final class CircuitInput {
    private CircuitInput() {
    }

    /**
     * Checks that {@code dir} holds a saved circuit, before any backend is started.
     *
     * @throws InvalidArgumentException when the folder or its circuit.json is missing, naming it
     */
    public static void check(Path dir) {
        if (!Files.isDirectory(dir)) {
            throw new InvalidArgumentException("--circuit " + dir + ": no such folder");
        }
        if (!Files.isRegularFile(dir.resolve(CircuitFiles.JSON))) {
            throw new InvalidArgumentException("--circuit " + dir + ": the folder has no " + CircuitFiles.JSON
                    + " (write one with 'vqdistill distill')");
        }
    }

    /**
     * The first {@code limit} test images of the MNIST folder {@code data}, or all of them when
     * {@code limit} is null.
     *
     * @throws InvalidArgumentException when {@code limit} is not in [1, test size]
     */
    public static ImageSet testImages(Path data, Integer limit) {
        ImageSet test = Mnist.load(data).test();
        return limit == null ? test : first(test, limit);
    }

    /** The first {@code limit} images of {@code images}; a limit outside [1, size] is an error naming --limit. */
    public static ImageSet first(ImageSet images, int limit) {
        if (limit < 1 || limit > images.size()) {
            throw new InvalidArgumentException("--limit must be in [1, " + images.size() + "], found " + limit);
        }
        return images.range(0, limit);
    }
}
