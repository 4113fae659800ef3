package io.vqdistill.cli.commands;

import io.vqdistill.circuits.io.CircuitFiles;
import io.vqdistill.cli.options.BackendOptionsMixin;
import io.vqdistill.cli.options.Flags;
import io.vqdistill.cli.options.MemoryBudget;
import io.vqdistill.cli.options.ProgressOptions;
import io.vqdistill.cli.render.Reports;
import io.vqdistill.distill.pipeline.CmCompilation;
import io.vqdistill.distill.pipeline.Session;
import io.vqdistill.distill.pipeline.Sessions;
import io.vqdistill.models.checkpoint.Checkpoint;
import io.vqdistill.models.train.CmRunner;
import io.vqdistill.models.train.CmSpec;
import jakarta.inject.Inject;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code vqdistill compile}: turns a trained baseline model into a circuit file. */
@Command(name = "compile", mixinStandardHelpOptions = true,
        description = "Compiles a trained model that is not distilled into a circuit file.",
        subcommands = {CompileCommand.Cm.class})
public final class CompileCommand implements Runnable {

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(spec.commandLine().getOut());
    }

    /** {@code vqdistill compile cm}. */
    @Command(name = "cm", mixinStandardHelpOptions = true,
            description = "Decodes the M points of a continuous mixture's shifted lattice once and writes a "
                + "shallow-mixture circuit of M components with weights 1/M, which evaluate, sample, inpaint and "
                + "serve accept like any other; its provenance records that it is a continuous mixture.")
    public static final class Cm implements Callable<Integer> {
        @Mixin
        BackendOptionsMixin backendOptions;

        @Mixin
        ProgressOptions progress;

        @Option(names = "--checkpoint", paramLabel = "DIR", required = true,
                description = "the checkpoint folder written by 'train cm'")
        Path checkpoint;

        @Option(names = "--points", paramLabel = "M",
                description = "components (integration points) of the circuit (default: the training points)")
        Integer points;

        @Option(names = "--shift-seed", paramLabel = "N",
                description = "seeds the lattice's shift (default: the shift the trainer measured the test set "
                    + "with)")
        Long shiftSeed;

        @Option(names = "--out", paramLabel = "DIR", required = true, description = "the circuit folder")
        Path out;

        @CommandLine.Spec
        CommandLine.Model.CommandSpec spec;

        @Inject
        Sessions sessions;

        @Override
        public Integer call() {
            if (points != null) {
                Flags.atLeastOne("--points", points);
            }
            Checkpoint config = Checkpoint.read(checkpoint, Checkpoint.KIND_CM);
            CmSpec model = CmSpec.fromJson(config.architecture(), Checkpoint.configFile(checkpoint));
            int m = points == null ? model.points() : points;
            Flags.outputFolder("--out", out, "circuit", CircuitFiles::exists);
            MemoryBudget.distillation("compile cm --points " + m, m, model.variables(), model.head().leafFamily(),
                    "--points");
            try (Session session = sessions.open(backendOptions.choice())) {
                Reports.compiled(spec.commandLine().getOut(), CmCompilation.compile(session, checkpoint, m,
                        shiftSeed == null ? CmRunner.TEST_SHIFT : shiftSeed, out, progress.bars()));
            }
            return 0;
        }
    }
}
