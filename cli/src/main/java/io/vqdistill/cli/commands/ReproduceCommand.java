package io.vqdistill.cli.commands;

import io.vqdistill.api.FormatException;
import io.vqdistill.api.InvalidArgumentException;
import io.vqdistill.api.circuit.Circuit;
import io.vqdistill.api.circuit.Precision;
import io.vqdistill.api.model.Classifier;
import io.vqdistill.api.model.ImageShape;
import io.vqdistill.circuits.io.CircuitFiles;
import io.vqdistill.cli.data.CircuitInput;
import io.vqdistill.cli.data.DataOptions;
import io.vqdistill.cli.options.BackendOptionsMixin;
import io.vqdistill.cli.options.Flags;
import io.vqdistill.cli.options.NetworkSpecs;
import io.vqdistill.cli.options.OptimisationOptions;
import io.vqdistill.cli.options.ProgressOptions;
import io.vqdistill.cli.render.Charts;
import io.vqdistill.cli.render.CsvTable;
import io.vqdistill.cli.render.ImageGrid;
import io.vqdistill.cli.render.ProgressBars;
import io.vqdistill.cli.render.Reports;
import io.vqdistill.cli.render.TrainingProgress;
import io.vqdistill.distill.eval.Sweep;
import io.vqdistill.distill.pipeline.ComponentJoints;
import io.vqdistill.distill.pipeline.DistillationPipeline;
import io.vqdistill.distill.pipeline.DistillationRequest;
import io.vqdistill.distill.pipeline.ExactEvaluation;
import io.vqdistill.distill.pipeline.Inpainting;
import io.vqdistill.distill.pipeline.Labelling;
import io.vqdistill.distill.pipeline.ModelTraining;
import io.vqdistill.distill.pipeline.Sampling;
import io.vqdistill.distill.pipeline.Session;
import io.vqdistill.distill.pipeline.Sessions;
import io.vqdistill.distill.pipeline.SearchTuning;
import io.vqdistill.distill.pipeline.SweepPipeline;
import io.vqdistill.distill.pipeline.SweepRequest;
import io.vqdistill.distill.pipeline.WeightingKind;
import io.vqdistill.formats.AtomicFiles;
import io.vqdistill.models.ModelLoader;
import io.vqdistill.models.checkpoint.Checkpoint;
import io.vqdistill.models.data.DataSplit;
import io.vqdistill.models.data.ImageSet;
import io.vqdistill.models.data.Mnist;
import io.vqdistill.models.layout.Parameter;
import io.vqdistill.models.layout.VqVaeLayout;
import io.vqdistill.models.train.ClassifierSpec;
import io.vqdistill.models.train.ClassifierTrainer;
import io.vqdistill.models.train.PriorTrainer;
import io.vqdistill.models.train.TrainingSpec;
import io.vqdistill.models.train.VqVaeSpec;
import io.vqdistill.models.train.VqVaeTrainer;
import jakarta.inject.Inject;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.Callable;
import java.util.stream.Stream;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * {@code vqdistill reproduce}: the paper's experiment end to end at a chosen scale. It trains what
 * is missing (two VQ-VAEs with 4x4 and 2x2 grids, their priors, the image classifier; a finished
 * run is reused, a killed one resumed), runs the experiments (sweeps of DMBS and DMRS over N, the
 * exact model of the 2x2 VQ-VAE, the mixtures the figures query) and writes each figure as PNG with
 * its data as CSV, and {@code summary.md}. An experiment whose output exists is not repeated.
 * Curves from elsewhere join Figure 2 as CSV files (columns {@code parameters,bpd}, optionally
 * {@code label}) in {@code DIR/curves/}, and circuits from elsewhere join Figures 3 and 5 as circuit
 * folders in {@code DIR/circuits/}.
 */
