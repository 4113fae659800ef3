package io.vqdistill.cli.commands;

import io.vqdistill.cli.data.CircuitInput;
import io.vqdistill.cli.data.TestImageOptions;
import io.vqdistill.cli.options.BackendOptionsMixin;
import io.vqdistill.cli.options.ProgressOptions;
import io.vqdistill.distill.pipeline.Classification;
import io.vqdistill.distill.pipeline.Session;
import io.vqdistill.distill.pipeline.Sessions;
import jakarta.inject.Inject;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code vqdistill classify}: test accuracy and confusion matrix of p(c | x) from a class-tagged mixture. */
@Command(name = "classify", mixinStandardHelpOptions = true,
        description = "Classifies the test (or validation) images with a distilled mixture whose components carry "
            + "the class their grid was found under: each image goes to the class of highest p(c | x) = sum of the "
            + "posteriors of that class's components (exact). Prints the accuracy and the confusion matrix (rows: "
            + "true class, columns: predicted).")
public final class ClassifyCommand implements Callable<Integer> {

    @Mixin
    BackendOptionsMixin backendOptions;

    @Mixin
    TestImageOptions testImages;

    @Mixin
    ProgressOptions progress;

    @Option(names = "--circuit", paramLabel = "DIR", required = true, description = "the circuit folder")
    Path circuit;

    @Option(names = "--seed", paramLabel = "S", defaultValue = "0",
            description = "seed of the dequantisation noise (default: ${DEFAULT-VALUE})")
    long seed;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Inject
    Sessions sessions;

    @Override
    public Integer call() {
        CircuitInput.check(circuit);
        Classification result;
        try (Session session = sessions.open(backendOptions.choice())) {
            result = Classification.run(session.backend(), session.circuit(circuit), testImages.load(), seed,
                    progress.bars());
        }
        PrintWriter w = spec.commandLine().getOut();
        w.printf(Locale.ROOT, "%s accuracy %.4f on %d %s images in %.2f s%n", testImages.set(), result.accuracy(),
                result.images(), testImages.set(), result.seconds());
        int[][] m = result.confusion();
        StringBuilder header = new StringBuilder("true\\pred");
        for (int c = 0; c < m.length; c++) {
            header.append(String.format(Locale.ROOT, " %5d", c));
        }
        w.println(header);
        for (int c = 0; c < m.length; c++) {
            StringBuilder row = new StringBuilder(String.format(Locale.ROOT, "%9d", c));
            for (int p = 0; p < m.length; p++) {
                row.append(String.format(Locale.ROOT, " %5d", m[c][p]));
            }
            w.println(row);
        }
        w.flush();
        return 0;
    }
}
