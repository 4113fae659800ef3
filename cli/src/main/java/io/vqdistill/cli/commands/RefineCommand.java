package io.vqdistill.cli.commands;

import io.vqdistill.api.InvalidArgumentException;
import io.vqdistill.circuits.io.CircuitFiles;
import io.vqdistill.cli.data.CircuitInput;
import io.vqdistill.cli.data.DataOptions;
import io.vqdistill.cli.options.BackendOptionsMixin;
import io.vqdistill.cli.options.Flags;
import io.vqdistill.cli.options.ProgressOptions;
import io.vqdistill.cli.render.Reports;
import io.vqdistill.distill.pipeline.Refinement;
import io.vqdistill.distill.pipeline.RefinementRequest;
import io.vqdistill.distill.pipeline.RefinementState;
import io.vqdistill.distill.pipeline.Session;
import io.vqdistill.distill.pipeline.Sessions;
import io.vqdistill.models.data.DataSplit;
import io.vqdistill.models.data.ImageSet;
import jakarta.inject.Inject;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * {@code vqdistill refine}: re-fits a saved mixture's weights and leaves by full-batch EM on the
 * training images, choosing the variance floor and the update kept on the validation images
 * ({@link Refinement}).
 */
@Command(name = "refine", mixinStandardHelpOptions = true,
        description = "Refines a saved shallow mixture (e.g. a distilled one) by full-batch EM of its weights and "
            + "leaves on the training images: Gaussian means and variances (each standard deviation at least the "
            + "floor, each variance optionally shrunk towards the pixel's variance over the training images) or "
            + "categorical probabilities (with Dirichlet --smoothing). After each update the validation bits per "
            + "dimension are measured and EM stops after --patience updates without improvement. Every pair of a "
            + "--floor and a --shrinkage is refined so, and the mixture best on the validation images is saved as "
            + "an ordinary circuit with the refinement in its provenance. The test images are never read. With "
            + "--state DIR the progress is saved after every update, and a run started again with the same command "
            + "continues from it.")
public final class RefineCommand implements Callable<Integer> {

    @Mixin
    BackendOptionsMixin backendOptions;

    @Mixin
    DataOptions dataOptions;

    @Mixin
    ProgressOptions progress;

    @Option(names = "--circuit", paramLabel = "DIR", required = true, description = "the circuit folder to refine")
    Path circuit;

    @Option(names = "--out", paramLabel = "DIR", required = true, description = "the circuit folder to write")
    Path out;

    @Option(names = "--epochs", paramLabel = "N", defaultValue = "10",
            description = "at most N EM updates, each over every training image; 0 applies the floor only "
                + "(default: ${DEFAULT-VALUE})")
    int epochs;

    @Option(names = "--floor", paramLabel = "S", split = ",", defaultValue = "0.001",
            description = "Gaussian leaves: candidate floors on the standard deviation, each in (0, 1] "
                + "(default: ${DEFAULT-VALUE}, the decoders' own clamp)")
    List<Double> floors;

    @Option(names = "--shrinkage", paramLabel = "A", split = ",", defaultValue = "0.005",
            description = "Gaussian leaves: candidate strengths, in images, of the shrinkage of every variance "
                + "towards the pixel's variance over the training images, each >= 0 (0: none); a component that "
                + "explains few images then keeps a wide leaf where they happen to agree (default: "
                + "${DEFAULT-VALUE})")
    List<Double> shrinkages;

    @Option(names = "--smoothing", paramLabel = "A", defaultValue = "0.1",
            description = "categorical leaves: the Dirichlet pseudo-count added to every level's count, > 0 "
                + "(default: ${DEFAULT-VALUE})")
    double smoothing;

    @Option(names = "--patience", paramLabel = "N", defaultValue = "2",
            description = "stop after N updates in a row without a better validation score (default: "
                + "${DEFAULT-VALUE})")
    int patience;

    @Option(names = "--train-images", paramLabel = "N",
            description = "fit on the first N training images only (default: all)")
    Integer trainImages;

    @Option(names = "--validation-images", paramLabel = "M",
            description = "choose on the first M validation images only (default: all)")
    Integer validationImages;

    @Option(names = "--seed", paramLabel = "S", defaultValue = "11",
            description = "seed of the training images' dequantisation noise, fixed for every update "
                + "(default: ${DEFAULT-VALUE})")
    long seed;

    @Option(names = "--state", paramLabel = "DIR",
            description = "save the refinement's progress (the finished candidates, the running one's updates and "
                + "the mixtures to continue from) to DIR, replaced atomically after every EM update, and continue "
                + "from DIR when it holds a state, replaying the finished updates' lines; a state made with another "
                + "circuit, other images or other options is refused. DIR is deleted once the circuit is written")
    Path state;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Inject
    Sessions sessions;

    @Override
    public Integer call() {
        Flags.inRange("--epochs", epochs, 0, 10_000);
        Flags.atLeastOne("--patience", patience);
        Flags.positive("--smoothing", smoothing);
        for (double f : floors) {
            if (!(f > 0 && f <= 1)) {
                throw new InvalidArgumentException("--floor must be in (0, 1], found " + f);
            }
        }
        for (double a : shrinkages) {
            if (!(a >= 0) || Double.isInfinite(a)) {
                throw new InvalidArgumentException("--shrinkage must be finite and >= 0, found " + a);
            }
        }
        CircuitInput.check(circuit);
        Flags.outputFolder("--out", out, "circuit", CircuitFiles::exists);
        if (state != null) {
            Flags.outputFolder("--state", state, "refinement state", RefinementState::exists);
            if (state.toAbsolutePath().normalize().equals(out.toAbsolutePath().normalize())) {
                throw new InvalidArgumentException("--state " + state + " is the --out folder: choose another folder"
                        + " for the refinement state");
            }
        }
        DataSplit split = dataOptions.split();
        ImageSet train = trainImages == null ? split.train()
                : CircuitInput.first(split.train(), trainImages, "--train-images");
        ImageSet validation = validationImages == null ? split.validation()
                : CircuitInput.first(split.validation(), validationImages, "--validation-images");
        RefinementRequest request = new RefinementRequest(circuit, train, validation, epochs, floors, shrinkages,
                smoothing, patience, seed, out, state);
        PrintWriter w = spec.commandLine().getOut();
        try (Session session = sessions.open(backendOptions.choice())) {
            Reports.refined(w, Refinement.run(session, request, report -> Reports.refining(w, report),
                    progress.bars()));
        }
        return 0;
    }
}