@Command(name = "reproduce", mixinStandardHelpOptions = true,
        description = "Reproduces the paper's figures at a chosen scale: trains what is missing under --dir (VQ-VAEs "
            + "with 4x4 and 2x2 grids, their priors, the classifier; finished runs are reused, killed ones resumed), "
            + "sweeps DMBS and DMRS over N, measures the exact model of the 2x2 VQ-VAE, and writes Figures 2, 3, 5 "
            + "and 6 as PNG and CSV with a summary.md. Extra Figure 2 curves: CSV files (parameters,bpd[,label]) in "
            + "DIR/curves/; extra models for Figures 3 and 5: circuit folders in DIR/circuits/.")
public final class ReproduceCommand implements Callable<Integer> {
    /** The stages, for the progress lines. */
    private static final int STAGES = 7;
    /** The seed of every search, sample and inpainting. */
    private static final long SEED = 1;
    /** The masks of the inpainting figure. */
    private static final List<Inpainting.Mask> MASKS = List.of(Inpainting.Mask.LEFT, Inpainting.Mask.RIGHT,
            Inpainting.Mask.TOP, Inpainting.Mask.BOTTOM, Inpainting.Mask.CENTRE);
    /** Curves of the paper's Figure 2 that this framework does not build yet, by the name a curve file must have. */
    private static final List<Map.Entry<String, String>> BASELINES = List.of(Map.entry("cm",
            "continuous mixtures (CM)"), Map.entry("einet", "EinsumNetworks (EiNet)"));
    /** The scale marker file of a reproduction folder. */
    static final String SCALE_FILE = "scale.txt";

    @Mixin
    BackendOptionsMixin backendOptions;

    @Mixin
    ProgressOptions progress;

    @Option(names = "--scale", paramLabel = "SCALE", defaultValue = "small",
            description = "tiny (seconds, a test), small (minutes) or paper (days on a CPU) (default: ${DEFAULT-VALUE})")
    String scaleName;

    @Option(names = "--dir", paramLabel = "DIR", required = true,
            description = "where the models, experiments, figures and summary go; a run of the same scale resumes")
    Path dir;

    @Option(names = "--data", paramLabel = "DIR", defaultValue = DataOptions.DEFAULT_DATA,
            description = "a folder of MNIST-format data, read only (default: ${DEFAULT-VALUE}; 'vqdistill data "
                + "fetch' fills it)")
    Path data;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Inject
    Sessions sessions;

    @Inject
    DistillationPipeline distillation;

    @Inject
    SweepPipeline sweeps;

    private PrintWriter w;
    private ProgressBars bars;
    private ImageSet testSet;
    private long start;

    /** One VQ-VAE with its prior and the names of its mixtures. */
    private record Source(int grid, Path vqvae, Path prior) {
        String tag() {
            return grid + "x" + grid;
        }
    }

