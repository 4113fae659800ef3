package io.vqdistill.cli.commands;

import io.vqdistill.circuits.io.CircuitFiles;
import io.vqdistill.cli.data.CircuitInput;
import io.vqdistill.cli.data.DataOptions;
import io.vqdistill.cli.options.BackendOptionsMixin;
import io.vqdistill.cli.options.Flags;
import io.vqdistill.cli.options.OptimisationOptions;
import io.vqdistill.cli.options.ProgressOptions;
import io.vqdistill.cli.render.Reports;
import io.vqdistill.cli.render.TrainingProgress;
import io.vqdistill.distill.pipeline.DecoderTuningPipeline;
import io.vqdistill.distill.pipeline.Session;
import io.vqdistill.distill.pipeline.Sessions;
import io.vqdistill.models.checkpoint.Checkpoint;
import io.vqdistill.models.data.DataSplit;
import io.vqdistill.models.train.DecoderTuner;
import io.vqdistill.models.train.TrainingSpec;
import jakarta.inject.Inject;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code vqdistill tune}: tunes a VQ-VAE's decoder as the decoder of a distilled mixture ({@link DecoderTuningPipeline}). */
@Command(name = "tune", mixinStandardHelpOptions = true,
        description = "Tunes a VQ-VAE's decoder (and its codebook) as the decoder of a saved mixture of its grids, "
            + "e.g. a distilled one: the grids and weights stay, and the decoder is fitted to the training images by "
            + "maximising the mixture's log-likelihood, each image against its --candidates best components (1: hard "
            + "EM). Stops early on the mixture's validation NLL, keeps the best epoch and measures it on the test "
            + "images. Writes the tuned VQ-VAE to OUT (config.json, weights.safetensors, metrics.csv), an ordinary "
            + "checkpoint; a killed run started again with the same options resumes after its last completed "
            + "epoch. With --circuit-out it then rebuilds the mixture with the tuned decoder. Gaussian leaves.")
public final class TuneCommand implements Callable<Integer> {
    @Mixin
    BackendOptionsMixin backendOptions;

    @Mixin
    DataOptions dataOptions;

    @Mixin
    OptimisationOptions optimisation;

    @Mixin
    ProgressOptions progress;

    @Option(names = "--vqvae", paramLabel = "DIR", required = true, description = "the VQ-VAE checkpoint to start from")
    Path vqvae;

    @Option(names = "--circuit", paramLabel = "DIR", required = true,
            description = "the circuit folder whose grids and weights the decoder is tuned for")
    Path circuit;

    @Option(names = "--out", paramLabel = "DIR", required = true, description = "the tuned VQ-VAE's checkpoint folder")
    Path out;

    @Option(names = "--candidates", paramLabel = "K", defaultValue = "4",
            description = "components per image in each step's loss, its best under the components as the decoder "
                + "made them at the last validation (default: ${DEFAULT-VALUE})")
    int candidates;

    @Option(names = "--circuit-out", paramLabel = "DIR",
            description = "after tuning, write the mixture rebuilt with the tuned decoder to this circuit folder")
    Path circuitOut;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Inject
    Sessions sessions;

    @Override
    public Integer call() {
        Flags.atLeastOne("--candidates", candidates);
        TrainingSpec training = optimisation.spec(1e-3);
        CircuitInput.check(circuit);
        Checkpoint.read(vqvae, Checkpoint.KIND_VQVAE);
        Flags.outputFolder("--out", out, "checkpoint", Checkpoint::exists);
        if (circuitOut != null) {
            Flags.outputFolder("--circuit-out", circuitOut, "circuit", CircuitFiles::exists);
        }
        DataSplit data = dataOptions.split();
        PrintWriter w = spec.commandLine().getOut();
        DataOptions.limitNote("--limit", dataOptions.limit(), data).ifPresent(w::println);
        try (Session session = sessions.open(backendOptions.choice(DecoderTuner.class))) {
            Reports.trainingOn(w, session.backend(), data);
            DecoderTuningPipeline.Result r = DecoderTuningPipeline.run(session, new DecoderTuningPipeline.Request(
                    vqvae, circuit, candidates, training, data, out, circuitOut),
                    new TrainingProgress(w, progress.bars()), progress.bars());
            Reports.trained(w, r.training());
            if (r.circuitOut() != null) {
                w.printf(Locale.ROOT, "rebuilt the mixture with the tuned decoder in %.2f s%nwrote %s/%s and %s/%s%n",
                        r.seconds(), r.circuitOut(), CircuitFiles.JSON, r.circuitOut(), CircuitFiles.TENSORS);
            }
        }
        return 0;
    }
}
