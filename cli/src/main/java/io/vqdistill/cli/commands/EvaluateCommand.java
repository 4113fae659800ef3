package io.vqdistill.cli.commands;

import io.vqdistill.api.circuit.Precision;
import io.vqdistill.cli.data.CircuitInput;
import io.vqdistill.cli.data.TestImageOptions;
import io.vqdistill.cli.options.BackendOptionsMixin;
import io.vqdistill.cli.options.PrecisionOption;
import io.vqdistill.cli.options.ProgressOptions;
import io.vqdistill.cli.render.Reports;
import io.vqdistill.distill.pipeline.CircuitEvaluation;
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

/** {@code vqdistill evaluate}: the test-set bits per dimension of a saved circuit ({@link CircuitEvaluation}). */
@Command(name = "evaluate", mixinStandardHelpOptions = true,
        description = "Measures a saved circuit's bits per dimension on the MNIST test (or validation) images: "
            + "mean(-log2 p(x))/784 + 8 on pixels dequantised to (p+u)/256 with a fixed seed (Gaussian leaves), "
            + "mean(-log2 p(x))/784 on the levels (categorical leaves).")
public final class EvaluateCommand implements Callable<Integer> {

    @Mixin
    BackendOptionsMixin backendOptions;

    @Mixin
    TestImageOptions testImages;

    @Mixin
    ProgressOptions progress;

    @Mixin
    PrecisionOption precision;

    @Option(names = "--circuit", paramLabel = "DIR", required = true, description = "the circuit folder")
    Path circuit;

    @Option(names = "--seed", paramLabel = "S", defaultValue = "" + CircuitEvaluation.DEFAULT_SEED,
            description = "seed of the dequantisation noise (default: ${DEFAULT-VALUE})")
    long seed;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Inject
    Sessions sessions;

    @Override
    public Integer call() {
        Precision chosen = precision.precision();
        CircuitInput.check(circuit);
        ImageSet test = testImages.load();
        try (Session session = sessions.open(backendOptions.choice())) {
            Reports.evaluated(spec.commandLine().getOut(), testImages.set(),
                    CircuitEvaluation.of(session.circuit(circuit), test, seed, chosen, progress.bars()));
        }
        return 0;
    }
}