    @Override
    public Integer call() {
        ReproductionScale scale = ReproductionScale.of(scaleName);
        Flags.outputFolder("--dir", dir, "reproduction", d -> true);
        try {
            Mnist.files(data);
        } catch (FormatException e) {
            throw new InvalidArgumentException("--data " + data + ": " + e.getMessage() + "; fill it with 'vqdistill"
                    + " data fetch --data " + data + "'", e);
        }
        Path marker = dir.resolve(SCALE_FILE);
        if (Files.isRegularFile(marker)) {
            String held = read(marker).strip();
            if (!held.equals(scale.name())) {
                throw new InvalidArgumentException("--dir " + dir + " holds a reproduction at scale '" + held
                        + "', not '" + scale.name() + "': choose another folder");
            }
        }
        w = spec.commandLine().getOut();
        bars = progress.bars();
        start = System.nanoTime();
        w.printf("reproduce --scale %s into %s: %s%n", scale.name(), dir, scale.estimate());
        w.flush();
        createFolders();
        AtomicFiles.writeString(marker, scale.name() + "\n");

        DataSplit split = DataOptions.split(data, 0, scale.trainLimit(), "--scale");
        testSet = Mnist.load(data).test();
        ImageSet test = CircuitInput.first(testSet, Math.min(scale.evalImages(), testSet.size()), "--scale");
        Source four = new Source(4, dir.resolve("models/vqvae-4x4"), dir.resolve("models/prior-4x4"));
        Source two = new Source(2, dir.resolve("models/vqvae-2x2"), dir.resolve("models/prior-2x2"));
        Path classifier = dir.resolve("models/classifier");

        stage(1, "VQ-VAEs and priors in " + dir.resolve("models"));
        train(scale, split, four, scale.codebook4(), scale.channels4());
        train(scale, split, two, scale.codebook2(), scale.channels2());
        stage(2, "classifier in " + classifier);
        DataSplit classifierData = DataOptions.split(data, 0, scale.classifierLimit(), "--scale");
        try (Session session = sessions.open(backendOptions.choice(ClassifierTrainer.class))) {
            Reports.trainingOn(w, session.backend(), classifierData);
            Reports.trained(w, ModelTraining.classifier(session, ClassifierSpec.defaults(ImageShape.MNIST,
                    classifierData.train().numClasses()), training(1e-3, scale.classifierEpochs(), scale),
                    classifierData, classifier, new TrainingProgress(w, bars)));
        }

        Map<String, String> summary = new LinkedHashMap<>();
        try (Session session = sessions.open(backendOptions.choice(ModelLoader.class))) {
            stage(3, "sweeps of DMBS and DMRS over N = 2^0 .. 2^" + scale.maxExponent() + " on " + test.size()
                    + " test images");
            List<Charts.Curve> curves = new ArrayList<>();
            for (Source s : List.of(four, two)) {
                curves.add(sweep(session, s, "beam", "DMBS", scale, test));
                curves.add(sweep(session, s, "random", "DMRS", scale, test));
            }
            stage(4, "exact model of the " + two.tag() + " VQ-VAE");
            Charts.Curve exact = exact(session, two, scale, test);
            if (exact != null) {
                curves.add(exact);
            }
            stage(5, "mixtures for the sample, corner and inpainting figures");
            int n = 1 << scale.maxExponent();
            mixture(session, four, "beam", n, dir.resolve("circuits/dmbs-" + four.tag()));
            mixture(session, four, "random", n, dir.resolve("circuits/dmrs-" + four.tag()));
            Path cornerRandom = dir.resolve("corner/dmrs-" + two.tag() + "-4");
            Path cornerTop = dir.resolve("corner/top-" + two.tag() + "-4");
            mixture(session, two, "random", 4, cornerRandom);
            mixture(session, two, "top", 4, cornerTop);

            stage(6, "figures in " + dir.resolve("figures"));
            summary.put("Figure 2", figure2(curves, List.of(four, two)));
            summary.put("Figure 3", figure3(session, scale));
            summary.put("Figure 5", figure5(session, classifier, scale));
            summary.put("Figure 6", figure6(session, cornerRandom, cornerTop, scale));
        }
        stage(7, "summary");
        Path md = dir.resolve("summary.md");
        AtomicFiles.writeString(md, summary(scale, summary));
        w.printf(Locale.ROOT, "reproduce done in %s; wrote %s%n", Reports.clock(seconds()), md);
        w.flush();
        return 0;
    }

    private void createFolders() {
        try {
            for (String f : List.of("models", "sweeps", "exact", "circuits", "corner", "curves", "figures")) {
                Files.createDirectories(dir.resolve(f));
            }
        } catch (IOException e) {
            throw new InvalidArgumentException("--dir " + dir + ": cannot create its folders: " + e.getMessage(), e);
        }
    }

    private static String read(Path file) {
        try {
            return Files.readString(file);
        } catch (IOException e) {
            throw new FormatException(file + ": cannot read: " + e.getMessage(), e);
        }
    }

    private double seconds() {
        return (System.nanoTime() - start) / 1e9;
    }

    private void stage(int n, String what) {
        w.printf("[%d/%d %s] %s%n", n, STAGES, Reports.clock(seconds()), what);
        w.flush();
    }

    private static TrainingSpec training(double learningRate, int epochs, ReproductionScale scale) {
        return new TrainingSpec(learningRate, scale.batch(), epochs, OptimisationOptions.DEFAULT_PATIENCE,
                OptimisationOptions.DEFAULT_SEED);
    }

