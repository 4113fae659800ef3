package io.vqdistill.cli.commands;

import io.vqdistill.cli.data.CircuitInput;
import io.vqdistill.cli.data.DataOptions;
import io.vqdistill.cli.options.BackendOptionsMixin;
import io.vqdistill.cli.options.Flags;
import io.vqdistill.cli.render.Pictures;
import io.vqdistill.distill.pipeline.Inpainting;
import io.vqdistill.distill.pipeline.Session;
import io.vqdistill.distill.pipeline.Sessions;
import io.vqdistill.models.data.ImageSet;
import jakarta.inject.Inject;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * {@code vqdistill inpaint}: hides part of test images and fills it in with an exact conditional
 * query of a saved circuit ({@link Inpainting}), drawn as pairs of the original and the completion.
 */
@Command(name = "inpaint", mixinStandardHelpOptions = true,
        description = "Hides one part of each of the first test images (--mask: the left, right, top or bottom "
            + "half, or the centre 14x14 square) and fills it in from the circuit: the conditional mean, the most "
            + "probable completion (mode) or a conditional sample. Writes a PNG grid of pairs: the original in "
            + "grey, then the completion with the observed pixels tinted blue and the filled-in ones red.")
public final class InpaintCommand implements Callable<Integer> {

    @Mixin
    BackendOptionsMixin backendOptions;

    @Option(names = "--circuit", paramLabel = "DIR", required = true, description = "the circuit folder")
    Path circuit;

    @Option(names = "--data", paramLabel = "DIR", defaultValue = DataOptions.DEFAULT_DATA,
            description = "the MNIST folder (default: ${DEFAULT-VALUE})")
    Path data;

    @Option(names = "--mask", paramLabel = "MASK", required = true,
            description = "the hidden part: left, right, top, bottom or centre")
    String mask;

    @Option(names = "--query", paramLabel = "Q", defaultValue = "mean",
            description = "mean, mode or sample (default: ${DEFAULT-VALUE})")
    String query;

    @Option(names = "--count", paramLabel = "N", defaultValue = "16",
            description = "test images inpainted, the first N (default: ${DEFAULT-VALUE})")
    int count;

    @Option(names = "--columns", paramLabel = "N", defaultValue = "4",
            description = "pairs per row (default: ${DEFAULT-VALUE})")
    int columns;

    @Option(names = "--scale", paramLabel = "N", defaultValue = "2",
            description = "screen pixels per image pixel (default: ${DEFAULT-VALUE})")
    int scale;

    @Option(names = "--seed", paramLabel = "S", defaultValue = "1",
            description = "seed of the dequantisation noise and of sampling (default: ${DEFAULT-VALUE})")
    long seed;

    @Option(names = "--out", paramLabel = "PNG", required = true, description = "the PNG file to write")
    Path out;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Inject
    Sessions sessions;

    @Override
    public Integer call() {
        CircuitInput.check(circuit);
        Inpainting.Mask m = Flags.choice(Inpainting.Mask.class, mask, "--mask");
        Inpainting.Query q = Flags.choice(Inpainting.Query.class, query, "--query");
        ImageSet test = CircuitInput.testImages(data, null);
        Flags.inRange("--count", count, 1, test.size());
        try (Session session = sessions.open(backendOptions.choice())) {
            Inpainting in = Inpainting.run(session.backend(), session.circuit(circuit), test.range(0, count), m, q,
                    seed);
            Pictures.inpainting(spec.commandLine().getOut(), in, m, q, columns, scale, out);
        }
        return 0;
    }
}
