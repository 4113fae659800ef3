package io.vqdistill.cli.data;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.vqdistill.api.FormatException;
import io.vqdistill.api.InvalidArgumentException;
import io.vqdistill.circuits.io.CircuitFiles;
import io.vqdistill.cli.options.MemoryBudget;
import io.vqdistill.formats.AtomicFolder;
import io.vqdistill.formats.FileKind;
import io.vqdistill.models.data.ImageSet;
import io.vqdistill.models.data.Mnist;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** Checking what the circuit commands take: a saved circuit folder and the MNIST test images. */
public final class CircuitInput {
    private static final ObjectMapper JSON = new ObjectMapper();

    private CircuitInput() {
    }

    /**
     * Checks that {@code dir} holds a saved circuit (counting one a killed write left to restore) and
     * that reading and querying it fits in memory ({@link MemoryBudget#circuit}), before any backend is
     * started.
     *
     * @return the sizes its {@code circuit.json} records
     * @throws InvalidArgumentException when the folder or its circuit.json is missing or is not what it
     *                                  should be (a file, a named pipe), naming it, or when the circuit
     *                                  does not fit
     */
    public static Header check(Path dir) {
        FileKind kind = FileKind.of(dir);
        if (kind != FileKind.FOLDER && kind != FileKind.MISSING && kind != FileKind.DANGLING_LINK) {
            throw new InvalidArgumentException("--circuit " + dir + " is " + kind.words() + ", not a circuit folder");
        }
        if (!CircuitFiles.exists(dir)) {
            if (!Files.isDirectory(dir)) {
                throw new InvalidArgumentException("--circuit " + dir + ": no such folder");
            }
            FileKind json = FileKind.of(dir.resolve(CircuitFiles.JSON));
            if (json != FileKind.MISSING) {
                throw new InvalidArgumentException("--circuit " + dir + ": its " + CircuitFiles.JSON + " is "
                        + json.words() + ", not a regular file");
            }
            throw new InvalidArgumentException("--circuit " + dir + ": the folder has no " + CircuitFiles.JSON
                    + " (write one with 'vqdistill distill')");
        }
        JsonNode header = AtomicFolder.read(dir, d -> {
            Path file = d.resolve(CircuitFiles.JSON);
            try {
                return JSON.readTree(Files.readString(file));
            } catch (IOException e) {
                throw new FormatException(file + ": not valid JSON: " + e.getMessage(), e);
            }
        });
        Header h = new Header(header.path("parameter_count").asLong(0), Math.max(1,
                header.path("components").asLong(1)), header.path("variables").asLong(0));
        if (h.parameters() > 0) {
            MemoryBudget.circuit("--circuit " + dir, h.parameters(), h.components());
        }
        return h;
    }

    /**
     * The sizes a circuit's {@code circuit.json} records, for memory estimates (0 where it records none).
     *
     * @param parameters its free parameters
     * @param components its mixture components (1 for a DAG circuit)
     * @param variables  its variables (pixels)
     */
    public record Header(long parameters, long components, long variables) {
    }

    /**
     * The first {@code limit} test images of the MNIST folder {@code data}, or all of them when
     * {@code limit} is null.
     *
     * @throws InvalidArgumentException when {@code limit} is not in [1, test size], naming --limit
     */
    public static ImageSet testImages(Path data, Integer limit) {
        return testImages(data, limit, "--limit");
    }

    /**
     * As {@link #testImages(Path, Integer)}, naming the limit {@code flag} as typed in its error.
     *
     * @throws InvalidArgumentException when {@code limit} is not in [1, test size], naming {@code flag}
     */
    public static ImageSet testImages(Path data, Integer limit, String flag) {
        ImageSet test = Mnist.load(data).test();
        return limit == null ? test : first(test, limit, flag);
    }

    /** The first {@code limit} images of {@code images}; a limit outside [1, size] is an error naming --limit. */
    public static ImageSet first(ImageSet images, int limit) {
        return first(images, limit, "--limit");
    }

    /** The first {@code limit} images of {@code images}; a limit outside [1, size] is an error naming {@code flag}. */
    public static ImageSet first(ImageSet images, int limit, String flag) {
        if (limit < 1 || limit > images.size()) {
            throw new InvalidArgumentException(flag + " must be in [1, " + images.size() + "], found " + limit);
        }
        return images.range(0, limit);
    }
}