    /** Trains (or reuses, or resumes) the VQ-VAE and prior of {@code s}. */
    private void train(ReproductionScale scale, DataSplit split, Source s, int codebook, List<Integer> channels) {
        VqVaeSpec model = NetworkSpecs.vqVae(s.grid(), codebook, scale.dim(), channels, scale.resBlocks(), "gaussian",
                null);
        try (Session session = sessions.open(backendOptions.choice(VqVaeTrainer.class))) {
            Reports.trainingOn(w, session.backend(), split);
            Reports.trained(w, ModelTraining.vqVae(session, model, training(1e-3, scale.vqvaeEpochs(), scale), split,
                    s.vqvae(), new TrainingProgress(w, bars)));
        }
        try (Session session = sessions.open(backendOptions.choice(PriorTrainer.class))) {
            Reports.trained(w, ModelTraining.prior(session, NetworkSpecs.prior(s.vqvae(), split, scale.priorLayers(),
                    scale.priorChannels(), scale.priorHeadHidden(), 7, 3), training(3e-4, scale.priorEpochs(), scale),
                    s.vqvae(), split, s.prior(), new TrainingProgress(w, bars)));
        }
    }

    /** The sweep of {@code search} on {@code s} (reused when its CSV exists), as a curve named {@code label}. */
    private Charts.Curve sweep(Session session, Source s, String search, String label, ReproductionScale scale,
            ImageSet test) {
        Path out = dir.resolve("sweeps/" + label.toLowerCase(Locale.ROOT) + "-" + s.tag());
        Path csv = out.resolve(SweepPipeline.CSV);
        if (Files.isRegularFile(csv)) {
            w.println("reusing " + csv);
        } else {
            sweeps.run(session, new SweepRequest(s.vqvae(), s.prior(), search, false, true, SearchTuning.NONE, SEED,
                    scale.maxExponent(),
                    Sweep.Mode.PREFIXES, WeightingKind.UNIFORM, null, Precision.FAST, out), test,
                    new SweepPipeline.Listener() {
                        @Override
                        public void measured(Sweep.Row r) {
                            bars.println(w, String.format(Locale.ROOT, "%s %s N = %6d: %,12d parameters, %.4f bits/dim",
                                    label, s.tag(), r.components(), r.parameters(), r.bitsPerDim()));
                        }
                    }, bars);
        }
        return curve(label + " " + s.tag(), CsvTable.read(csv), true);
    }

    /** A curve of a CSV table with columns parameters and bpd (and optionally label). */
    private static Charts.Curve curve(String name, CsvTable t, boolean line) {
        int p = t.column("parameters");
        int b = t.column("bpd");
        int l = t.column("label");
        if (p < 0 || b < 0 || t.rows().isEmpty()) {
            throw new InvalidArgumentException("curve '" + name + "' needs the columns parameters and bpd and at least"
                    + " one row, found " + t.header() + " with " + t.rows().size() + " rows");
        }
        double[] params = new double[t.rows().size()];
        double[] bpd = new double[params.length];
        String[] labels = l < 0 ? null : new String[params.length];
        for (int i = 0; i < params.length; i++) {
            List<String> r = t.rows().get(i);
            try {
                params[i] = Double.parseDouble(r.get(p));
                bpd[i] = Double.parseDouble(r.get(b));
            } catch (NumberFormatException e) {
                throw new InvalidArgumentException("curve '" + name + "', row " + (i + 1) + ": not a number: " + r, e);
            }
            if (labels != null) {
                labels[i] = r.get(l);
            }
        }
        return new Charts.Curve(name, params, bpd, labels, line);
    }

