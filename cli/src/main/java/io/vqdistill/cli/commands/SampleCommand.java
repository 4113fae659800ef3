package io.vqdistill.cli.commands;

import io.vqdistill.cli.data.CircuitInput;
import io.vqdistill.cli.options.BackendOptionsMixin;
import io.vqdistill.cli.options.Flags;
import io.vqdistill.cli.options.MemoryBudget;
import io.vqdistill.cli.render.Pictures;
import io.vqdistill.distill.pipeline.Sampling;
import io.vqdistill.distill.pipeline.Session;
import io.vqdistill.distill.pipeline.Sessions;
import jakarta.inject.Inject;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code vqdistill sample}: a PNG grid of unconditional samples of a saved circuit, in grey. */
@Command(name = "sample", mixinStandardHelpOptions = true,
        description = "Draws samples from a saved circuit and writes them as a grey-scale PNG grid. By default each "
            + "sample is the mean of a mixture component drawn by the weights (how mixture samples are usually "
            + "shown); --draw pixels draws every pixel from the component's leaves instead (the same components "
            + "for the same seed).")
public final class SampleCommand implements Callable<Integer> {
    @Mixin
    BackendOptionsMixin backendOptions;

    @Option(names = "--circuit", paramLabel = "DIR", required = true, description = "the circuit folder")
    Path circuit;

    @Option(names = "--count", paramLabel = "N", defaultValue = "32",
            description = "samples drawn (default: ${DEFAULT-VALUE})")
    int count;

    @Option(names = "--columns", paramLabel = "N", defaultValue = "8",
            description = "images per row (default: ${DEFAULT-VALUE})")
    int columns;

    @Option(names = "--scale", paramLabel = "N", defaultValue = "2",
            description = "screen pixels per image pixel (default: ${DEFAULT-VALUE})")
    int scale;

    @Option(names = "--seed", paramLabel = "S", defaultValue = "1", description = "seed (default: ${DEFAULT-VALUE})")
    long seed;

    @Option(names = "--draw", paramLabel = "WHAT", defaultValue = "means",
            description = "means (of drawn components) or pixels (drawn from the leaves) (default: ${DEFAULT-VALUE})")
    String draw;

    @Option(names = "--out", paramLabel = "PNG", required = true, description = "the PNG file to write")
    Path out;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Inject
    Sessions sessions;

    @Override
    public Integer call() {
        CircuitInput.Header header = CircuitInput.check(circuit);
        Flags.atLeastOne("--count", count);
        Flags.atLeastOne("--columns", columns);
        Flags.atLeastOne("--scale", scale);
        long pixels = Math.max(1, header.variables());
        MemoryBudget.check("sample --count " + count, 3 * MemoryBudget.FLOAT * count * pixels * scale * scale,
                MemoryBudget.FLOAT * count * (2 * pixels + header.components()), "for " + count + " samples of "
                        + pixels + " pixels drawn at scale " + scale, "--count or --scale");
        Sampling.Draw what = Flags.choice(Sampling.Draw.class, draw, "--draw");
        try (Session session = sessions.open(backendOptions.choice())) {
            Pictures.samples(spec.commandLine().getOut(), Sampling.draw(session.circuit(circuit), count, seed, what),
                    columns, scale, seed, out);
        }
        return 0;
    }
}
