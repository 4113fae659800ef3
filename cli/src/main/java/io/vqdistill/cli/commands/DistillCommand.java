package io.vqdistill.cli.commands;

import io.vqdistill.api.InvalidArgumentException;
import io.vqdistill.circuits.io.CircuitFiles;
import io.vqdistill.cli.data.DataOptions;
import io.vqdistill.cli.options.BackendOptionsMixin;
import io.vqdistill.cli.options.Flags;
import io.vqdistill.cli.options.MemoryBudget;
import io.vqdistill.cli.options.ModelPaths;
import io.vqdistill.cli.options.MixtureOptions;
import io.vqdistill.cli.options.PrecisionOption;
import io.vqdistill.cli.options.ProgressOptions;
import io.vqdistill.cli.render.Reports;
import io.vqdistill.distill.pipeline.DistillationPipeline;
import io.vqdistill.distill.pipeline.DistillationRequest;
import io.vqdistill.distill.pipeline.SearchCatalog;
import io.vqdistill.distill.pipeline.Session;
import io.vqdistill.distill.pipeline.Sessions;
import io.vqdistill.distill.pipeline.WeightingKind;
import io.vqdistill.models.ModelLoader;
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
 * {@code vqdistill distill}: selects N code grids with a named latent search on the prior, decodes
 * them into the components of a shallow mixture and saves it in the circuits file format, with the
 * {@link DistillationPipeline}.
 */
@Command(name = "distill", mixinStandardHelpOptions = true,
        description = "Distils a VQ-VAE and its prior into a shallow mixture circuit: the named latent search "
            + "selects N grids, each is decoded once into its pixel leaves, and the mixture is saved as "
            + "OUT/circuit.json and OUT/circuit.safetensors (a large circuit as shards under "
            + "OUT/circuit.safetensors.index.json). Prints the search and distillation wall times; on a terminal, "
            + "progress bars of the search and the decoding go to standard error.")
public final class DistillCommand implements Callable<Integer> {
    /** The most EM updates {@code --em-iterations} accepts. */
    public static final int MAX_EM_ITERATIONS = 10_000;
    /** The options that matter only to EM weights. */
    private static final List<String> EM_ONLY = List.of("--em-images", "--em-iterations", "--data", "--split-seed",
            "--limit", PrecisionOption.FLAG);
    /** The options that choose the training images, which a data-guided search reads too. */
    private static final List<String> DATA_FLAGS = List.of("--data", "--split-seed", "--limit");

    @Mixin
    BackendOptionsMixin backendOptions;

    @Mixin
    MixtureOptions mixture;

    @Mixin
    DataOptions dataOptions;

    @Mixin
    ProgressOptions progress;

    @Mixin
    PrecisionOption precision;

    @Option(names = "--components", paramLabel = "N", required = true,
            description = "N, the number of grids (mixture components), 1.." + DistillationRequest.MAX_COMPONENTS)
    int components;

    @Option(names = "--weights", paramLabel = "W", defaultValue = "uniform",
            description = "component weights: uniform (1/N), prior (proportional to p(z)) or em (re-estimated on "
                + "training images with the leaves fixed) (default: ${DEFAULT-VALUE})")
    String weights;

    @Option(names = "--em-images", paramLabel = "N", defaultValue = "10000",
            description = "training images EM fits the weights on (default: ${DEFAULT-VALUE}); --data, --split-seed"
                + " and --limit choose them, for --weights em only (and the training images a data-guided search such"
                + " as encoded selects from)")
    int emImages;

    @Option(names = "--em-iterations", paramLabel = "N", defaultValue = "20",
            description = "at most this many EM updates, 1.." + MAX_EM_ITERATIONS + " (default: ${DEFAULT-VALUE})")
    int emIterations;

    @Option(names = "--out", paramLabel = "DIR", required = true, description = "the circuit folder to write")
    Path out;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Inject
    Sessions sessions;

    @Inject
    SearchCatalog searches;

    @Inject
    DistillationPipeline pipeline;

    @Override
    public Integer call() {
        Flags.components(components);
        WeightingKind weighting = Flags.weights(weights);
        boolean dataGuided = mixture.search(searches).usesEncodedImages();
        if (weighting == WeightingKind.EM) {
            Flags.atLeastOne("--em-images", emImages);
            Flags.inRange("--em-iterations", emIterations, 1, MAX_EM_ITERATIONS);
            precision.precision();
        } else {
            CommandLine.ParseResult given = spec.commandLine().getParseResult();
            List<String> emOnly = EM_ONLY.stream().filter(given::hasMatchedOption)
                    .filter(flag -> !(dataGuided && DATA_FLAGS.contains(flag))).toList();
            if (!emOnly.isEmpty()) {
                throw new InvalidArgumentException(String.join(", ", emOnly) + (emOnly.size() == 1 ? " applies"
                        : " apply") + " only to --weights em (they choose the training images EM fits the weights"
                        + " on, and how the mixture is scored while it does); " + (dataGuided ? ""
                        : "--weights " + weights + " reads no images: ") + "drop " + (emOnly.size() == 1 ? "it"
                        : "them"));
            }
        }
        ModelPaths.Checked models = mixture.check(searches, weighting);
        Flags.outputFolder("--out", out, "circuit", CircuitFiles::exists);
        MemoryBudget.distillation("distill --components " + components, components, models.pixels(),
                models.leafFamily(), "--components");
        DistillationRequest.Builder request = mixture.request(components, out);
        if (weighting == WeightingKind.EM) {
            request.em(dataOptions.split().train(), emImages, emIterations).precision(precision.precision());
        } else {
            request.weighting(weighting);
        }
        if (dataGuided) {
            request.searchImages(dataOptions.split().train());
        }
        PrintWriter w = spec.commandLine().getOut();
        try (Session session = sessions.open(backendOptions.choice(ModelLoader.class))) {
            Reports.distilled(w, pipeline.run(session, request.build(), s -> Reports.searched(w, s), progress.bars()));
        }
        return 0;
    }
}