    /** The exact model of {@code s} where its grids are few enough, as a labelled point; null otherwise. */
    private Charts.Curve exact(Session session, Source s, ReproductionScale scale, ImageSet test) {
        Path csv = dir.resolve("exact/exact-" + s.tag() + ".csv");
        long grids = 1;
        for (int i = 0; i < s.grid() * s.grid(); i++) {
            grids *= scale.codebook2();
        }
        if (grids > ExactEvaluation.MAX_GRIDS) {
            w.printf("the exact model of %s grids with K = %d sums %,d grids, more than %,d: not measured%n", s.tag(),
                    scale.codebook2(), grids, ExactEvaluation.MAX_GRIDS);
            return null;
        }
        if (Files.isRegularFile(csv)) {
            w.println("reusing " + csv);
        } else {
            ExactEvaluation e = ExactEvaluation.run(session, s.vqvae(), s.prior(), test, ExactEvaluation.DEFAULT_CHUNK,
                    plan -> w.printf("exact model: %,d grids of %s%n", plan.components(), plan.shape()), bars);
            // a mixture of G components: G times the leaves of one (a sweep's N = 1 row) and G - 1 free weights
            CsvTable one = CsvTable.read(dir.resolve("sweeps/dmrs-" + s.tag()).resolve(SweepPipeline.CSV));
            long leaves = Long.parseLong(one.rows().get(0).get(one.column("parameters")));
            CsvTable.of("label", "grids", "parameters", "bpd", "seconds")
                    .with("K=" + scale.codebook2(), e.components(), e.components() * leaves + e.components() - 1,
                            e.bitsPerDim(), e.seconds())
                    .write(csv);
            w.printf(Locale.ROOT, "ExM %s K = %d: %.4f bits/dim in %.1f s%n", s.tag(), scale.codebook2(),
                    e.bitsPerDim(), e.seconds());
        }
        return curve("ExM " + s.tag(), CsvTable.read(csv), false);
    }

    /** Distils a mixture of {@code n} grids of {@code s} by {@code search} into {@code out} unless it exists. */
    private void mixture(Session session, Source s, String search, int n, Path out) {
        if (CircuitFiles.exists(out)) {
            w.println("reusing the circuit in " + out);
            return;
        }
        Reports.distilled(w, distillation.run(session, DistillationRequest.builder(s.vqvae(), s.prior(), search, n,
                out).seed(SEED).build(), r -> Reports.searched(w, r), bars));
    }

    /** Every circuit folder under DIR/circuits, by name. */
    private List<Path> circuits() {
        try (Stream<Path> s = Files.list(dir.resolve("circuits"))) {
            return s.filter(p -> !p.getFileName().toString().startsWith(".") && CircuitFiles.exists(p)).sorted()
                    .toList();
        } catch (IOException e) {
            throw new InvalidArgumentException(dir.resolve("circuits") + ": cannot list: " + e.getMessage(), e);
        }
    }

    private Path figure(String name) {
        return dir.resolve("figures").resolve(name);
    }

