package io.vqdistill.cli.commands;

import io.vqdistill.api.FormatException;
import io.vqdistill.api.InvalidArgumentException;
import io.vqdistill.api.circuit.Circuit;
import io.vqdistill.api.circuit.Precision;
import io.vqdistill.api.model.Classifier;
import io.vqdistill.api.model.ImageShape;
import io.vqdistill.circuits.ShallowMixture;
import io.vqdistill.circuits.io.CircuitFiles;
import io.vqdistill.circuits.layered.LayeredSpec;
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
import io.vqdistill.cli.render.MassCurve;
import io.vqdistill.cli.render.ProgressBars;
import io.vqdistill.cli.render.Reports;
import io.vqdistill.cli.render.TrainingProgress;
import io.vqdistill.distill.eval.Sweep;
import io.vqdistill.distill.pipeline.CircuitEvaluation;
import io.vqdistill.distill.pipeline.CmCompilation;
import io.vqdistill.distill.pipeline.ComponentJoints;
import io.vqdistill.distill.pipeline.DistillationPipeline;
import io.vqdistill.distill.pipeline.DistillationRequest;
import io.vqdistill.distill.pipeline.EinetTraining;
import io.vqdistill.distill.pipeline.ExactEvaluation;
import io.vqdistill.distill.pipeline.Inpainting;
import io.vqdistill.distill.pipeline.Labelling;
import io.vqdistill.distill.pipeline.ModelTraining;
import io.vqdistill.distill.pipeline.PriorEnumeration;
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
import io.vqdistill.models.layout.CmLayout;
import io.vqdistill.models.layout.Parameter;
import io.vqdistill.models.layout.VqVaeLayout;
import io.vqdistill.models.train.ClassifierSpec;
import io.vqdistill.models.train.ClassifierTrainer;
import io.vqdistill.models.train.CmRule;
import io.vqdistill.models.train.CmRunner;
import io.vqdistill.models.train.CmSpec;
import io.vqdistill.models.train.CmTrainer;
import io.vqdistill.models.train.DecoderHead;
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
import java.util.Arrays;
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
 * is missing (VQ-VAEs with a 4x4 grid, Gaussian and categorical, and with a 2x2 grid for each of
 * {@code --seeds} training seeds, their priors, the image classifier, and the continuous-mixture
 * and Einsum-network baselines with both leaf families; a finished run is reused, a killed one
 * resumed), runs the experiments (sweeps of DMBS and DMRS over N, the exact models and the prior
 * enumerations of the 2x2 models, the baselines' test BPD, the mixtures the figures query) and
 * writes Figures 1, 2, 3, 5, 6, 7 and 8 as PNG with their data as CSV, and {@code summary.md}. An
 * experiment whose output exists is not repeated. Curves from elsewhere join Figure 2 (or Figure 7
 * when the file name holds "categorical") as CSV files (columns {@code parameters,bpd}, optionally
 * {@code label}) in {@code DIR/curves/}, and circuits from elsewhere join Figures 3 or 8 (by their
 * leaves) and 5 as circuit folders in {@code DIR/circuits/}.
 */
@Command(name = "reproduce", mixinStandardHelpOptions = true,
        description = "Reproduces the paper's figures at a chosen scale: trains what is missing under --dir (VQ-VAEs "
            + "with a 4x4 grid, Gaussian and categorical, and with a 2x2 grid for each of --seeds seeds, their priors, "
            + "the classifier, the continuous-mixture and Einsum-network baselines; finished runs are reused, killed "
            + "ones resumed), sweeps DMBS and DMRS over N, measures the exact models and enumerates the priors of the"
            + " 2x2 VQ-VAEs, and writes Figures 1, 2, 3, 5, 6, 7 and 8 as PNG and CSV with a summary.md. Extra "
            + "Figure 2 (7 if the name holds 'categorical') curves: CSV files (parameters,bpd[,label]) in "
            + "DIR/curves/; extra models for Figures 3/8 and 5: circuit folders in DIR/circuits/.")
public final class ReproduceCommand implements Callable<Integer> {
    /** The stages, for the progress lines. */
    private static final int STAGES = 9;
    /** The seed of every search, sample and inpainting. */
    private static final long SEED = 1;
    /** Samples drawn and classified at a time for Figure 5. */
    private static final int SAMPLE_BATCH = 500;
    /** The masks of the inpainting figure. */
    private static final List<Inpainting.Mask> MASKS = List.of(Inpainting.Mask.LEFT, Inpainting.Mask.RIGHT,
            Inpainting.Mask.TOP, Inpainting.Mask.BOTTOM, Inpainting.Mask.CENTRE);
    /** The baselines of the paper's Figures 2 and 7, by the name their curve files start with. */
    private static final List<Map.Entry<String, String>> BASELINES = List.of(Map.entry("cm",
            "continuous mixtures (CM)"), Map.entry("einet", "EinsumNetworks (EiNet)"));
    /** The two decoder heads: Gaussian leaves (Figures 2, 3) and categorical ones (Figures 7, 8). */
    private static final String GAUSSIAN = "gaussian";
    private static final String CATEGORICAL = "categorical";
    /** The mass levels Figure 1 marks. */
    private static final double[] LEVELS = {0.9, 0.99};
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

    @Option(names = "--seeds", paramLabel = "S",
            description = "independently trained 2x2 VQ-VAEs and priors (training seeds 1..S) that Figure 1 and the 2x2 "
                + "curves and ExM points of Figure 2 average (default: the scale's; tiny 2, small 3, paper 5 as in the "
                + "paper)")
    Integer seeds;

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

    /**
     * One VQ-VAE with its prior: {@code tag} names its files (grid, then "-categorical" for the
     * 256-way head, then "-seedS" for training seeds after the first).
     */
    private record Source(String tag, int grid, String head, int seed, Path vqvae, Path prior) {
        static Source of(Path dir, int grid, String head, int seed) {
            String tag = grid + "x" + grid + (head.equals(GAUSSIAN) ? "" : "-" + head) + (seed == 1 ? "" : "-seed" + seed);
            return new Source(tag, grid, head, seed, dir.resolve("models/vqvae-" + tag), dir.resolve("models/prior-"
                    + tag));
        }

        /** The name of its curves: the grid, and the head when categorical. */
        String curveTag() {
            return grid + "x" + grid + (head.equals(GAUSSIAN) ? "" : " " + head);
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

        int seedCount = seeds == null ? scale.seeds() : seeds;
        Flags.atLeastOne("--seeds", seedCount);
        DataSplit split = DataOptions.split(data, 0, scale.trainLimit(), "--scale");
        testSet = Mnist.load(data).test();
        ImageSet test = CircuitInput.first(testSet, Math.min(scale.evalImages(), testSet.size()), "--scale");
        Source four = Source.of(dir, 4, GAUSSIAN, 1);
        List<Source> twos = new ArrayList<>();
        for (int seed = 1; seed <= seedCount; seed++) {
            twos.add(Source.of(dir, 2, GAUSSIAN, seed));
        }
        Source categorical = Source.of(dir, 4, CATEGORICAL, 1);
        Path classifier = dir.resolve("models/classifier");

        stage(1, "VQ-VAEs and priors in " + dir.resolve("models") + " (2x2: " + seedCount + " seed"
                + (seedCount == 1 ? "" : "s") + "; 4x4 with Gaussian and with categorical decoders)");
        train(scale, split, four, scale.codebook4(), scale.channels4());
        for (Source two : twos) {
            train(scale, split, two, scale.codebook2(), scale.channels2());
        }
        train(scale, split, categorical, scale.codebook4(), scale.channels4());
        stage(2, "classifier in " + classifier);
        DataSplit classifierData = DataOptions.split(data, 0, scale.classifierLimit(), "--scale");
        try (Session session = sessions.open(backendOptions.choice(ClassifierTrainer.class))) {
            Reports.trainingOn(w, session.backend(), classifierData);
            Reports.trained(w, ModelTraining.classifier(session, ClassifierSpec.defaults(ImageShape.MNIST,
                    classifierData.train().numClasses()), training(1e-3, scale.classifierEpochs(), scale, 1),
                    classifierData, classifier, new TrainingProgress(w, bars)));
        }
        stage(3, "baselines: continuous mixtures and Einsum networks, Gaussian and categorical, into "
                + dir.resolve("curves") + " and " + dir.resolve("circuits"));
        List<Double> cmSizes = new ArrayList<>();
        for (String head : List.of(GAUSSIAN, CATEGORICAL)) {
            cmSizes.add((double) continuousMixture(scale, split, test, head));
            einet(scale, split, test, head);
        }

        Map<String, String> summary = new LinkedHashMap<>();
        try (Session session = sessions.open(backendOptions.choice(ModelLoader.class))) {
            stage(4, "sweeps of DMBS and DMRS over N = 2^0 .. 2^" + scale.maxExponent() + " (categorical: 2^"
                    + scale.maxExponent(CATEGORICAL) + ") on " + test.size() + " test images");
            List<Charts.Curve> curves = new ArrayList<>();
            for (String search : List.of("beam", "random")) {
                curves.add(sweep(session, List.of(four), search, scale, test));
                curves.add(sweep(session, twos, search, scale, test));
            }
            List<Charts.Curve> categoricalCurves = List.of(sweep(session, List.of(categorical), "beam", scale, test),
                    sweep(session, List.of(categorical), "random", scale, test));
            stage(5, "exact models of the 2x2 VQ-VAEs");
            List<CsvTable> exact = new ArrayList<>();
            for (Source two : twos) {
                CsvTable e = exact(session, two, scale, test);
                if (e != null) {
                    exact.add(e);
                }
            }
            if (!exact.isEmpty()) {
                curves.add(averaged("ExM " + twos.get(0).curveTag(), exact, false));
            }
            stage(6, "enumeration of every grid of the 2x2 priors into " + dir.resolve("enumeration"));
            List<Path> histograms = new ArrayList<>();
            for (Source two : twos) {
                Path h = enumerate(session, two, scale);
                if (h != null) {
                    histograms.add(h);
                }
            }
            stage(7, "mixtures for the sample, corner and inpainting figures");
            for (Source s : List.of(four, categorical)) {
                int n = 1 << scale.maxExponent(s.head());
                mixture(session, s, "beam", n, dir.resolve("circuits/dmbs-" + s.tag()));
                mixture(session, s, "random", n, dir.resolve("circuits/dmrs-" + s.tag()));
            }
            Source two = twos.get(0);
            Path cornerRandom = dir.resolve("corner/dmrs-" + two.tag() + "-4");
            Path cornerTop = dir.resolve("corner/top-" + two.tag() + "-4");
            mixture(session, two, "random", 4, cornerRandom);
            mixture(session, two, "top", 4, cornerTop);

            stage(8, "figures in " + dir.resolve("figures"));
            summary.put("Figure 1", figure1(histograms, two, scale));
            List<Double> sizes = new ArrayList<>(vqvaeSizes(List.of(four, two)));
            sizes.add(cmSizes.get(0));
            summary.put("Figure 2", bpdFigure("figure2-bpd", "Figure 2: test BPD against model size (Gaussian leaves; "
                    + "dotted: source VQ-VAE and CM decoder sizes)", curves, false, List.of(four, two), sizes));
            List<Double> categoricalSizes = new ArrayList<>(vqvaeSizes(List.of(categorical)));
            categoricalSizes.add(cmSizes.get(1));
            summary.put("Figure 7", bpdFigure("figure7-bpd", "Figure 7: test BPD against model size (categorical "
                    + "leaves, no +8; dotted: source VQ-VAE and CM decoder sizes)", categoricalCurves, true,
                    List.of(categorical), categoricalSizes));
            summary.put("Figure 3", inpainting(session, scale, GAUSSIAN, "figure3-inpainting"));
            summary.put("Figure 8", inpainting(session, scale, CATEGORICAL, "figure8-inpainting"));
            summary.put("Figure 5", figure5(session, classifier, scale));
            summary.put("Figure 6", figure6(session, cornerRandom, cornerTop, scale));
        }
        stage(9, "summary");
        Path md = dir.resolve("summary.md");
        AtomicFiles.writeString(md, summary(scale, seedCount, summary));
        w.printf(Locale.ROOT, "reproduce done in %s; wrote %s%n", Reports.clock(seconds()), md);
        w.flush();
        return 0;
    }

    private void createFolders() {
        try {
            for (String f : List.of("models", "sweeps", "exact", "enumeration", "baselines", "circuits", "corner",
                    "curves", "figures")) {
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

    /** A training of {@code epochs} at the scale's batch size, seeded by the {@code seed}-th training seed. */
    private static TrainingSpec training(double learningRate, int epochs, ReproductionScale scale, int seed) {
        return new TrainingSpec(learningRate, scale.batch(), epochs, OptimisationOptions.DEFAULT_PATIENCE,
                OptimisationOptions.DEFAULT_SEED + seed - 1);
    }

    /** Trains (or reuses, or resumes) the VQ-VAE and prior of {@code s}. */
    private void train(ReproductionScale scale, DataSplit split, Source s, int codebook, List<Integer> channels) {
        VqVaeSpec model = NetworkSpecs.vqVae(s.grid(), codebook, scale.dim(), channels, scale.resBlocks(), s.head(),
                null);
        try (Session session = sessions.open(backendOptions.choice(VqVaeTrainer.class))) {
            Reports.trainingOn(w, session.backend(), split);
            Reports.trained(w, ModelTraining.vqVae(session, model, training(1e-3, scale.vqvaeEpochs(), scale, s.seed()), split,
                    s.vqvae(), new TrainingProgress(w, bars)));
        }
        try (Session session = sessions.open(backendOptions.choice(PriorTrainer.class))) {
            Reports.trained(w, ModelTraining.prior(session, NetworkSpecs.prior(s.vqvae(), split, scale.priorLayers(),
                    scale.priorChannels(), scale.priorHeadHidden(), 7, 3), training(3e-4, scale.priorEpochs(), scale, s.seed()),
                    s.vqvae(), split, s.prior(), new TrainingProgress(w, bars)));
        }
    }

    /**
     * The sweeps of {@code search} on each of {@code sources} (each reused when its CSV exists), as one
     * curve named after the search (DMBS, DMRS) and the grid, averaged over the sources.
     */
    private Charts.Curve sweep(Session session, List<Source> sources, String search, ReproductionScale scale,
            ImageSet test) {
        String label = search.equals("beam") ? "DMBS" : "DMRS";
        List<CsvTable> tables = new ArrayList<>();
        for (Source s : sources) {
            Path out = dir.resolve("sweeps/" + label.toLowerCase(Locale.ROOT) + "-" + s.tag());
            Path csv = out.resolve(SweepPipeline.CSV);
            if (Files.isRegularFile(csv)) {
                w.println("reusing " + csv);
            } else {
                sweeps.run(session, new SweepRequest(s.vqvae(), s.prior(), search, false, true, SearchTuning.NONE, SEED,
                        scale.maxExponent(s.head()), Sweep.Mode.PREFIXES, WeightingKind.UNIFORM, null, Precision.FAST, out),
                        test, new SweepPipeline.Listener() {
                            @Override
                            public void measured(Sweep.Row r) {
                                bars.println(w, String.format(Locale.ROOT, "%s %s N = %6d: %,12d parameters, %.4f "
                                        + "bits/dim", label, s.tag(), r.components(), r.parameters(), r.bitsPerDim()));
                            }
                        }, bars);
            }
            tables.add(CsvTable.read(csv));
        }
        return averaged(label + " " + sources.get(0).curveTag(), tables, true);
    }

    /**
     * One curve of the tables of independently trained models (columns parameters and bpd, optionally
     * label; row i of each table the same model size): the mean of each row's parameters and bits per
     * dimension, with the sample standard deviation of the bits per dimension where there are two
     * tables or more. Rows beyond the shortest table are left out.
     */
    static Charts.Curve averaged(String name, List<CsvTable> tables, boolean line) {
        List<Charts.Curve> each = new ArrayList<>();
        for (CsvTable t : tables) {
            each.add(curve(name, t, line));
        }
        if (each.size() == 1) {
            return each.get(0);
        }
        int rows = each.stream().mapToInt(c -> c.bpd().length).min().orElseThrow();
        double[] parameters = new double[rows];
        double[] mean = new double[rows];
        double[] std = new double[rows];
        for (int i = 0; i < rows; i++) {
            double[] values = new double[each.size()];
            for (int k = 0; k < values.length; k++) {
                parameters[i] += each.get(k).parameters()[i] / values.length;
                values[k] = each.get(k).bpd()[i];
            }
            mean[i] = mean(values);
            std[i] = std(values);
        }
        String[] labels = each.get(0).labels() == null ? null : Arrays.copyOf(each.get(0).labels(), rows);
        return new Charts.Curve(name + " (mean ± std of " + each.size() + ")", parameters, mean, std, labels, line);
    }

    private static double mean(double[] values) {
        double sum = 0;
        for (double v : values) {
            sum += v;
        }
        return sum / values.length;
    }

    /** The sample standard deviation; 0 for a single value. */
    private static double std(double[] values) {
        if (values.length < 2) {
            return 0;
        }
        double m = mean(values);
        double sum = 0;
        for (double v : values) {
            sum += (v - m) * (v - m);
        }
        return Math.sqrt(sum / (values.length - 1));
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
        return new Charts.Curve(name, params, bpd, null, labels, line);
    }

    /** K^(grid^2) for the 2x2 VQ-VAEs, the grids the exact model sums and the enumeration scores. */
    private static long grids(Source s, ReproductionScale scale) {
        long grids = 1;
        for (int i = 0; i < s.grid() * s.grid(); i++) {
            grids *= scale.codebook2();
        }
        return grids;
    }

    /**
     * The exact model of {@code s} where its grids are few enough, as a one-row table (label,
     * grids, parameters, bpd, seconds); null otherwise.
     */
    private CsvTable exact(Session session, Source s, ReproductionScale scale, ImageSet test) {
        Path csv = dir.resolve("exact/exact-" + s.tag() + ".csv");
        long grids = grids(s, scale);
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
        return CsvTable.read(csv);
    }

    /**
     * The histogram of log p(z) over every grid of the prior of {@code s} ({@link PriorEnumeration}),
     * written as CSV unless it exists; null when the grids are too many for one process.
     */
    private Path enumerate(Session session, Source s, ReproductionScale scale) {
        Path csv = dir.resolve("enumeration/prior-" + s.tag() + ".csv");
        long grids = grids(s, scale);
        if (grids > PriorEnumeration.MAX_GRIDS) {
            w.printf("the prior of %s with K = %d has %,d grids, more than %,d: not enumerated here (the spark module"
                    + " enumerates larger ones)%n", s.tag(), scale.codebook2(), grids, PriorEnumeration.MAX_GRIDS);
            return null;
        }
        if (Files.isRegularFile(csv)) {
            w.println("reusing " + csv);
        } else {
            PriorEnumeration e = PriorEnumeration.run(session, s.prior(), PriorEnumeration.DEFAULT_CHUNK,
                    PriorEnumeration.DEFAULT_BIN_WIDTH, PriorEnumeration.DEFAULT_BINS, bars);
            e.histogram().writeCsv(csv);
            Reports.enumerated(w, e);
        }
        return csv;
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

    /**
     * The continuous-mixture baseline with {@code head} leaves: trains it (or reuses, or resumes) in
     * DIR/models/cm-HEAD on the VQ-VAEs' images, compiles it at M = 2^0, 2^2, ... up to the sweeps'
     * largest N (the largest into DIR/circuits/cm-HEAD, the others into DIR/baselines) and writes their
     * test BPD against their parameter counts as the curve DIR/curves/cm-HEAD.csv, unless it exists.
     *
     * @return the decoder's trainable parameters, the size the paper marks for the continuous mixtures
     */
    private long continuousMixture(ReproductionScale scale, DataSplit split, ImageSet test, String head) {
        ReproductionScale.Baselines b = scale.baselines();
        String name = "cm-" + head;
        Path checkpoint = dir.resolve("models/" + name);
        Path csv = dir.resolve("curves/" + name + ".csv");
        CmSpec spec = new CmSpec(split.train().shape(), b.cmLatentDim(), b.cmHidden(),
                Flags.choice(DecoderHead.class, head, "--head"), head.equals(CATEGORICAL) ? b.cmCategoricalPoints()
                : b.cmPoints(), CmRule.TOP1);
        try (Session session = sessions.open(backendOptions.choice(CmTrainer.class))) {
            Reports.trained(w, ModelTraining.cm(session, spec, training(1e-3, head.equals(CATEGORICAL)
                    ? b.cmCategoricalEpochs() : b.cmEpochs(), scale, 1), split, checkpoint, new TrainingProgress(w,
                    bars)));
            if (Files.isRegularFile(csv)) {
                w.println("reusing " + csv);
            } else {
                CsvTable t = CsvTable.of("label", "points", "parameters", "bpd");
                int top = scale.maxExponent(head);
                for (int e = 0; e <= top; e += 2) {
                    int m = 1 << e;
                    Path out = e + 2 > top ? dir.resolve("circuits/" + name)
                            : dir.resolve("baselines/" + name + "-" + m);
                    if (!CircuitFiles.exists(out)) {
                        Reports.compiled(w, CmCompilation.compile(session, checkpoint, m, CmRunner.TEST_SHIFT, out,
                                bars));
                    }
                    CircuitEvaluation r = CircuitEvaluation.of(session.circuit(out), test,
                            CircuitEvaluation.DEFAULT_SEED, Precision.FAST, bars);
                    Reports.evaluated(w, "test", r);
                    t = t.with("M=" + m, m, r.parameters(), r.bitsPerDim());
                }
                t.write(csv);
            }
        }
        return new CmLayout(spec).trainable().stream().mapToLong(Parameter::size).sum();
    }

    /**
     * The Einsum-network baseline with {@code head} leaves: trains it (or reuses, or resumes) into
     * DIR/circuits/einet-HEAD on the VQ-VAEs' images and writes its test BPD and parameter count as
     * the one-point curve DIR/curves/einet-HEAD.csv, unless it exists.
     */
    private void einet(ReproductionScale scale, DataSplit split, ImageSet test, String head) {
        ReproductionScale.Baselines b = scale.baselines();
        String name = "einet-" + head;
        Path out = dir.resolve("circuits/" + name);
        Path csv = dir.resolve("curves/" + name + ".csv");
        ImageShape image = split.train().shape();
        EinetTraining.Spec spec = new EinetTraining.Spec(new LayeredSpec(image.height(), image.width(),
                b.einetPieces().stream().mapToInt(Integer::intValue).toArray(), b.einetLeaves(), b.einetSums()), head,
                EinetTraining.DEFAULT_MIN_STD, EinetTraining.DEFAULT_MAX_STD, EinetTraining.DEFAULT_PSEUDO_COUNT,
                scale.batch(), b.einetEmFrequency(), EinetTraining.DEFAULT_EM_STEP, b.einetEpochs(),
                OptimisationOptions.DEFAULT_PATIENCE, OptimisationOptions.DEFAULT_SEED);
        try (Session session = sessions.open(backendOptions.choice())) {
            w.println(spec.describe());
            Reports.trained(w, EinetTraining.train(session.backend(), spec, split, out, new TrainingProgress(w, bars)));
            if (Files.isRegularFile(csv)) {
                w.println("reusing " + csv);
            } else {
                CircuitEvaluation r = CircuitEvaluation.of(session.circuit(out), test, CircuitEvaluation.DEFAULT_SEED,
                        Precision.FAST, bars);
                Reports.evaluated(w, "test", r);
                CsvTable.of("label", "parameters", "bpd").with("EiNet", r.parameters(), r.bitsPerDim()).write(csv);
            }
        }
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

    /** The trainable parameters of each source's VQ-VAE. */
    private List<Double> vqvaeSizes(List<Source> sources) {
        List<Double> sizes = new ArrayList<>();
        for (Source s : sources) {
            VqVaeSpec vq = NetworkSpecs.requireVqVae("--dir", s.vqvae());
            sizes.add((double) new VqVaeLayout(vq).trainable().stream().mapToLong(Parameter::size).sum());
        }
        return sizes;
    }

    /**
     * Figure 1: the share of the prior's mass held by the most probable grids, F against the share of
     * the grids, from the enumeration histograms of the 2x2 priors (mean and standard deviation over
     * them), beside the uniform prior's diagonal, with red lines where the mean reaches 90% and 99%.
     */
    private String figure1(List<Path> histograms, Source two, ReproductionScale scale) {
        if (histograms.isEmpty()) {
            return "not drawn: the 2x2 priors have too many grids to enumerate in one process.";
        }
        List<MassCurve> curves = new ArrayList<>();
        for (Path h : histograms) {
            curves.add(MassCurve.read(h));
        }
        MassCurve.Average a = MassCurve.average(curves);
        double[][] reach = new double[LEVELS.length][curves.size()];
        for (int l = 0; l < LEVELS.length; l++) {
            for (int k = 0; k < curves.size(); k++) {
                reach[l][k] = curves.get(k).reach(LEVELS[l]);
            }
        }
        double[] marks = new double[LEVELS.length];
        for (int l = 0; l < LEVELS.length; l++) {
            marks[l] = a.reach(LEVELS[l]);
        }
        CsvTable t = CsvTable.of("grid_fraction", "pixelcnn_mean", "pixelcnn_std", "uniform");
        for (int i = 0; i < a.fractions().length; i++) {
            t = t.with(a.fractions()[i], a.mean()[i], a.std()[i], a.fractions()[i]);
        }
        t.write(figure("figure1-cdf.csv"));
        CsvTable levels = CsvTable.of("level", "prior", "grid_fraction");
        for (int l = 0; l < LEVELS.length; l++) {
            for (int k = 0; k < curves.size(); k++) {
                levels = levels.with(LEVELS[l], histograms.get(k).getFileName().toString().replaceFirst("\\.csv$",
                        ""), reach[l][k]);
            }
            levels = levels.with(LEVELS[l], "mean curve", marks[l]);
        }
        levels.write(figure("figure1-levels.csv"));
        long grids = grids(two, scale);
        Charts.writePng(Charts.massCurve(String.format(Locale.ROOT, "Figure 1: CDF of p(z) over the %,d grids of the "
                + "2x2 prior (K = %d), most probable first; %d model%s", grids, scale.codebook2(), curves.size(),
                curves.size() == 1 ? "" : "s"), a.fractions(), a.mean(), a.std(), LEVELS, marks),
                figure("figure1-cdf.png"));
        w.println("wrote " + figure("figure1-cdf.png"));
        StringBuilder s = new StringBuilder(String.format(Locale.ROOT, "figures/figure1-cdf.png, figure1-cdf.csv, "
                + "figure1-levels.csv: %d PixelCNN prior%s over all %,d grids (K = %d), against the uniform prior.",
                curves.size(), curves.size() == 1 ? "" : "s", grids, scale.codebook2()));
        for (int l = 0; l < LEVELS.length; l++) {
            s.append(String.format(Locale.ROOT, "%n- %.0f%% of the mass in the most probable %.2f%% ± %.2f%% of the "
                    + "grids (mean ± std over the priors; the uniform prior needs %.0f%%)", 100 * LEVELS[l],
                    100 * mean(reach[l]), 100 * std(reach[l]), 100 * LEVELS[l]));
        }
        return s.toString();
    }

    /**
     * Figure 2 (Gaussian leaves) or 7 (categorical): BPD against parameters for {@code own} curves and
     * the curve files of DIR/curves/ of the same leaves (a file whose name holds "categorical" is of
     * categorical leaves), with dotted lines at {@code sizes}.
     */
    private String bpdFigure(String stem, String title, List<Charts.Curve> own, boolean categorical,
            List<Source> sources, List<Double> sizes) {
        List<Charts.Curve> curves = new ArrayList<>(own);
        List<String> extra = new ArrayList<>();
        try (Stream<Path> s = Files.list(dir.resolve("curves"))) {
            for (Path f : s.filter(p -> p.getFileName().toString().endsWith(".csv")).sorted().toList()) {
                String name = f.getFileName().toString().replaceFirst("\\.csv$", "");
                if (name.toLowerCase(Locale.ROOT).contains(CATEGORICAL) == categorical) {
                    curves.add(curve(name, CsvTable.read(f), true));
                    extra.add(name.toLowerCase(Locale.ROOT));
                }
            }
        } catch (IOException e) {
            throw new InvalidArgumentException(dir.resolve("curves") + ": cannot list: " + e.getMessage(), e);
        }
        List<Double> vqvae = vqvaeSizes(sources);
        CsvTable marks = CsvTable.of("model", "parameters");
        for (int i = 0; i < sizes.size(); i++) {
            marks = marks.with(i < sources.size() ? "VQ-VAE " + sources.get(i).tag() + " K="
                    + NetworkSpecs.requireVqVae("--dir", sources.get(i).vqvae()).latent().codebookSize()
                    : "CM decoder", sizes.get(i).longValue());
        }
        CsvTable data = CsvTable.of("curve", "parameters", "bpd", "bpd_std", "label");
        for (Charts.Curve c : curves) {
            for (int i = 0; i < c.parameters().length; i++) {
                data = data.with(c.name(), (long) c.parameters()[i], c.bpd()[i], c.std() == null ? "" : c.std()[i],
                        c.labels() == null ? "" : c.labels()[i]);
            }
        }
        data.write(figure(stem + ".csv"));
        marks.write(figure(stem + "-sizes.csv"));
        Charts.writePng(Charts.bpdOverlay(title, curves, sizes), figure(stem + ".png"));
        List<String> missing = new ArrayList<>();
        for (Map.Entry<String, String> b : BASELINES) {
            if (extra.stream().noneMatch(n -> n.startsWith(b.getKey()))) {
                missing.add(b.getValue());
            }
        }
        StringBuilder s = new StringBuilder(String.format(Locale.ROOT, "figures/%s.png, %s.csv, %s-sizes.csv (the "
                + "dotted lines: %s).", stem, stem, stem, vqvae.size() == sizes.size() ? "VQ-VAE sizes"
                : "VQ-VAE sizes, then the CM decoder's"));
        for (Charts.Curve c : curves) {
            int at = 0;
            for (int i = 0; i < c.bpd().length; i++) {
                if (c.bpd()[i] < c.bpd()[at]) {
                    at = i;
                }
            }
            s.append(String.format(Locale.ROOT, "%n- %s: lowest %.4f%s bits/dim at %,d parameters", c.name(),
                    c.bpd()[at], c.std() == null ? "" : String.format(Locale.ROOT, " ± %.4f", c.std()[at]),
                    (long) c.parameters()[at]));
        }
        if (!missing.isEmpty()) {
            s.append("\n- missing curves: ").append(String.join(", ", missing)).append(String.format(Locale.ROOT,
                    " (add them as DIR/curves/cm*%1$s.csv, einet*%1$s.csv with columns parameters,bpd)",
                    categorical ? "-categorical" : ""));
        }
        w.println("wrote " + figure(stem + ".png"));
        return s.toString();
    }

    /**
     * Figure 3 (the circuits of DIR/circuits with Gaussian leaves) or 8 (categorical leaves): every
     * circuit inpaints the same test images under each mask.
     */
    private String inpainting(Session session, ReproductionScale scale, String head, String stem) {
        List<Path> models = circuits().stream().filter(p -> session.circuit(p).leafFamily().name().equals(head))
                .toList();
        if (models.isEmpty()) {
            return "not drawn: no circuit with " + head + " leaves in " + dir.resolve("circuits") + ".";
        }
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
        grid.write(figure(stem + ".png"));
        rows.write(figure(stem + ".csv"));
        w.println("wrote " + figure(stem + ".png"));
        StringBuilder s = new StringBuilder(String.format(Locale.ROOT, "figures/" + stem + ".png, "
                + stem + ".csv: " + head + " leaves; row 1 the originals, then one row per model (%s); columns: masks %s, %d "
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
                Circuit circuit = session.circuit(p);
                Sampling.Draw draw = circuit instanceof ShallowMixture ? Sampling.Draw.MEANS : Sampling.Draw.PIXELS;
                long[] counts = new long[classes];
                // in batches: drawing pixels from categorical leaves holds 784 x 256 probabilities per sample
                for (int from = 0, batch = 0; from < scale.samples(); from += SAMPLE_BATCH, batch++) {
                    Sampling samples = Sampling.draw(circuit, Math.min(SAMPLE_BATCH, scale.samples() - from),
                            SEED + batch, draw);
                    long[] h = Labelling.histogram(Labelling.predict(session.backend(), classifier, samples), classes);
                    for (int c = 0; c < classes; c++) {
                        counts[c] += h[c];
                    }
                }
                series.put(name + " samples", counts);
                s.append(String.format(Locale.ROOT, "%n- %s: %,d samples (%s); %s", name, scale.samples(),
                        draw == Sampling.Draw.MEANS ? "component means" : "pixels drawn", spread(counts)));
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

    private String summary(ReproductionScale scale, int seedCount, Map<String, String> figures) {
        StringBuilder s = new StringBuilder();
        s.append("# Reproduction at scale ").append(scale.name()).append("\n\n");
        s.append(String.format(Locale.ROOT, "This run took %s (earlier runs into the same folder may have trained"
                + " the models) on the data in %s.%n%n", Reports.clock(seconds()), data));
        s.append(String.format(Locale.ROOT, "Sizes: VQ-VAEs with 4x4 (K = %d) and 2x2 (K = %d) grids, D = %d, "
                + "channels %s and %s, %d residual blocks, %d epochs on %s training images; priors of %d gated layers,"
                + " %d channels, %d epochs; classifier %d epochs on %s training images; N = 2^0 .. 2^%d; BPD on %d "
                + "test images; %d samples per model; corner plots on %d test images.%n%n"
                + "The 2x2 VQ-VAE and prior trained with %d seed%s (Figure 1 and the 2x2 curves of Figure 2 average "
                + "them); the 4x4 VQ-VAE and prior of Figures 7 and 8 as the Gaussian 4x4 ones but with the 256-way "
                + "head. Baselines on the same images: continuous mixtures (decoder %s, d = %d, %d training points "
                + "(categorical: %d), "
                + "top-1 rule, %d epochs (categorical: %d)) compiled at every M = 4^i up to 2^%d (categorical: 2^%d), Einsum networks "
                + "(pieces %s, %d leaves, %d sums per region, %d epochs of EM).%n%n", scale.codebook4(),
                scale.codebook2(), scale.dim(), scale.channels4(), scale.channels2(), scale.resBlocks(),
                scale.vqvaeEpochs(), scale.trainLimit() == null ? "all" : scale.trainLimit(), scale.priorLayers(),
                scale.priorChannels(), scale.priorEpochs(), scale.classifierEpochs(),
                scale.classifierLimit() == null ? "all" : scale.classifierLimit(), scale.maxExponent(),
                scale.evalImages(), scale.samples(), scale.cornerImages(), seedCount, seedCount == 1 ? "" : "s",
                scale.baselines().cmHidden(), scale.baselines().cmLatentDim(), scale.baselines().cmPoints(),
                scale.baselines().cmCategoricalPoints(),
                scale.baselines().cmEpochs(), scale.baselines().cmCategoricalEpochs(), scale.maxExponent(),
                scale.maxExponent(CATEGORICAL),
                scale.baselines().einetPieces(),
                scale.baselines().einetLeaves(), scale.baselines().einetSums(), scale.baselines().einetEpochs()));
        figures.forEach((k, v) -> s.append("## ").append(k).append("\n\n").append(v).append("\n\n"));
        s.append("## Not produced\n\n");
        s.append("- Figure 4 (samples) is not a separate figure here: Figure 5 classifies the samples.\n");
        return s.toString();
    }
}
