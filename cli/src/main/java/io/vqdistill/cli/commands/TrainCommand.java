package io.vqdistill.cli.commands;

import io.vqdistill.api.InvalidArgumentException;
import io.vqdistill.api.model.ImageShape;
import io.vqdistill.circuits.io.CircuitFiles;
import io.vqdistill.circuits.layered.LayeredSpec;
import io.vqdistill.cli.data.DataOptions;
import io.vqdistill.cli.options.BackendOptionsMixin;
import io.vqdistill.cli.options.Flags;
import io.vqdistill.cli.options.MemoryBudget;
import io.vqdistill.cli.options.NetworkSpecs;
import io.vqdistill.cli.options.OptimisationOptions;
import io.vqdistill.cli.options.ProgressOptions;
import io.vqdistill.cli.render.Reports;
import io.vqdistill.cli.render.TrainingProgress;
import io.vqdistill.distill.pipeline.CmCompilation;
import io.vqdistill.distill.pipeline.EinetTraining;
import io.vqdistill.distill.pipeline.ModelTraining;
import io.vqdistill.distill.pipeline.Session;
import io.vqdistill.distill.pipeline.Sessions;
import io.vqdistill.models.checkpoint.Checkpoint;
import io.vqdistill.models.data.DataSplit;
import io.vqdistill.models.train.ClassifierSpec;
import io.vqdistill.models.train.ClassifierTrainer;
import io.vqdistill.models.train.CmDecoder;
import io.vqdistill.models.train.CmRule;
import io.vqdistill.models.train.CmRunner;
import io.vqdistill.models.train.CmSpec;
import io.vqdistill.models.train.CmTrainer;
import io.vqdistill.models.train.DecoderHead;
import io.vqdistill.models.train.PriorSpec;
import io.vqdistill.models.train.PriorTrainer;
import io.vqdistill.models.train.TrainingSpec;
import io.vqdistill.models.train.VqVaeSpec;
import io.vqdistill.models.train.VqVaeTrainer;
import jakarta.inject.Inject;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine;

/** {@code vqdistill train}: fits the networks the method distils from. */
@Command(name = "train", mixinStandardHelpOptions = true,
        description = "Trains the VQ-VAE, the class-conditional prior and the image classifier on MNIST, or the "
            + "continuous-mixture and Einsum-network baselines.",
        subcommands = {TrainCommand.VqVae.class, TrainCommand.Prior.class, TrainCommand.ImageClassifier.class,
            TrainCommand.Cm.class, TrainCommand.Einet.class})