    /** Figure 2: BPD against parameters for every curve, with the curves of DIR/curves/. */
    private String figure2(List<Charts.Curve> own, List<Source> sources) {
        List<Charts.Curve> curves = new ArrayList<>(own);
        List<String> extra = new ArrayList<>();
        try (Stream<Path> s = Files.list(dir.resolve("curves"))) {
            for (Path f : s.filter(p -> p.getFileName().toString().endsWith(".csv")).sorted().toList()) {
                String name = f.getFileName().toString().replaceFirst("\\.csv$", "");
                curves.add(curve(name, CsvTable.read(f), true));
                extra.add(name.toLowerCase(Locale.ROOT));
            }
        } catch (IOException e) {
            throw new InvalidArgumentException(dir.resolve("curves") + ": cannot list: " + e.getMessage(), e);
        }
        List<Double> sizes = new ArrayList<>();
        CsvTable vqvaes = CsvTable.of("vqvae", "parameters");
        for (Source s : sources) {
            VqVaeSpec vq = NetworkSpecs.requireVqVae("--dir", s.vqvae());
            long p = new VqVaeLayout(vq).trainable().stream().mapToLong(Parameter::size).sum();
            sizes.add((double) p);
            vqvaes = vqvaes.with("VQ-VAE " + s.tag() + " K=" + vq.latent().codebookSize(), p);
        }
        CsvTable data = CsvTable.of("curve", "parameters", "bpd", "label");
        for (Charts.Curve c : curves) {
            for (int i = 0; i < c.parameters().length; i++) {
                data = data.with(c.name(), (long) c.parameters()[i], c.bpd()[i],
                        c.labels() == null ? "" : c.labels()[i]);
            }
        }
        data.write(figure("figure2-bpd.csv"));
        vqvaes.write(figure("figure2-vqvae-sizes.csv"));
        Charts.writePng(Charts.bpdOverlay("Figure 2: test BPD against model size (dotted: source VQ-VAE sizes)",
                curves, sizes), figure("figure2-bpd.png"));
        List<String> missing = new ArrayList<>();
        for (Map.Entry<String, String> b : BASELINES) {
            if (extra.stream().noneMatch(n -> n.startsWith(b.getKey()))) {
                missing.add(b.getValue());
            }
        }
        StringBuilder s = new StringBuilder("figures/figure2-bpd.png, figure2-bpd.csv, figure2-vqvae-sizes.csv.");
        for (Charts.Curve c : curves) {
            double best = Double.POSITIVE_INFINITY;
            int at = 0;
            for (int i = 0; i < c.bpd().length; i++) {
                if (c.bpd()[i] < best) {
                    best = c.bpd()[i];
                    at = i;
                }
            }
            s.append(String.format(Locale.ROOT, "%n- %s: lowest %.4f bits/dim at %,d parameters", c.name(), best,
                    (long) c.parameters()[at]));
        }
        if (!missing.isEmpty()) {
            s.append("\n- missing curves: ").append(String.join(", ", missing))
                    .append(" (add them as DIR/curves/cm*.csv, einet*.csv with columns parameters,bpd)");
        }
        w.println("wrote " + figure("figure2-bpd.png"));
        return s.toString();
    }

    /** Figures 3 and 8: every circuit inpaints the same test images under each mask. */
    private String figure3(Session session, ReproductionScale scale) {
        List<Path> models = circuits();
        ImageSet shown = testSet.range(0, Math.min(scale.inpaintImages(), testSet.size()));
        int k = shown.size();
        int columns = MASKS.size() * k;
        ImageGrid grid = new ImageGrid((models.size() + 1) * columns, columns, 28, 28, 2);
        CsvTable rows = CsvTable.of("row", "model", "leaves", "mask", "test_image", "column");
        int[] levels = shown.levels(range(k));
        for (int m = 0; m < MASKS.size(); m++) {
            for (int i = 0; i < k; i++) {
                int[] one = new int[784];
                System.arraycopy(levels, i * 784, one, 0, 784);
                grid.grey(m * k + i, one);
                rows = rows.with(0, "original", "", MASKS.get(m).label(), i, m * k + i);
            }
        }
        for (int r = 0; r < models.size(); r++) {
            Circuit c = session.circuit(models.get(r));
            String name = models.get(r).getFileName().toString();
            for (int m = 0; m < MASKS.size(); m++) {
                Inpainting in = Inpainting.run(session.backend(), c, shown, MASKS.get(m), Inpainting.Query.MEAN, SEED);
                boolean[] observed = in.observed();
                float[] filled = in.filled();
                for (int i = 0; i < k; i++) {
                    int[] px = new int[784];
                    for (int p = 0; p < 784; p++) {
                        px[p] = observed[p] ? levels[i * 784 + p] : ImageGrid.level(filled[i * 784 + p], in.encoding());
                    }
                    int cell = (r + 1) * columns + m * k + i;
                    grid.tinted(cell, px, observed);
                    rows = rows.with(r + 1, name, c.leafFamily().name(), MASKS.get(m).label(), i, m * k + i);
                }
            }
        }
        grid.write(figure("figure3-inpainting.png"));
        rows.write(figure("figure3-inpainting.csv"));
        w.println("wrote " + figure("figure3-inpainting.png"));
        StringBuilder s = new StringBuilder(String.format(Locale.ROOT, "figures/figure3-inpainting.png, "
                + "figure3-inpainting.csv: row 1 the originals, then one row per model (%s); columns: masks %s, %d "
                + "test images each; observed pixels blue, filled-in (conditional mean) red.",
                String.join(", ", models.stream().map(p -> p.getFileName().toString()).toList()),
                String.join(", ", MASKS.stream().map(Inpainting.Mask::label).toList()), k));
        return s.toString();
    }

