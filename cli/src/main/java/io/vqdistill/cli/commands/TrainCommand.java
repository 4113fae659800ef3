package io.vqdistill.cli;

import io.vqdistill.api.Backend;
import io.vqdistill.api.model.ImageShape;
import io.vqdistill.api.model.LatentShape;
import io.vqdistill.models.checkpoint.Checkpoint;
import io.vqdistill.models.data.DataSplit;
import io.vqdistill.models.train.DecoderHead;
import io.vqdistill.models.train.PriorSpec;
import io.vqdistill.models.train.PriorTrainer;
import io.vqdistill.models.train.TrainingReport;
import io.vqdistill.models.train.TrainingSpec;
import io.vqdistill.models.train.VqVaeSpec;
import io.vqdistill.models.train.VqVaeTrainer;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine;

/** {@code vqdistill train}: fits the networks the method distils from. */
@Command(name = "train", mixinStandardHelpOptions = true,
        description = "Trains the VQ-VAE and the class-conditional prior on MNIST.",
        subcommands = {TrainCommand.VqVae.class, TrainCommand.Prior.class})
final class TrainCommand implements Runnable {

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(spec.commandLine().getOut());
    }

    /** Optimisation options shared by both networks; defaults differ, so they are filled in per command. */
    static final class Optimisation {
        @Option(names = "--lr", paramLabel = "RATE", description = "Adam's learning rate (default: 1e-3 for the"
                + " VQ-VAE, 3e-4 for the prior)")
        Double learningRate;

        @Option(names = "--batch", paramLabel = "N", defaultValue = "128", description = "batch size (default:"
                + " ${DEFAULT-VALUE})")
        int batch;

        @Option(names = "--epochs", paramLabel = "N", defaultValue = "100", description = "at most this many epochs"
                + " (default: ${DEFAULT-VALUE})")
        int epochs;

        @Option(names = "--patience", paramLabel = "N", defaultValue = "15", description = "stop after N epochs"
                + " without a better validation loss (default: ${DEFAULT-VALUE})")
        int patience;

        @Option(names = "--seed", paramLabel = "N", defaultValue = "1", description = "seeds initialisation,"
                + " shuffling and dequantisation noise (default: ${DEFAULT-VALUE})")
        long seed;

        TrainingSpec spec(double defaultLearningRate) {
            return new TrainingSpec(learningRate == null ? defaultLearningRate : learningRate, batch, epochs, patience,
                    seed);
        }
    }

    /** Runs a training and prints its report. */
    static int report(PrintWriter out, TrainingReport r) {
        out.printf(Locale.ROOT, "checkpoint %s: %d epochs (best %d%s), %s%n", r.checkpoint(), r.epochs(), r.bestEpoch(),
                r.stoppedEarly() ? ", stopped early" : "", ProgressListener.clock(r.seconds()));
        for (Map.Entry<String, Double> e : r.metrics().entrySet()) {
            out.printf(Locale.ROOT, "  %-22s %.6g%n", e.getKey(), e.getValue());
        }
        out.flush();
        return 0;
    }

    /** {@code vqdistill train vqvae}. */
    @Command(name = "vqvae", mixinStandardHelpOptions = true,
            description = "Trains a VQ-VAE (Gaussian or categorical decoder) on the 50,000 training images, stops "
                + "early on the 10,000 validation images, keeps the best epoch and measures it on the test images. "
                + "Writes OUT/config.json, OUT/weights.safetensors (PyTorch layout) and OUT/metrics.csv; a killed "
                + "run started again with the same options resumes after its last completed epoch.")
    static final class VqVae implements Callable<Integer> {
        @Mixin
        BackendOptionsMixin backendOptions;

        @Mixin
        DataOptions dataOptions;

        @Mixin
        Optimisation optimisation;

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

        @Option(names = "--beta", paramLabel = "B", description = "commitment loss weight (default: 10)")
        Double beta;

        @CommandLine.Spec
        CommandLine.Model.CommandSpec spec;

        @Override
        public Integer call() {
            VqVaeSpec d = VqVaeSpec.defaults(ImageShape.MNIST, new LatentShape(grid, grid, codebook),
                    DecoderHead.parse(head));
            VqVaeSpec model = new VqVaeSpec(d.image(), d.latent(), dim == null ? d.embeddingDim() : dim,
                    channels == null ? d.channels() : channels, resBlocks == null ? d.residualBlocks() : resBlocks,
                    d.head(), beta == null ? d.beta() : beta);
            TrainingSpec training = optimisation.spec(1e-3);
            DataSplit data = dataOptions.split();
            PrintWriter w = spec.commandLine().getOut();
            try (Backend backend = backendOptions.injector(VqVaeTrainer.class).getInstance(Backend.class)) {
                VqVaeTrainer trainer = Capabilities.require(backend, VqVaeTrainer.class, "train a VQ-VAE");
                w.printf("training on %s (%s)%n%s%n", backend.name(), backend.version(), data.description());
                return report(w, trainer.trainVqVae(model, training, data, out,
                        new ProgressListener(w, System.console() != null)));
            }
        }
    }

    /** {@code vqdistill train prior}. */
    @Command(name = "prior", mixinStandardHelpOptions = true,
            description = "Trains the class-conditional gated PixelCNN on the code grids a VQ-VAE checkpoint assigns "
                + "to the training images, stops early on the validation grids and measures the test grids. "
                + "Use the same --data and --split-seed as for the VQ-VAE.")
    static final class Prior implements Callable<Integer> {
        @Mixin
        BackendOptionsMixin backendOptions;

        @Mixin
        DataOptions dataOptions;

        @Mixin
        Optimisation optimisation;

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

        @Override
        public Integer call() {
            Checkpoint vq = Checkpoint.read(vqvae, Checkpoint.KIND_VQVAE);
            LatentShape latent = VqVaeSpec.fromJson(vq.architecture(), Checkpoint.configFile(vqvae)).latent();
            DataSplit data = dataOptions.split();
            if (!vq.provenance().data().equals(data.description())) {
                throw new IllegalArgumentException("the VQ-VAE in " + vqvae + " was trained on '" + vq.provenance().data()
                        + "', but these options give '" + data.description() + "': use the same --data, --split-seed"
                        + " and --limit");
            }
            PriorSpec model = new PriorSpec(latent, data.train().numClasses(), layers, channels, headHidden, firstKernel,
                    kernel);
            TrainingSpec training = optimisation.spec(3e-4);
            PrintWriter w = spec.commandLine().getOut();
            try (Backend backend = backendOptions.injector(PriorTrainer.class).getInstance(Backend.class)) {
                PriorTrainer trainer = Capabilities.require(backend, PriorTrainer.class, "train a prior");
                w.printf("training on %s (%s)%n%s%n", backend.name(), backend.version(), data.description());
                return report(w, trainer.trainPrior(model, training, vqvae, data, out,
                        new ProgressListener(w, System.console() != null)));
            }
        }
    }
}