public final class TrainCommand implements Runnable {

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(spec.commandLine().getOut());
    }

    /** {@code vqdistill train vqvae}. */
    @Command(name = "vqvae", mixinStandardHelpOptions = true,
            description = "Trains a VQ-VAE (Gaussian or categorical decoder) on the 50,000 training images, stops "
                + "early on the 10,000 validation images, keeps the best epoch and measures it on the test images. "
                + "Writes OUT/config.json, OUT/weights.safetensors (PyTorch layout) and OUT/metrics.csv; a killed "
                + "run started again with the same options resumes after its last completed epoch.")
    public static final class VqVae implements Callable<Integer> {
        @Mixin
        BackendOptionsMixin backendOptions;

        @Mixin
        DataOptions dataOptions;

        @Mixin
        OptimisationOptions optimisation;

        @Mixin
        ProgressOptions progress;

        @Option(names = "--out", paramLabel = "DIR", required = true, description = "the checkpoint folder")
        Path out;

        @Option(names = "--grid", paramLabel = "SIDE", defaultValue = "4",
                description = "side of the square code grid: 2, 4 or 7 (default: ${DEFAULT-VALUE})")
        int grid;

        @Option(names = "--codebook", paramLabel = "K", defaultValue = "512",
                description = "number of codebook vectors (default: ${DEFAULT-VALUE})")
        int codebook;

        @Option(names = "--dim", paramLabel = "D", description = "size of a codebook vector (default: 64)")
        Integer dim;

        @Option(names = "--channels", paramLabel = "C", split = ",",
                description = "channels of each downsampling stage, e.g. 32,64,64 (default: 32 then 64)")
        List<Integer> channels;

        @Option(names = "--res-blocks", paramLabel = "N", description = "residual blocks (default: 2)")
        Integer resBlocks;

        @Option(names = "--head", paramLabel = "HEAD", defaultValue = "gaussian",
                description = "decoder output: gaussian or categorical (default: ${DEFAULT-VALUE})")
        String head;

        @Option(names = "--beta", paramLabel = "B",
                description = "commitment loss weight, >= 0 (default: 10, the paper's; the VQ-VAE paper uses 0.25)")
        Double beta;

        @Option(names = "--ema-decay", paramLabel = "G",
                description = "train the codebook by exponential moving averages with decay G in (0, 1), e.g. 0.99,"
                    + " instead of the gradient; the loss then has no codebook term (default: off)")
        Double emaDecay;

        @Option(names = "--dead-code-steps", paramLabel = "S",
                description = "restart every code no encoder output was assigned to for S steps at a random encoder"
                    + " output of the current batch (default: off)")
        Integer deadCodeSteps;

        @Option(names = "--kmeans-init", paramLabel = "I",
                description = "start the codebook from I Lloyd iterations of k-means on the encoder outputs of the"
                    + " first --kmeans-batches training batches (default: off, a random codebook)")
        Integer kmeansInit;

        @Option(names = "--kmeans-batches", paramLabel = "B",
                description = "training batches --kmeans-init clusters (default: 10)")
        Integer kmeansBatches;

        @CommandLine.Spec
        CommandLine.Model.CommandSpec spec;

        @Inject
        Sessions sessions;

        @Override
        public Integer call() {
            VqVaeSpec model = NetworkSpecs.vqVae(grid, codebook, dim, channels, resBlocks, head, beta)
                    .withCodebook(NetworkSpecs.codebookTraining(emaDecay, deadCodeSteps, kmeansInit, kmeansBatches));
            TrainingSpec training = optimisation.spec(1e-3);
            Flags.outputFolder("--out", out, "checkpoint", Checkpoint::exists);
            DataSplit data = dataOptions.split();
            int batch = Math.min(training.batchSize(), data.train().size());
            MemoryBudget.training("train vqvae --batch " + training.batchSize(), batch, model.image().pixels(),
                    model.channels().stream().mapToInt(Integer::intValue).sum() + model.embeddingDim());
            PrintWriter w = spec.commandLine().getOut();
            DataOptions.limitNote("--limit", dataOptions.limit(), data).ifPresent(w::println);
            try (Session session = sessions.open(backendOptions.choice(VqVaeTrainer.class))) {
                Reports.trainingOn(w, session.backend(), data);
                Reports.trained(w, ModelTraining.vqVae(session, model, training, data, out,
                        new TrainingProgress(w, progress.bars())));
            }
            return 0;
        }
    }

    /** {@code vqdistill train prior}. */
    @Command(name = "prior", mixinStandardHelpOptions = true,
            description = "Trains the class-conditional gated PixelCNN on the code grids a VQ-VAE checkpoint assigns "
                + "to the training images, stops early on the validation grids and measures the test grids. "
                + "Use the same --data and --split-seed as for the VQ-VAE.")
    public static final class Prior implements Callable<Integer> {
        @Mixin
        BackendOptionsMixin backendOptions;

        @Mixin
        DataOptions dataOptions;

        @Mixin
        OptimisationOptions optimisation;

        @Mixin
        ProgressOptions progress;

        @Option(names = "--vqvae", paramLabel = "DIR", required = true, description = "the VQ-VAE checkpoint folder")
        Path vqvae;

        @Option(names = "--out", paramLabel = "DIR", required = true, description = "the prior's checkpoint folder")
        Path out;

        @Option(names = "--layers", paramLabel = "N", defaultValue = "10",
                description = "gated layers (default: ${DEFAULT-VALUE})")
        int layers;

        @Option(names = "--channels", paramLabel = "C", defaultValue = "64",
                description = "features per stack (default: ${DEFAULT-VALUE})")
        int channels;

        @Option(names = "--head-hidden", paramLabel = "N", defaultValue = "512",
                description = "hidden features of the output head (default: ${DEFAULT-VALUE})")
        int headHidden;

        @Option(names = "--first-kernel", paramLabel = "K", defaultValue = "7",
                description = "kernel of the mask-A first layer (default: ${DEFAULT-VALUE})")
        int firstKernel;

        @Option(names = "--kernel", paramLabel = "K", defaultValue = "3",
                description = "kernel of the mask-B layers (default: ${DEFAULT-VALUE})")
        int kernel;

        @CommandLine.Spec
        CommandLine.Model.CommandSpec spec;

        @Inject
        Sessions sessions;

        @Override
        public Integer call() {
            NetworkSpecs.checkPrior(layers, channels, headHidden, firstKernel, kernel);
            TrainingSpec training = optimisation.spec(3e-4);
            NetworkSpecs.requireVqVae("--vqvae", vqvae);
            Flags.outputFolder("--out", out, "checkpoint", Checkpoint::exists);
            DataSplit data = dataOptions.split();
            PriorSpec model = NetworkSpecs.prior(vqvae, data, layers, channels, headHidden, firstKernel, kernel);
            int batch = Math.min(training.batchSize(), data.train().size());
            MemoryBudget.training("train prior --batch " + training.batchSize(), batch, model.latent().positions(),
                    2L * layers * channels);
            PrintWriter w = spec.commandLine().getOut();
            DataOptions.limitNote("--limit", dataOptions.limit(), data).ifPresent(w::println);
            try (Session session = sessions.open(backendOptions.choice(PriorTrainer.class))) {
                Reports.trainingOn(w, session.backend(), data);
                Reports.trained(w, ModelTraining.prior(session, model, training, vqvae, data, out,
                        new TrainingProgress(w, progress.bars())));
            }
            return 0;
        }
    }

    /** {@code vqdistill train einet}. */
    @Command(name = "einet", mixinStandardHelpOptions = true,
            description = "Trains an Einsum network (a Poon-Domingos circuit of I input distributions per leaf region "
                + "and K sums per region, evaluated as batched tensor products) by stochastic EM on the 50,000 "
                + "training images, stops early on the 10,000 validation images and keeps the best epoch. Writes a "
                + "circuit folder that evaluate, sample --draw pixels, inpaint and serve read, with metrics.csv and "
                + "the last epoch in OUT/last; a killed run started again with the same options resumes.")
    public static final class Einet implements Callable<Integer> {
        @Mixin
        BackendOptionsMixin backendOptions;

        @Mixin
        DataOptions dataOptions;

        @Mixin
        ProgressOptions progress;

        @Option(names = "--out", paramLabel = "DIR", required = true, description = "the circuit folder")
        Path out;

        @Option(names = "--pieces", paramLabel = "P", split = ",", defaultValue = "7",
                description = "split a region at multiples of these sizes along each axis (default: ${DEFAULT-VALUE};"
                    + " the paper: 7, or 4,7)")
        List<Integer> pieces;

        @Option(names = "--leaves", paramLabel = "I", defaultValue = "10",
                description = "input distributions per leaf region (default: ${DEFAULT-VALUE})")
        int leaves;

        @Option(names = "--sums", paramLabel = "K", defaultValue = "10",
                description = "sum units per region (default: ${DEFAULT-VALUE})")
        int sums;

        @Option(names = "--head", paramLabel = "HEAD", defaultValue = "gaussian",
                description = "leaves: gaussian (dequantised pixels) or categorical (256 levels) (default:"
                    + " ${DEFAULT-VALUE})")
        String head;

        @Option(names = "--min-std", paramLabel = "S", defaultValue = "" + EinetTraining.DEFAULT_MIN_STD,
                description = "gaussian leaves: smallest standard deviation (default: ${DEFAULT-VALUE})")
        double minStd;

        @Option(names = "--max-std", paramLabel = "S", defaultValue = "" + EinetTraining.DEFAULT_MAX_STD,
                description = "gaussian leaves: largest standard deviation (default: ${DEFAULT-VALUE})")
        double maxStd;

        @Option(names = "--pseudo-count", paramLabel = "C", defaultValue = "" + EinetTraining.DEFAULT_PSEUDO_COUNT,
                description = "categorical leaves: added to every level's expected count (default: ${DEFAULT-VALUE})")
        double pseudoCount;

        @Option(names = "--batch", paramLabel = "N", defaultValue = "100",
                description = "images per E-step (default: ${DEFAULT-VALUE})")
        int batch;

        @Option(names = "--em-frequency", paramLabel = "N", defaultValue = "50",
                description = "batches whose statistics one M-step uses (default: ${DEFAULT-VALUE})")
        int emFrequency;

        @Option(names = "--em-step", paramLabel = "S", defaultValue = "" + EinetTraining.DEFAULT_EM_STEP,
                description = "step size of the stepwise M-step, in (0, 1] (default: ${DEFAULT-VALUE})")
        double emStep;

        @Option(names = "--epochs", paramLabel = "N", defaultValue = "100",
                description = "at most this many epochs (default: ${DEFAULT-VALUE})")
        int epochs;

        @Option(names = "--patience", paramLabel = "N", defaultValue = "15",
                description = "stop after N epochs without a better validation BPD (default: ${DEFAULT-VALUE})")
        int patience;

        @Option(names = "--seed", paramLabel = "N", defaultValue = "1",
                description = "seeds initialisation, order and dequantisation noise (default: ${DEFAULT-VALUE})")
        long seed;

        @CommandLine.Spec
        CommandLine.Model.CommandSpec spec;

        @Inject
        Sessions sessions;

        @Override
        public Integer call() {
            Flags.atLeastOne("--leaves", leaves);
            Flags.atLeastOne("--sums", sums);
            Flags.atLeastOne("--batch", batch);
            Flags.atLeastOne("--em-frequency", emFrequency);
            Flags.atLeastOne("--epochs", epochs);
            Flags.atLeastOne("--patience", patience);
            if (!head.equals("gaussian") && !head.equals("categorical")) {
                throw new InvalidArgumentException("--head must be gaussian or categorical, found '" + head + "'");
            }
            if (!(emStep > 0 && emStep <= 1)) {
                throw new InvalidArgumentException("--em-step must be in (0, 1], found " + emStep);
            }
            for (int p : pieces) {
                if (p < 1 || p > 28) {
                    throw new InvalidArgumentException("--pieces must be sizes in [1, 28], found " + p);
                }
            }
            if (!(minStd > 0) || !(maxStd >= minStd) || Double.isInfinite(maxStd)) {
                throw new InvalidArgumentException("--min-std and --max-std need 0 < min <= max, found " + minStd
                        + " and " + maxStd);
            }
            if (!(pseudoCount >= 0) || Double.isInfinite(pseudoCount)) {
                throw new InvalidArgumentException("--pseudo-count must be finite and >= 0, found " + pseudoCount);
            }
            Flags.outputFolder("--out", out, "Einsum network", d -> CircuitFiles.exists(d)
                    || CircuitFiles.exists(d.resolve(EinetTraining.LAST)));
            DataSplit data = dataOptions.split();
            ImageShape image = data.train().shape();
            EinetTraining.Spec training = new EinetTraining.Spec(new LayeredSpec(image.height(), image.width(),
                    pieces.stream().mapToInt(Integer::intValue).toArray(), leaves, sums), head, minStd, maxStd,
                    pseudoCount, batch, emFrequency, emStep, epochs, patience, seed);
            PrintWriter w = spec.commandLine().getOut();
            DataOptions.limitNote("--limit", dataOptions.limit(), data).ifPresent(w::println);
            try (Session session = sessions.open(backendOptions.choice())) {
                Reports.trainingOn(w, session.backend(), data);
                w.println(training.describe());
                Reports.trained(w, EinetTraining.train(session.backend(), training, data, out,
                        new TrainingProgress(w, progress.bars())));
            }
            return 0;
        }
    }

    /** {@code vqdistill train classifier}. */
    @Command(name = "classifier", mixinStandardHelpOptions = true,
            description = "Trains the image classifier that labels the models' samples (the class histograms of "
                + "reproduce): convolution stages of kernel 5 and stride 2, a hidden layer and a softmax. Stops early "
                + "on the validation images and measures test accuracy.")
    public static final class ImageClassifier implements Callable<Integer> {
        @Mixin
        BackendOptionsMixin backendOptions;

        @Mixin
        DataOptions dataOptions;

        @Mixin
        OptimisationOptions optimisation;

        @Mixin
        ProgressOptions progress;

        @Option(names = "--out", paramLabel = "DIR", required = true, description = "the checkpoint folder")
        Path out;

        @Option(names = "--channels", paramLabel = "C", split = ",", defaultValue = "16,32",
                description = "channels of each convolution stage (default: ${DEFAULT-VALUE})")
        List<Integer> channels;

        @Option(names = "--hidden", paramLabel = "N", defaultValue = "128",
                description = "hidden units (default: ${DEFAULT-VALUE})")
        int hidden;

        @CommandLine.Spec
        CommandLine.Model.CommandSpec spec;

        @Inject
        Sessions sessions;

        @Override
        public Integer call() {
            for (int c : channels) {
                Flags.atLeastOne("--channels", c);
            }
            Flags.atLeastOne("--hidden", hidden);
            TrainingSpec training = optimisation.spec(1e-3);
            Flags.outputFolder("--out", out, "checkpoint", Checkpoint::exists);
            DataSplit data = dataOptions.split();
            ClassifierSpec model = new ClassifierSpec(ImageShape.MNIST, data.train().numClasses(), channels, hidden);
            int batch = Math.min(training.batchSize(), data.train().size());
            MemoryBudget.training("train classifier --batch " + training.batchSize(), batch, model.image().pixels(),
                    channels.stream().mapToInt(Integer::intValue).sum());
            PrintWriter w = spec.commandLine().getOut();
            DataOptions.limitNote("--limit", dataOptions.limit(), data).ifPresent(w::println);
            try (Session session = sessions.open(backendOptions.choice(ClassifierTrainer.class))) {
                Reports.trainingOn(w, session.backend(), data);
                Reports.trained(w, ModelTraining.classifier(session, model, training, data, out,
                        new TrainingProgress(w, progress.bars())));
            }
            return 0;
        }
    }

    /** The choices of {@code train cm --decoder}. */
    enum CmDecoderKind {
        MLP, CONV
    }

    /** {@code vqdistill train cm}. */
    @Command(name = "cm", mixinStandardHelpOptions = true,
            description = "Trains a continuous mixture (Correia et al., AAAI 2023): a decoder (an MLP, or a "
                + "convolutional network with BatchNorm and a residual block) from z in R^d "
                + "(N(0, I)) to per-pixel leaves, fitted by maximising the log-likelihood of the finite mixture over "
                + "the M points of a randomly shifted rank-1 lattice (a new shift every step). Stops early on the "
                + "validation images, keeps the best epoch and measures it on the test images. Writes "
                + "OUT/config.json, OUT/weights.safetensors and OUT/metrics.csv; a killed run started again with the "
                + "same options resumes after its last completed epoch. With --circuit-out it then compiles the "
                + "decoder into a shallow-mixture circuit (see 'compile cm').")
    public static final class Cm implements Callable<Integer> {
        @Mixin
        BackendOptionsMixin backendOptions;

        @Mixin
        DataOptions dataOptions;

        @Mixin
        OptimisationOptions optimisation;

        @Mixin
        ProgressOptions progress;

        @Option(names = "--out", paramLabel = "DIR", required = true, description = "the checkpoint folder")
        Path out;

        @Option(names = "--points", paramLabel = "M", defaultValue = "1024",
                description = "integration points per training step and for validation (default: ${DEFAULT-VALUE})")
        int points;

        @Option(names = "--rule", paramLabel = "RULE", defaultValue = "lse",
                description = "training loss: lse (the mixture's log-likelihood) or top1 (only the best point of "
                    + "each image) (default: ${DEFAULT-VALUE})")
        String rule;

        @Option(names = "--head", paramLabel = "HEAD", defaultValue = "gaussian",
                description = "leaves: gaussian or categorical (default: ${DEFAULT-VALUE})")
        String head;

        @Option(names = "--latent-dim", paramLabel = "D", defaultValue = "16",
                description = "dimension of z (default: ${DEFAULT-VALUE})")
        int latentDim;

        @Option(names = "--decoder", paramLabel = "KIND", defaultValue = "mlp",
                description = "decoder: mlp (--hidden) or conv (--channels; z to a linear layer, a grid of a quarter "
                    + "of the image's side, BatchNorm, a residual block and two transposed convolutions; BatchNorm "
                    + "on the step's points in training, on running statistics after) "
                    + "(default: ${DEFAULT-VALUE})")
        String decoder;

        @Option(names = "--hidden", paramLabel = "W", split = ",", defaultValue = "128,256",
                description = "widths of the MLP decoder's hidden layers (default: ${DEFAULT-VALUE})")
        List<Integer> hidden;

        @Option(names = "--channels", paramLabel = "C", defaultValue = "32",
                description = "feature maps of the conv decoder (default: ${DEFAULT-VALUE})")
        int channels;

        @Option(names = "--circuit-out", paramLabel = "DIR",
                description = "after training, compile the best epoch into a circuit folder")
        Path circuitOut;

        @Option(names = "--circuit-points", paramLabel = "M",
                description = "components of the compiled circuit (default: --points)")
        Integer circuitPoints;

        @CommandLine.Spec
        CommandLine.Model.CommandSpec spec;

        @Inject
        Sessions sessions;

        @Override
        public Integer call() {
            Flags.atLeastOne("--points", points);
            Flags.atLeastOne("--latent-dim", latentDim);
            for (int h : hidden) {
                Flags.atLeastOne("--hidden", h);
            }
            Flags.atLeastOne("--channels", channels);
            CmDecoderKind decoderKind = Flags.choice(CmDecoderKind.class, decoder.toLowerCase(Locale.ROOT),
                    "--decoder");
            if (circuitPoints != null) {
                Flags.atLeastOne("--circuit-points", circuitPoints);
            }
            DecoderHead leaves = Flags.choice(DecoderHead.class, head.toLowerCase(Locale.ROOT), "--head");
            CmRule trainingRule = Flags.choice(CmRule.class, rule.toLowerCase(Locale.ROOT), "--rule");
            TrainingSpec training = optimisation.spec(1e-3);
            Flags.outputFolder("--out", out, "checkpoint", Checkpoint::exists);
            if (circuitOut != null) {
                Flags.outputFolder("--circuit-out", circuitOut, "circuit", CircuitFiles::exists);
            }
            DataSplit data = dataOptions.split();
            CmSpec model = new CmSpec(data.train().shape(), latentDim, decoderKind == CmDecoderKind.CONV
                    ? new CmDecoder.Conv(channels) : new CmDecoder.Mlp(hidden), leaves, points, trainingRule);
            int batch = Math.min(training.batchSize(), data.train().size());
            // a conv decoder also keeps about C maps of S / 4 pixels per layer and point, four layers, with gradients
            long featureMaps = decoderKind == CmDecoderKind.CONV ? (long) points * channels * model.variables() : 0;
            MemoryBudget.check("train cm --points " + points + " --batch " + training.batchSize(), 0,
                    MemoryBudget.FLOAT * 4 * ((long) points * model.outputsPerPoint() + 2L * batch * points
                            + (long) batch * model.outputsPerPoint() + featureMaps),
                    "for M = " + points + " points of " + model.outputsPerPoint() + " leaf parameters and batches of "
                            + batch + " images", "--points, --batch or --channels");
            PrintWriter w = spec.commandLine().getOut();
            DataOptions.limitNote("--limit", dataOptions.limit(), data).ifPresent(w::println);
            try (Session session = sessions.open(backendOptions.choice(CmTrainer.class))) {
                Reports.trainingOn(w, session.backend(), data);
                Reports.trained(w, ModelTraining.cm(session, model, training, data, out,
                        new TrainingProgress(w, progress.bars())));
                if (circuitOut != null) {
                    Reports.compiled(w, CmCompilation.compile(session, out,
                            circuitPoints == null ? points : circuitPoints, CmRunner.TEST_SHIFT, circuitOut,
                            progress.bars()));
                }
            }
            return 0;
        }
    }
}