    private static int[] range(int n) {
        int[] idx = new int[n];
        for (int i = 0; i < n; i++) {
            idx[i] = i;
        }
        return idx;
    }

    /** Figure 5: the classes of each model's samples, of the test labels and of the classifier on the test set. */
    private String figure5(Session session, Path classifierDir, ReproductionScale scale) {
        ImageSet test = testSet;
        Map<String, long[]> series = new LinkedHashMap<>();
        StringBuilder s = new StringBuilder("figures/figure5-classes.png, figure5-classes.csv.");
        try (Classifier classifier = session.loader().loadClassifier(classifierDir)) {
            int classes = classifier.numClasses();
            series.put("MNIST test labels", Labelling.histogram(test.labels(), classes));
            int[] predicted = Labelling.predict(session.backend(), classifier, test);
            double accuracy = Labelling.accuracy(predicted, test.labels());
            series.put("classifier on MNIST test", Labelling.histogram(predicted, classes));
            s.append(String.format(Locale.ROOT, "%n- classifier test accuracy %.4f on %,d images", accuracy,
                    test.size()));
            for (Path p : circuits()) {
                String name = p.getFileName().toString();
                Sampling samples = Sampling.draw(session.circuit(p), scale.samples(), SEED, Sampling.Draw.MEANS);
                long[] counts = Labelling.histogram(Labelling.predict(session.backend(), classifier, samples), classes);
                series.put(name + " samples", counts);
                s.append(String.format(Locale.ROOT, "%n- %s: %,d samples (component means); %s", name,
                        scale.samples(), spread(counts)));
            }
        }
        CsvTable t = CsvTable.of("series", "class", "count");
        for (Map.Entry<String, long[]> e : series.entrySet()) {
            for (int c = 0; c < e.getValue().length; c++) {
                t = t.with(e.getKey(), c, e.getValue()[c]);
            }
        }
        t.write(figure("figure5-classes.csv"));
        Charts.writePng(Charts.classHistogram("Figure 5: classes of samples as labelled by the classifier", series),
                figure("figure5-classes.png"));
        w.println("wrote " + figure("figure5-classes.png"));
        return s.toString();
    }

    /** The smallest and largest class share of {@code counts}. */
    private static String spread(long[] counts) {
        long total = 0;
        long lo = Long.MAX_VALUE;
        long hi = 0;
        for (long c : counts) {
            total += c;
            lo = Math.min(lo, c);
            hi = Math.max(hi, c);
        }
        return String.format(Locale.ROOT, "class shares from %.1f%% to %.1f%% (uniform: %.1f%%)", 100.0 * lo / total,
                100.0 * hi / total, 100.0 / counts.length);
    }

