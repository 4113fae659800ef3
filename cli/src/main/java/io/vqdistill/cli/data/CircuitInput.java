package io.vqdistill.cli;

import io.vqdistill.api.Backend;
import io.vqdistill.api.circuit.Circuit;
import io.vqdistill.circuits.io.CircuitFiles;
import io.vqdistill.models.data.ImageSet;
import io.vqdistill.models.data.Mnist;
import java.nio.file.Files;
import java.nio.file.Path;

/** Reading what the circuit commands take: a saved circuit folder and the MNIST test images. */
final class CircuitInput {
    private CircuitInput() {
    }

    /**
     * The circuit saved in {@code dir}, on {@code backend}.
     *
     * @throws IllegalArgumentException when the folder or its circuit.json is missing, naming it
     */
    static Circuit read(Path dir, Backend backend) {
        check(dir);
        return CircuitFiles.read(dir, backend);
    }

    /**
     * Checks that {@code dir} holds a saved circuit, before any backend is started.
     *
     * @throws IllegalArgumentException when the folder or its circuit.json is missing, naming it
     */
    static void check(Path dir) {
        if (!Files.isDirectory(dir)) {
            throw new IllegalArgumentException("--circuit " + dir + ": no such folder");
        }
        if (!Files.isRegularFile(dir.resolve(CircuitFiles.JSON))) {
            throw new IllegalArgumentException("--circuit " + dir + ": the folder has no " + CircuitFiles.JSON
                    + " (write one with 'vqdistill distill')");
        }
    }

    /**
     * The first {@code limit} test images of the MNIST folder {@code data}, or all of them when
     * {@code limit} is null.
     *
     * @throws IllegalArgumentException when {@code limit} is not in [1, test size]
     */
    static ImageSet testImages(Path data, Integer limit) {
        ImageSet test = Mnist.load(data).test();
        return limit == null ? test : first(test, limit);
    }

    /** The first {@code limit} images of {@code images}; a limit outside [1, size] is an error naming --limit. */
    static ImageSet first(ImageSet images, int limit) {
        if (limit < 1 || limit > images.size()) {
            throw new IllegalArgumentException("--limit must be in [1, " + images.size() + "], found " + limit);
        }
        return images.range(0, limit);
    }
}
