package io.vqdistill.cli.commands;

import io.vqdistill.cli.data.CircuitInput;
import io.vqdistill.cli.data.TestImageOptions;
import io.vqdistill.cli.options.BackendOptionsMixin;
import io.vqdistill.cli.options.Flags;
import io.vqdistill.cli.options.ProgressOptions;
import io.vqdistill.distill.pipeline.Inpainting;
import io.vqdistill.distill.pipeline.InpaintingScores;
import io.vqdistill.distill.pipeline.Session;
import io.vqdistill.distill.pipeline.Sessions;
import io.vqdistill.formats.AtomicFiles;
import io.vqdistill.models.data.ImageSet;
import jakarta.inject.Inject;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * {@code vqdistill inpaint-score}: inpainting as numbers ({@link InpaintingScores}): per mask, the
 * conditional mean's error and the conditional log-likelihood of the hidden pixels, for a circuit and
 * the mean-image baseline.
 */
@Command(name = "inpaint-score", mixinStandardHelpOptions = true,
        description = "Scores inpainting on the test (or validation) images: for each mask, the mean squared error "
            + "of the conditional mean on the hidden pixels (pixels on the 0..1 scale of level/255) and the "
            + "conditional log-likelihood log p(x_u | x_o) in bits per hidden pixel, for the circuit and for the "
            + "mean-image baseline (independent pixels fitted on the training images); optionally the completions "
            + "of the components' posterior tempered by T (--temperature) and the mean of the k training images "
            + "nearest on the visible pixels (--neighbours), a reference line. Choose T and k with --images validation. "
            + "Prints a table; --csv writes it.")
public final class InpaintScoreCommand implements Callable<Integer> {

    @Mixin
    BackendOptionsMixin backendOptions;

    @Mixin
    TestImageOptions testImages;

    @Mixin
    ProgressOptions progress;

    @Option(names = "--circuit", paramLabel = "DIR", required = true, description = "the circuit folder")
    Path circuit;

    @Option(names = "--mask", paramLabel = "MASK", split = ",", defaultValue = "left,right,top,bottom,centre",
            description = "the hidden parts scored (default: ${DEFAULT-VALUE})")
    List<String> masks;

    @Option(names = "--temperature", paramLabel = "T", split = ",",
            description = "also score the completions of the posterior over the components raised to 1/T and "
                + "renormalised, one row per T (shallow mixtures; T > 1 mixes more components)")
    List<Double> temperatures = List.of();

    @Option(names = "--neighbours", paramLabel = "K", split = ",",
            description = "also score the mean of the K training images nearest on the visible pixels, one row per K "
                + "(a reference line without likelihood)")
    List<Integer> neighbours = List.of();

    @Option(names = "--seed", paramLabel = "S", defaultValue = "0",
            description = "seed of the dequantisation noise (default: ${DEFAULT-VALUE})")
    long seed;

    @Option(names = "--csv", paramLabel = "FILE", description = "also write the table as CSV")
    Path csv;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Inject
    Sessions sessions;

    @Override
    public Integer call() {
        CircuitInput.check(circuit);
        List<Inpainting.Mask> chosen = masks.stream().map(m -> Flags.choice(Inpainting.Mask.class, m, "--mask"))
                .distinct().toList();
        temperatures.forEach(t -> Flags.positive("--temperature", t));
        neighbours.forEach(k -> Flags.atLeastOne("--neighbours", k));
        ImageSet images = testImages.load();
        ImageSet train = testImages.train();
        InpaintingScores scores;
        try (Session session = sessions.open(backendOptions.choice())) {
            scores = InpaintingScores.run(session.backend(), session.circuit(circuit), train, images,
                    new InpaintingScores.Settings(chosen, temperatures, neighbours, seed), progress.bars());
        }
        PrintWriter w = spec.commandLine().getOut();
        w.printf(Locale.ROOT, "inpainting on %d %s images (conditional mean; MSE on 0..1 pixels; conditional BPD "
                + "per hidden pixel) in %.2f s%n", scores.images(), testImages.set(), scores.seconds());
        w.printf("%-7s %-14s %7s %9s %10s %16s%n", "mask", "model", "hidden", "MSE", "MSE ratio", "conditional BPD");
        for (InpaintingScores.Row r : scores.rows()) {
            double base = scores.rows().stream().filter(o -> o.mask() == r.mask()
                    && o.model().equals(InpaintingScores.MEAN_IMAGE)).mapToDouble(InpaintingScores.Row::mse)
                    .findFirst().orElse(Double.NaN);
            w.printf(Locale.ROOT, "%-7s %-14s %7d %9.5f %10.3f %16s%n", r.mask().label(), r.model(),
                    r.hiddenPixels(), r.mse(), r.mse() / base, Double.isNaN(r.conditionalBpd()) ? "-"
                    : String.format(Locale.ROOT, "%.4f", r.conditionalBpd()));
        }
        if (csv != null) {
            AtomicFiles.writeString(csv, scores.csv());
            w.printf("wrote %s%n", csv);
        }
        w.flush();
        return 0;
    }
}