    /** Figure 6: corner plots of log p(x, z) of 4 random components against the top 4 by p(z). */
    private String figure6(Session session, Path random, Path top, ReproductionScale scale) {
        ImageSet images = testSet.range(0, Math.min(scale.cornerImages(), testSet.size()));
        CsvTable t = CsvTable.of("model", "image", "component", "log_joint");
        List<BufferedImage> panels = new ArrayList<>();
        StringBuilder s = new StringBuilder("figures/figure6-corner.png, figure6-corner.csv (log p(x, z) in nats).");
        int panel = 0;
        for (Path p : List.of(random, top)) {
            String name = p.getFileName().toString();
            ComponentJoints j = ComponentJoints.of(session.circuit(p), images, SEED);
            double[][] columns = new double[j.components()][j.images()];
            String[] names = new String[j.components()];
            for (int z = 0; z < j.components(); z++) {
                names[z] = "log p(x, z" + (z + 1) + ")";
                for (int i = 0; i < j.images(); i++) {
                    columns[z][i] = j.at(i, z);
                    t = t.with(name, i, z, j.at(i, z));
                }
            }
            panels.add(Charts.corner(String.format(Locale.ROOT, "%s: %d components, %d test images (axes from the"
                    + " %.0f%% quantile)", name, j.components(), j.images(), 100 * Charts.CORNER_TAIL),
                    names, columns, Charts.colour(panel == 0 ? 4 : 5)));
            s.append(String.format(Locale.ROOT, "%n- %s: mean pairwise correlation of the components' log p(x, z) "
                    + "%.3f", name, meanCorrelation(columns)));
            panel++;
        }
        t.write(figure("figure6-corner.csv"));
        Charts.writePng(Charts.sideBySide(panels), figure("figure6-corner.png"));
        w.println("wrote " + figure("figure6-corner.png"));
        return s.toString();
    }

    /** The mean Pearson correlation over the pairs of {@code columns}; NaN for fewer than two. */
    static double meanCorrelation(double[][] columns) {
        double sum = 0;
        int pairs = 0;
        for (int a = 0; a < columns.length; a++) {
            for (int b = a + 1; b < columns.length; b++) {
                sum += correlation(columns[a], columns[b]);
                pairs++;
            }
        }
        return pairs == 0 ? Double.NaN : sum / pairs;
    }

    private static double correlation(double[] x, double[] y) {
        double mx = 0;
        double my = 0;
        for (int i = 0; i < x.length; i++) {
            mx += x[i];
            my += y[i];
        }
        mx /= x.length;
        my /= y.length;
        double sxy = 0;
        double sxx = 0;
        double syy = 0;
        for (int i = 0; i < x.length; i++) {
            sxy += (x[i] - mx) * (y[i] - my);
            sxx += (x[i] - mx) * (x[i] - mx);
            syy += (y[i] - my) * (y[i] - my);
        }
        return sxy / Math.sqrt(sxx * syy);
    }

    private String summary(ReproductionScale scale, Map<String, String> figures) {
        StringBuilder s = new StringBuilder();
        s.append("# Reproduction at scale ").append(scale.name()).append("\n\n");
        s.append(String.format(Locale.ROOT, "This run took %s (earlier runs into the same folder may have trained"
                + " the models) on the data in %s.%n%n", Reports.clock(seconds()), data));
        s.append(String.format(Locale.ROOT, "Sizes: VQ-VAEs with 4x4 (K = %d) and 2x2 (K = %d) grids, D = %d, "
                + "channels %s and %s, %d residual blocks, %d epochs on %s training images; priors of %d gated layers,"
                + " %d channels, %d epochs; classifier %d epochs on %s training images; N = 2^0 .. 2^%d; BPD on %d "
                + "test images; %d samples per model; corner plots on %d test images.%n%n", scale.codebook4(),
                scale.codebook2(), scale.dim(), scale.channels4(), scale.channels2(), scale.resBlocks(),
                scale.vqvaeEpochs(), scale.trainLimit() == null ? "all" : scale.trainLimit(), scale.priorLayers(),
                scale.priorChannels(), scale.priorEpochs(), scale.classifierEpochs(),
                scale.classifierLimit() == null ? "all" : scale.classifierLimit(), scale.maxExponent(),
                scale.evalImages(), scale.samples(), scale.cornerImages()));
        figures.forEach((k, v) -> s.append("## ").append(k).append("\n\n").append(v).append("\n\n"));
        s.append("## Not produced\n\n");
        s.append("- Figure 1 (CDF of p(z) by enumerating the prior) needs the streamed enumeration of every grid.\n");
        s.append("- Figures 7 and 8 (categorical decoder) need categorical circuits: put them in DIR/circuits to join"
                + " Figure 3's inpainting grid.\n");
        s.append("- Figure 4 (samples) is not a separate figure here: Figure 5 classifies the samples.\n");
        return s.toString();
    }
}
